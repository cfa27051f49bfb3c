import type { CalendarFeeds } from "../appservice/oncall/calendarFeeds.js";
import type { BotCommands, CommandContext } from "./commands.js";

/** `!calendar`: a private link that puts your shifts in any calendar app. */
export function calendarCommands(feeds: CalendarFeeds, publicUrl: string): BotCommands {
  const issue = async (ctx: CommandContext) => {
    const token = await feeds.issue(ctx.sender);
    return [
      `Subscribe to this link in your calendar app (Google, Outlook, Apple): ${publicUrl}/_rounds/calendar/v1/${token}.ics`,
      "It shows your on-call shifts only, and keeps itself current. Keep it to yourself: anyone with the link sees your shifts. Any earlier link has stopped working; !calendar stop turns this one off.",
    ].join("\n");
  };
  return {
    commands: [
      {
        verb: "calendar",
        subcommands: {
          title: "Your on-call shifts in any calendar app",
          bare: { summary: "a private link to subscribe to", run: issue },
          commands: [
            { name: "new", summary: "a new link; the old one stops working", run: issue },
            {
              name: "stop",
              summary: "turn your link off",
              run: async (ctx) => ((await feeds.revoke(ctx.sender)) ? "Your calendar link no longer works." : "You have no calendar link."),
            },
          ],
        },
      },
    ],
  };
}
