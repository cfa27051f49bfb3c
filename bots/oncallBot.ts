import { DateTime } from "luxon";
import { UnknownServiceError, type OnCallService } from "../appservice/oncall/oncallService.js";
import { CommandError, CommandTable, type Command } from "./commands.js";

export const ONCALL_BOT = { name: "oncall", displayName: "Rounds On-Call" };

function formatUntil(until: Date, timezone: string): string {
  return DateTime.fromJSDate(until, { zone: timezone }).toFormat("ccc d LLL HH:mm");
}

/** The on-call bot's commands: thin translations onto OnCallService. */
export function oncallCommands(oncall: OnCallService, more: Command[] = []): CommandTable {
  return new CommandTable(
    "oncall",
    "I am the Rounds on-call bot. I tell you who is on call, and I page them for you, escalating until someone acknowledges.",
    [
      {
        verb: "oncall",
        usage: "!oncall <service>",
        summary: "Who is on call now for a service, and the backup",
        async run(ctx, args) {
          const query = args.join(" ");
          if (!query) throw new CommandError("missing service", "Usage: !oncall <service>, for example !oncall cardiology. Send !help for more.");
          let answer;
          try {
            answer = await oncall.whoIsOnCall(query, ctx.sentAt);
          } catch (err) {
            if (!(err instanceof UnknownServiceError)) throw err;
            const known = err.known.map((s) => `${s.id} (${s.name})`).join(", ");
            throw new CommandError(
              `unknown service`,
              known
                ? `I don't know a service called "${query}". Known services: ${known}.`
                : `No on-call services are set up yet. A coordinator can import a schedule with: npm run rounds -- schedule import <file.yaml>`,
            );
          }
          const { service, levels } = answer;
          if (levels.length === 0) {
            return `Nobody is scheduled on call for ${service.name} right now: the schedule has a gap. Contact the switchboard and tell the on-call coordinator.`;
          }
          const lines = levels.map(
            (l) =>
              `${l.level}: ${l.displayName === l.userId ? l.userId : `${l.displayName} (${l.userId})`} until ${formatUntil(l.until, service.timezone)}`,
          );
          return `On call for ${service.name} now (times ${service.timezone}):\n${lines.join("\n")}`;
        },
      },
      ...more,
    ],
  );
}
