import { z } from "zod";
import { CONSULT_OUTCOMES, roomId, type ConsultState } from "./events/index.js";
import { CONSULT_COMPLEXITIES, CONSULT_SETTINGS, CONSULT_TYPES } from "./consultWidgetApiTerms.js";
export * from "./consultWidgetApiTerms.js";


export const BillingInputSchema = z.object({
  consult_type: z.enum(CONSULT_TYPES),
  setting: z.enum(CONSULT_SETTINGS),
  complexity: z.enum(CONSULT_COMPLEXITIES),
  /** Total time the consultant spent, in minutes. */
  minutes: z.number().int().min(1).max(24 * 60),
});
export type BillingInput = z.infer<typeof BillingInputSchema>;


const eventId = z.string().regex(/^\$/, "must be an event id");

/** Create a consult from the encrypted request event the widget just sent in `room_id`. */
export const CreateConsultBody = z.object({ room_id: roomId, event_id: eventId });
export const RoomScopedBody = z.object({ room_id: roomId });
export const AcceptBody = RoomScopedBody.extend({
  /** Expected response time; the urgency's default when omitted. */
  expected_minutes: z.number().int().min(5).max(7 * 24 * 60).optional(),
});
/** A widget opened before reasons became notes still sends the text: refused, not dropped unsaid. */
const noPlainReason = { reason: z.undefined({ error: "this widget is out of date: close and reopen it, and it sends the reason encrypted" }).optional() };
/**
 * The reason is clinical, so it never crosses the API: the widget sends it as an encrypted
 * `health.rounds.consult.note` in the consult room and names that event here.
 */
export const DeclineBody = RoomScopedBody.extend({ ...noPlainReason, reason_event_id: eventId });
export const CompleteBody = RoomScopedBody.extend({
  /** The encrypted `health.rounds.consult.report` event with the structured report fields. */
  report_event_id: eventId,
  billing: BillingInputSchema,
});
/** An optional reason, sent like a decline's. */
export const CancelBody = RoomScopedBody.extend({ ...noPlainReason, reason_event_id: eventId.optional() });
export const FeedbackBody = RoomScopedBody.extend({
  rating: z.number().int().min(1, "rate from 1 to 5").max(5, "rate from 1 to 5"),
  outcome: z.enum(CONSULT_OUTCOMES),
});

/** A consult as the API shows it: the state event's fields plus what only the database knows. */
export type ConsultView = ConsultState & {
  room_id: string;
  /** Billing suggestion, once completed: a suggestion only, with its rationale. */
  billing_suggestion: { code: string; description: string; rationale: string } | null;
  rating: number | null;
  outcome: (typeof CONSULT_OUTCOMES)[number] | null;
  /** Seconds from request to acceptance / completion, when reached. */
  time_to_accept_s: number | null;
  time_to_complete_s: number | null;
};

export interface ServicesResponse {
  /** timezone: the service's IANA zone, in which its widgets show times. */
  services: { id: string; name: string; timezone: string }[];
  /** Largest attachment a consult request accepts (ROUNDS_CONSULT_MAX_ATTACHMENT_MB). */
  max_attachment_bytes: number;
  /** Default expected response time per urgency, for the accept form. */
  expected_response_minutes: Record<"emergent" | "urgent" | "routine", number>;
}
export interface SpecialistsResponse {
  service: string;
  specialists: { user_id: string; available: boolean }[];
}
export interface ConsultResponse {
  consult: ConsultView;
}
export interface MineResponse {
  incoming: ConsultView[];
  outgoing: ConsultView[];
  /** Completed, cancelled or fully declined consults the user took part in, newest first. */
  archive: ConsultView[];
}
export interface ResponseTimes {
  count: number;
  p50_s: number | null;
  p90_s: number | null;
}
export interface MetricsResponse {
  since: string;
  services: { service: string; accept: ResponseTimes; complete: ResponseTimes }[];
}
export interface ApiErrorBody {
  errcode: string;
  error: string;
}
