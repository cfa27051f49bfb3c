import { CONSULT_STATE_TYPE } from "./consult.js";
import { HANDOFF_STATE_TYPE } from "./handoff.js";
import { PAGE_STATE_TYPE } from "./paging.js";

/**
 * Every Rounds event type, with its schema and validator: one file per workflow beside the common
 * definitions. The appservice, the bots and the widgets import from here. State events are never
 * encrypted, so the state schemas admit workflow metadata only: ids, status, Matrix user ids,
 * timestamps, service names.
 */
export * from "./common.js";
export * from "./consult.js";
export * from "./handoff.js";
export * from "./paging.js";

/**
 * The three workflows' state types by name, for code and tests that read them side by side. Which
 * types only bots may write comes from each workflow's declaration (`stateTypes`), not from here.
 */
export const StateType = {
  Consult: CONSULT_STATE_TYPE,
  Handoff: HANDOFF_STATE_TYPE,
  Page: PAGE_STATE_TYPE,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];
