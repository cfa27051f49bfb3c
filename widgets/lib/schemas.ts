/**
 * The shared validators the widgets use: zod and Rounds' schemas, the largest part of a widget's
 * code. Only validators.ts imports this file, and only dynamically, so it loads beside the
 * handshake with Element instead of before the first paint.
 */
export * from "../../appservice/shared/events/index.js";
export { AcceptBody, BillingInputSchema, FeedbackBody } from "../../appservice/shared/consultWidgetApi.js";
export { IncidentBody, StartHandoffBody } from "../../appservice/shared/handoffApi.js";
