import { z } from "zod";
import { matrixUserId, roundsEvent, URGENCIES } from "./common.js";
import { PAGE_STATE_TYPE, PAGE_STATUSES } from "./pagingTerms.js";
export * from "./pagingTerms.js";

/** The paging workflow's events: the page state in each page room. */


/**
 * `health.rounds.page` state, state_key = page id. Unencrypted, so: ids, status, urgency,
 * service, Matrix user ids, times and delivery states only. The request text stays in the
 * encrypted timeline.
 */
export const PageStateSchema = z.looseObject({
  id: z.string().min(1),
  number: z.number().int().positive(),
  kind: z.enum(["page", "broadcast"]),
  service: z.string().min(1),
  urgency: z.enum(URGENCIES),
  status: z.enum(PAGE_STATUSES),
  step: z.number().int().nonnegative(),
  level: z.string(),
  requester: matrixUserId,
  targets: z.array(matrixUserId),
  notified: z.array(matrixUserId),
  exhausted: z.boolean(),
  created_ts: z.number().int(),
  deadline_ts: z.number().int().nullable(),
  acknowledged_by: matrixUserId.nullable(),
  acknowledged_via: z.enum(["reaction", "command", "sms"]).nullable(),
  acknowledged_ts: z.number().int().nullable(),
  resolved_ts: z.number().int().nullable(),
  /** Per notified user, the latest state of each channel, e.g. { sms: "delivered" }. */
  delivery: z.record(matrixUserId, z.record(z.string(), z.string())),
});
export type PageState = z.infer<typeof PageStateSchema>;

export const PageStateEvent = roundsEvent(PAGE_STATE_TYPE, PageStateSchema);
