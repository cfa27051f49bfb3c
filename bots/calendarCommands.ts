import type { CalendarFeeds } from "../appservice/oncall/calendarFeeds.js";
import { CommandError, type Command } from "./commands.js";

/** `!calendar`: a private link that puts your shifts in any calendar app. */
export function calendarCommands(feeds: CalendarFeeds, publicUrl: string): Command[] {
  return [
    {
      verb: "calendar",
      usage: "!calendar [new|stop]",
      summary: "A private link to subscribe to your on-call shifts in any calendar app",
      async run(ctx, args) {
        const [what] = args;
        if (what === "stop") {
          return (await feeds.revoke(ctx.sender)) ? "Your calendar link no longer works." : "You have no calendar link.";
        }
        if (what !== undefined && what !== "new") throw new CommandError("bad calendar arg", "Usage: !calendar (get a link), !calendar new (replace it), !calendar stop (turn it off).");
        const token = await feeds.issue(ctx.sender);
        return [
          `Subscribe to this link in your calendar app (Google, Outlook, Apple): ${publicUrl}/_rounds/calendar/v1/${token}.ics`,
          "It shows your on-call shifts only, and keeps itself current. Keep it to yourself: anyone with the link sees your shifts. Any earlier link has stopped working; !calendar stop turns this one off.",
        ].join("\n");
      },
    },
  ];
}
