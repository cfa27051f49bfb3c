import { DateTime } from "luxon";
import { UnknownServiceError, type OnCallService } from "../appservice/oncall/oncallService.js";
import type { SwapService } from "../appservice/oncall/swapService.js";
import type { SwapRequest } from "../appservice/oncall/swapStore.js";
import { quote } from "../appservice/shared/quote.js";
import { CommandError, subCommandLine, type BotCommands, type Command, type CommandContext, type SubCommand, type SubCommandSet } from "./commands.js";

function formatUntil(until: Date, timezone: string): string {
  return DateTime.fromJSDate(until, { zone: timezone }).toFormat("ccc d LLL HH:mm");
}

const ONCALL_USAGE = "!oncall <service> [at <time>]";
const ONCALL_EXAMPLES = "for example !oncall cardiology or !oncall cardiology at 20:00 (also 'at tomorrow 08:00' or 'at 2026-12-24 18:00'). Send !help for more.";
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]?\d|2[0-3]):[0-5]\d$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/;

/** Whether tokens[i] begins a time expression. */
function startsTime(token: string | undefined): boolean {
  if (!token) return false;
  const t = token.toLowerCase();
  return DATE.test(t) || TIME.test(t) || DATE_TIME.test(token) || t === "today" || t === "tomorrow";
}

/**
 * Reads one time expression at tokens[i] in the zone: `HH:MM` (the next such time after `after`),
 * `today|tomorrow HH:MM`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM`. Returns the instant and the
 * index after it, or null when malformed.
 */
export function readTime(tokens: string[], i: number, zone: string, after: DateTime): { at: DateTime; next: number } | null {
  const first = tokens[i]?.toLowerCase();
  if (!first) return null;
  const at = (day: DateTime, hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    const d = day.set({ hour: h!, minute: m!, second: 0, millisecond: 0 });
    return d.isValid && d.hour === h && d.minute === m ? d : null;
  };
  const today = after.setZone(zone).startOf("day");
  if (TIME.test(first)) {
    let d = at(today, first);
    if (d && d < after) d = at(today.plus({ days: 1 }), first);
    return d ? { at: d, next: i + 1 } : null;
  }
  if (DATE_TIME.test(tokens[i]!)) {
    const [date, time] = tokens[i]!.split("T");
    const d = at(DateTime.fromISO(date!, { zone }), time!);
    return d ? { at: d, next: i + 1 } : null;
  }
  const time = tokens[i + 1];
  if (!time || !TIME.test(time)) return null;
  let day: DateTime | null = null;
  if (first === "today") day = today;
  else if (first === "tomorrow") day = today.plus({ days: 1 });
  else if (DATE.test(first)) day = DateTime.fromISO(first, { zone });
  const d = day?.isValid ? at(day, time) : null;
  return d ? { at: d, next: i + 2 } : null;
}

function fmtSwap(s: SwapRequest, me: string, names: Map<string, { name: string; timezone: string }>): string {
  const svc = names.get(s.serviceId) ?? { name: s.serviceId, timezone: "UTC" };
  const span = `${formatUntil(s.from, svc.timezone)} to ${formatUntil(s.until, svc.timezone)}`;
  const ret = s.returnSlot ? `, in return for ${s.returnSlot.level} ${formatUntil(s.returnSlot.from, svc.timezone)} to ${formatUntil(s.returnSlot.until, svc.timezone)}` : "";
  return s.requester === me
    ? `#${s.id}: you asked ${s.counterpart} to cover ${svc.name} ${s.level} ${span}${ret} (waiting for them)`
    : `#${s.id}: ${s.requester} asks you to cover ${svc.name} ${s.level} ${span}${ret} (!swap accept ${s.id} or !swap decline ${s.id})`;
}

