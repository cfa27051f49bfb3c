import { CommandTable, type Command } from "./commands.js";

export const CONSULT_BOT = {
  name: "consult",
  displayName: "Rounds Consults",
  intro: "I am the Rounds consult bot. I route your consult requests to the right specialist, keep track of them until they are answered, and file the report.",
};

/** The consult bot's command table: requesting, routing and answering specialist consults. */
export function consultCommandTable(commands: Command[]): CommandTable {
  return new CommandTable(CONSULT_BOT.name, CONSULT_BOT.intro, commands);
}
