import { z } from "zod";
import { matrixUserId, roundsEvent } from "./common.js";
import { ALERT_PRIORITIES, ALERT_STATE_TYPE, ALERT_STATUSES } from "./alertTerms.js";
export * from "./alertTerms.js";

/**
 * `health.rounds.alert` state, state_key = alert id, in each room the alert was delivered to.
 * Unencrypted, so: ids, status, priority, the rule id, counts and times only. The value, the
 * patient and the reason travel only in the encrypted alert message.
 */
export const AlertStateSchema = z.looseObject({
  id: z.string().min(1),
  number: z.number().int().positive(),
  rule_id: z.string().min(1),
  priority: z.enum(ALERT_PRIORITIES),
  status: z.enum(ALERT_STATUSES),
  repeats: z.number().int().nonnegative(),
  corrections: z.number().int().nonnegative(),
  created_ts: z.number().int(),
  last_ts: z.number().int(),
  acknowledged_by: matrixUserId.nullable(),
  acknowledged_ts: z.number().int().nullable(),
  closed_ts: z.number().int().nullable(),
  /** The encrypted alert message in this room, for widgets and replies. */
  message_event_id: z.string().nullable(),
});
export type AlertState = z.infer<typeof AlertStateSchema>;

export const AlertStateEvent = roundsEvent(ALERT_STATE_TYPE, AlertStateSchema);