function swapId(arg: string | undefined, verb: string): number {
  if (!arg || !/^#?\d{1,12}$/.test(arg)) throw new CommandError(`bad swap id`, `Usage: !swap ${verb} <id>, with the number from !swap list (e.g. !swap ${verb} 12).`);
  return Number(arg.replace("#", ""));
}

/**
 * The on-call bot's schedule commands: who is on call, my shifts, and shift swaps. Thin
 * translations onto OnCallService and SwapService; typed domain errors become plain replies.
 */
export function scheduleCommands(oncall: OnCallService, swaps: SwapService): BotCommands {
  const oncallCommand: Command = {
    verb: "oncall",
    usage: ONCALL_USAGE,
    summary: "Who is on call for a service now (or at a time), and the backup",
    async run(ctx, args) {
      const atIndex = args.map((a) => a.toLowerCase()).lastIndexOf("at");
      const query = (atIndex >= 0 ? args.slice(0, atIndex) : args).join(" ");
      if (!query) throw new CommandError("missing service", "Usage: !oncall <service>, for example !oncall cardiology. Send !help for more.");
      let when = ctx.sentAt;
      if (atIndex >= 0) {
        const svc = await oncall.serviceInfo(query);
        const t = readTime(args, atIndex + 1, svc.timezone, DateTime.fromJSDate(ctx.sentAt, { zone: svc.timezone }));
        if (!t || t.next !== args.length) throw new CommandError("bad time", `I couldn't read the time "${quote(args.slice(atIndex + 1).join(" "))}". Usage: ${ONCALL_USAGE}, ${ONCALL_EXAMPLES}`);
        when = t.at.toJSDate();
      }
      const { service, levels } = await oncall.whoIsOnCall(query, when);
      const moment = atIndex >= 0 ? `at ${formatUntil(when, service.timezone)}` : "right now";
      if (levels.length === 0) {
        return `Nobody is scheduled on call for ${service.name} ${moment}: the schedule has a gap. Contact the switchboard and tell the on-call coordinator.`;
      }
      const lines = levels.map(
        (l) => `${l.level}: ${l.displayName === l.userId ? l.userId : `${l.displayName} (${l.userId})`} until ${formatUntil(l.until, service.timezone)}`,
      );
      const head = atIndex >= 0 ? `On call for ${service.name} ${moment}` : `On call for ${service.name} now`;
      return `${head} (times ${service.timezone}):\n${lines.join("\n")}`;
    },
  };

  const myshifts: Command = {
    verb: "myshifts",
    usage: "!myshifts [days]",
    summary: "Your on-call shifts in the next 14 days (or the number of days you give, up to 90)",
    async run(ctx, args) {
      const days = args[0] === undefined ? 14 : Number(args[0]);
      if (!Number.isInteger(days) || days < 1 || days > 90 || args.length > 1) {
        throw new CommandError("bad days", "Usage: !myshifts [days], for example !myshifts or !myshifts 28 (1 to 90 days).");
      }
      const from = ctx.sentAt;
      const shifts = await oncall.shiftsFor(ctx.sender, from, new Date(from.getTime() + days * 86_400_000));
      if (shifts.length === 0) return `You have no on-call shifts in the next ${days} days.`;
      const lines = shifts.map((s) => `${s.serviceName} ${s.level}: ${formatUntil(s.from, s.timezone)} to ${formatUntil(s.until, s.timezone)} (${s.timezone})${s.source === "override" ? ", covering" : ""}`);
      return `Your on-call shifts in the next ${days} days:\n${lines.join("\n")}`;
    },
  };

  const requestSub: SubCommand = {
    name: "request",
    args: "@user <service> [level] <start> <end> [return <start> <end>]",
    summary: "ask a colleague to cover a shift (or trade one)",
    example: "!swap request @bob:example.org cardiology 2026-12-24 08:00 2026-12-25 08:00",
    run: (ctx, args) => request(ctx, args),
  };
  const swapSet: SubCommandSet = {
    title: "Shift swaps",
    commands: [
      requestSub,
      {
        name: "accept",
        args: "<id>",
        summary: "cover the shift you were asked to",
        async run(ctx, args) {
          const s = await swaps.accept(swapId(args[0], "accept"), ctx.sender, ctx.eventId);
          const svc = await oncall.serviceInfo(s.serviceId);
          return `Accepted swap ${s.id}: you now cover ${svc.name} ${s.level} from ${formatUntil(s.from, svc.timezone)} to ${formatUntil(s.until, svc.timezone)} (${svc.timezone}). ${s.requester} and the coordinators have been told. Check with !myshifts.`;
        },
      },
      {
        name: "decline",
        args: "<id> [reason]",
        summary: "say no to a request",
        async run(ctx, args) {
          const s = await swaps.decline(swapId(args[0], "decline"), ctx.sender, args.slice(1).join(" ") || undefined, ctx.eventId);
          return `Declined swap ${s.id}; ${s.requester} has been told.`;
        },
      },
      {
        name: "cancel",
        args: "<id>",
        summary: "withdraw your own request",
        async run(ctx, args) {
          const s = await swaps.cancel(swapId(args[0], "cancel"), ctx.sender, ctx.eventId);
          return `Cancelled swap ${s.id}; ${s.counterpart} has been told.`;
        },
      },
      {
        name: "list",
        summary: "your open requests, asked and asked of you",
        async run(ctx) {
          const open = await swaps.listOpen(ctx.sender);
          if (open.length === 0) return "You have no open swap requests.";
          const services = new Map<string, { name: string; timezone: string }>();
          for (const id of new Set(open.map((s) => s.serviceId))) services.set(id, await oncall.serviceInfo(id));
          return `Open swap requests:\n${open.map((s) => fmtSwap(s, ctx.sender, services)).join("\n")}`;
        },
      },
    ],
  };
  const swapUsage = () => `Usage: ${subCommandLine("swap", requestSub)}`;
  const swap: Command = {
    verb: "swap",
    subcommands: swapSet,
    // A failure part-way is retried with the same event id, which finishes the request or decision once.
    retryOnError: true,
  };

  async function request(ctx: CommandContext, args: string[]): Promise<string> {
    const [counterpart, ...rest] = args;
    if (!counterpart?.startsWith("@")) throw new CommandError("swap without user", swapUsage());
    const firstTime = rest.findIndex(startsTime);
    if (firstTime < 1) throw new CommandError("swap without service or time", swapUsage());
    const words = rest.slice(0, firstTime);
    // "<service> <level>" or a service name of several words.
    let svc;
    let level: string | undefined;
    try {
      svc = await oncall.serviceInfo(words.join(" "));
    } catch (err) {
      if (!(err instanceof UnknownServiceError) || words.length < 2) throw err;
      svc = await oncall.serviceInfo(words.slice(0, -1).join(" "));
      level = words.at(-1);
    }
    const now = DateTime.fromJSDate(ctx.sentAt, { zone: svc.timezone });
    const start = readTime(rest, firstTime, svc.timezone, now);
    const end = start && readTime(rest, start.next, svc.timezone, start.at);
    if (!start || !end) throw new CommandError("bad swap times", `I couldn't read the start and end times. ${swapUsage()}`);
    let ret: { returnFrom: Date; returnTo: Date } | undefined;
    let next = end.next;
    if (rest[next]?.toLowerCase() === "return") {
      const rs = readTime(rest, next + 1, svc.timezone, now);
      const re = rs && readTime(rest, rs.next, svc.timezone, rs.at);
      if (!rs || !re) throw new CommandError("bad return times", `I couldn't read the return slot's start and end. ${swapUsage()}`);
      ret = { returnFrom: rs.at.toJSDate(), returnTo: re.at.toJSDate() };
      next = re.next;
    }
    if (next !== rest.length) throw new CommandError("swap trailing words", `I didn't understand "${quote(rest.slice(next).join(" "))}". ${swapUsage()}`);
    const s = await swaps.request(ctx.sender, counterpart, svc.id, level, start.at.toJSDate(), end.at.toJSDate(), ret, ctx.eventId);
    return `Asked ${counterpart} to cover ${svc.name} ${s.level} from ${formatUntil(s.from, svc.timezone)} to ${formatUntil(s.until, svc.timezone)} (${svc.timezone})${
      s.returnSlot ? `, with you covering their ${s.returnSlot.level} in return` : ""
    }. Swap id ${s.id}; cancel with !swap cancel ${s.id}.`;
  }

  return { commands: [oncallCommand, myshifts, swap] };
}
