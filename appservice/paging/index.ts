import { ONCALL_BOT } from "../../bots/oncallBot.js";
import { PAGE_STATE_TYPE } from "../shared/events/index.js";
import { defineWorkflow } from "../workflow.js";
import * as m013 from "./migrations/013_twilio_webhooks.js";
import { pagingConfig } from "./pagingConfig.js";

/**
 * Paging and the on-call bot: who is on call, schedules and swaps by chat, calendar links, pages
 * that escalate until acknowledged, SMS fallback over Twilio, shift-change checks.
 */
export const paging = defineWorkflow({
  name: "paging",
  bot: ONCALL_BOT,
  config: pagingConfig,
  // 005_paging shipped with the core's tables in it, so it is the core's (db/migrations).
  migrations: { "013_twilio_webhooks": m013 },
  widgets: [],
  stateTypes: [PAGE_STATE_TYPE],
  build: async (deps) => (await import("./build.js")).buildPaging(deps),
  cli: async () => (await import("./pagingCli.js")).pagingCli,
});
