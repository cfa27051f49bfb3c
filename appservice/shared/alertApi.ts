import { z } from "zod";
import { roomId } from "./events/index.js";
import { HH_MM_PATTERN } from "./events/alertTerms.js";
export * from "./alertApiTerms.js";

/**
 * The alerts part of the widget HTTP API (prefix and authentication as in widgetApi.ts). An
 * action names the room it is made from, which must be the room the alert reached the caller in.
 * A false positive's reason is never in a body: the widget sends it as an encrypted message in
 * that room and the call names the event.
 */

const eventId = z.string().regex(/^\$/, "must be an event id");
export const AlertRoomBody = z.strictObject({ room_id: roomId });
export const SnoozeBody = z.strictObject({ room_id: roomId, minutes: z.number().int("must be a whole number of minutes").min(1, "must be at least 1 minute") });
export const FalsePositiveBody = z.strictObject({ room_id: roomId, reason_event_id: eventId });
const hhmm = (example: string) => z.string().regex(HH_MM_PATTERN, `must be a time such as ${example}`);
export const QuietHoursBody = z.strictObject({
  quiet: z.strictObject({ from: hhmm("22:00"), to: hhmm("07:00"), zone: z.string().min(1).max(64) }).nullable(),
});
