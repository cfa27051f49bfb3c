import { ALERT_STATE_TYPE } from "./alertTerms.js";
import { CONSULT_STATE_TYPE } from "./consultTerms.js";
import { HANDOFF_STATE_TYPE } from "./handoffTerms.js";
import { PAGE_STATE_TYPE } from "./pagingTerms.js";

/**
 * Every Rounds event type and vocabulary, without the validators: what a widget's first paint
 * needs, so that zod and the schemas load beside the handshake instead of before it (index.ts
 * has the schemas too).
 */
export * from "./alertTerms.js";
export * from "./commonTerms.js";
export * from "./consultTerms.js";
export * from "./handoffTerms.js";
export * from "./pagingTerms.js";

/**
 * The workflows' state types by name, for code and tests that read them side by side. Which
 * types only bots may write comes from each workflow's declaration (`stateTypes`), not from here.
 */
export const StateType = {
  Alert: ALERT_STATE_TYPE,
  Consult: CONSULT_STATE_TYPE,
  Handoff: HANDOFF_STATE_TYPE,
  Page: PAGE_STATE_TYPE,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];
