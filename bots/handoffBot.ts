import { CommandTable, type Command } from "./commands.js";

export const HANDOFF_BOT = {
  name: "handoff",
  displayName: "Rounds Handoffs",
  intro: "I am the Rounds handoff bot. I run shift handoffs: the outgoing clinician presents each patient (SBAR or I-PASS), the incoming clinician reads each one back and asks questions, and both sign off. I keep the handoff tasks and remind the charge role when a handoff runs late.",
};

/** The handoff bot's command table: SBAR and I-PASS shift handoffs for text-only clients. */
export function handoffCommandTable(commands: Command[]): CommandTable {
  return new CommandTable(HANDOFF_BOT.name, HANDOFF_BOT.intro, commands);
}
