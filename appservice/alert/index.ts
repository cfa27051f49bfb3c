import { ALERTS_BOT } from "../../bots/alertsBot.js";
import { ALERT_STATE_TYPE } from "../shared/events/index.js";
import { defineWorkflow } from "../workflow.js";
import { alertConfig } from "./alertConfig.js";
import * as m014 from "./migrations/014_alerts.js";
import * as m015 from "./migrations/015_alert_reads_medications_orders.js";

/**
 * Clinical alerts: lab results and deterioration from HL7 v2 (MLLP) and FHIR R4, evaluated under
 * the coordinators' rules, routed to the patient's attending or the unit's on-call, acknowledged
 * and traced step by step, with dedup, corrections and auto-clear against alarm fatigue.
 */
export const alert = defineWorkflow({
  name: "alert",
  bot: ALERTS_BOT,
  config: alertConfig,
  migrations: { "014_alerts": m014, "015_alert_reads_medications_orders": m015 },
  // The Alerts widget in each clinician's alerts room: their alerts with each one's trail, quiet hours, and the rules and analytics for coordinators.
  widgets: ["alerts"],
  stateTypes: [ALERT_STATE_TYPE],
  build: async (deps) => (await import("./build.js")).buildAlert(deps),
  cli: async () => (await import("./alertCli.js")).alertCli,
});
