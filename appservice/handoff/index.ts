import { HANDOFF_BOT } from "../../bots/handoffBot.js";
import { HANDOFF_STATE_TYPE } from "../shared/events/index.js";
import { defineWorkflow } from "../workflow.js";
import { handoffConfig } from "./handoffConfig.js";
import * as m009 from "./migrations/009_handoffs.js";

/**
 * SBAR and I-PASS shift handoffs: presented, read back, questioned and signed off by both, with
 * their tasks, deadlines, reports and the units' quality figures.
 */
export const handoff = defineWorkflow({
  name: "handoff",
  bot: HANDOFF_BOT,
  config: handoffConfig,
  migrations: { "009_handoffs": m009 },
  // The widget in each handoff room, and the dashboard in each clinician's Handoffs room and unit room.
  widgets: ["handoff-room", "handoff-dashboard"],
  stateTypes: [HANDOFF_STATE_TYPE],
  renamedWidgets: { handoff: "handoff-room", handoffs: "handoff-dashboard" },
  build: async (deps) => (await import("./build.js")).buildHandoff(deps),
  cli: async () => (await import("./handoffCli.js")).handoffCli,
});
