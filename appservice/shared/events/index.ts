/**
 * Every Rounds event type, with its schema and validator: one file per workflow beside the common
 * definitions, each with its zod-free terms (terms.ts). The appservice and the bots import from
 * here; the widgets import terms.ts, and the schemas only through widgets/lib/validators.ts.
 * State events are never encrypted, so the state schemas admit workflow metadata only: ids,
 * status, Matrix user ids, timestamps, service names.
 */
export * from "./alert.js";
export * from "./common.js";
export * from "./consult.js";
export * from "./handoff.js";
export * from "./paging.js";
export * from "./terms.js";
