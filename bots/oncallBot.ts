import { CommandTable, type Command } from "./commands.js";

export const ONCALL_BOT = {
  name: "oncall",
  displayName: "Rounds On-Call",
  intro: "I am the Rounds on-call bot. I tell you who is on call, and I page them for you, escalating until someone acknowledges.",
};

/** The on-call bot's command table: schedule questions and swaps, then paging. */
export function oncallCommands(commands: Command[]): CommandTable {
  return new CommandTable(ONCALL_BOT.name, ONCALL_BOT.intro, commands);
}
