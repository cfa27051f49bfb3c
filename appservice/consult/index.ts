import { CONSULT_BOT } from "../../bots/consultBot.js";
import { CONSULT_STATE_TYPE } from "../shared/events/index.js";
import { defineWorkflow } from "../workflow.js";
import { consultConfig } from "./consultConfig.js";
import * as m008 from "./migrations/008_consults.js";

/**
 * Specialist consultations: a request routed to the service's on-call (or a preferred
 * specialist), accepted, answered with a report in its own encrypted room, rated, with response
 * times for quality staff. Clinicians of partner homeservers may request them.
 */
export const consult = defineWorkflow({
  name: "consult",
  bot: { ...CONSULT_BOT, federated: true },
  config: consultConfig,
  migrations: { "008_consults": m008 },
  // The widget in each consult room, and the clinician's dashboard in their room with the bot.
  widgets: ["consult-room", "consult-dashboard"],
  stateTypes: [CONSULT_STATE_TYPE],
  renamedWidgets: { consult: "consult-room", consults: "consult-dashboard" },
  build: async (deps) => (await import("./build.js")).buildConsult(deps),
  cli: async () => (await import("./consultCli.js")).consultCli,
});
