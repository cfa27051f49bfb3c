import { z } from "zod";

/**
 * Every Rounds event type, with its validator, in one place. The appservice, the bots and the
 * widgets import from here. State events are never encrypted, so the state schemas admit
 * workflow metadata only: ids, status, Matrix user ids, timestamps, service names.
 */
export const NAMESPACE = "health.rounds";

export const StateType = {
  Consult: `${NAMESPACE}.consult`,
  Handoff: `${NAMESPACE}.handoff`,
  Page: `${NAMESPACE}.page`,
  Alert: `${NAMESPACE}.alert`,
  OnCall: `${NAMESPACE}.oncall`,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

export const URGENCIES = ["emergent", "urgent", "routine"] as const;
export type Urgency = (typeof URGENCIES)[number];

export const matrixUserId = z.string().regex(/^@[a-z0-9._=\-/+]+:[a-zA-Z0-9.-]+(:\d+)?$/, "must be a Matrix user id");
export const roomId = z.string().regex(/^![^:]+(:.+)?$/, "must be a Matrix room id");

/** The envelope every event delivered to the appservice must have; unknown fields are kept. */
export const ClientEventSchema = z.looseObject({
  event_id: z.string().regex(/^\$/, "must be an event id"),
  room_id: roomId,
  sender: matrixUserId,
  type: z.string().min(1),
  origin_server_ts: z.number().int().nonnegative(),
  content: z.record(z.string(), z.unknown()),
  state_key: z.string().optional(),
  unsigned: z.record(z.string(), z.unknown()).optional(),
});
export type ClientEvent = z.infer<typeof ClientEventSchema>;

export const TransactionBodySchema = z.object({
  events: z.array(z.unknown()).default([]),
  ephemeral: z.array(z.unknown()).optional(),
  "de.sorunome.msc2409.ephemeral": z.array(z.unknown()).optional(),
});

export const TextMessageContentSchema = z.looseObject({
  msgtype: z.enum(["m.text", "m.notice", "m.emote"]),
  body: z.string(),
});

export const MemberContentSchema = z.looseObject({
  membership: z.enum(["invite", "join", "leave", "ban", "knock"]),
  is_direct: z.boolean().optional(),
});

export const PAGE_STATUSES = ["triggered", "notified", "escalated", "acknowledged", "resolved"] as const;
export type PageStatus = (typeof PAGE_STATUSES)[number];

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

/** A reaction (m.annotation); ✅ on a page acknowledges it. */
export const ReactionContentSchema = z.looseObject({
  "m.relates_to": z.looseObject({ rel_type: z.literal("m.annotation"), event_id: z.string(), key: z.string() }),
});

// ---------------------------------------------------------------------------------------------
// Consultations

export const CONSULT_STATUSES = ["requested", "accepted", "declined", "in_progress", "completed", "cancelled"] as const;
export type ConsultStatus = (typeof CONSULT_STATUSES)[number];

/**
 * `health.rounds.consult` state, state_key = consult id, in the consult room. Unencrypted, so:
 * ids, status, urgency, service, Matrix user ids and times only. The question, the patient
 * reference, decline reasons and the report stay in encrypted events.
 */
export const ConsultStateSchema = z.looseObject({
  id: z.string().min(1),
  number: z.number().int().positive(),
  service: z.string().min(1),
  urgency: z.enum(URGENCIES),
  status: z.enum(CONSULT_STATUSES),
  requester: matrixUserId,
  /** Who accepted; null until someone does. */
  consultant: matrixUserId.nullable(),
  /** Everyone asked so far, in order; the last one is the current candidate. */
  candidates: z.array(matrixUserId),
  declined_by: z.array(matrixUserId),
  care_team: z.array(matrixUserId),
  preferred: matrixUserId.nullable(),
  step: z.number().int().nonnegative(),
  /** Nobody is left to ask: the coordinators and the requester were told. */
  exhausted: z.boolean(),
  created_ts: z.number().int(),
  /** Deadline to accept or decline (while requested). */
  accept_by_ts: z.number().int().nullable(),
  accepted_ts: z.number().int().nullable(),
  expected_response_minutes: z.number().int().positive().nullable(),
  /** Deadline for the consultant's response (after acceptance). */
  respond_by_ts: z.number().int().nullable(),
  overdue: z.boolean(),
  started_ts: z.number().int().nullable(),
  completed_ts: z.number().int().nullable(),
  cancelled_ts: z.number().int().nullable(),
  /** The encrypted report message, once completed. */
  report_event_id: z.string().nullable(),
});
export type ConsultState = z.infer<typeof ConsultStateSchema>;

/** Encrypted room event types of the consult workflow (their content is PHI and never leaves encryption). */
export const ConsultEventType = {
  /** The structured request: sent by the requester's widget in their consult-bot room, relayed by the bot into the consult room. */
  Request: `${NAMESPACE}.consult.request`,
  /** The consultant's structured report fields, sent by the widget in the consult room before completing. */
  Report: `${NAMESPACE}.consult.report`,
} as const;

export const FHIR_CONTEXT_REFERENCE = /^(Patient|Encounter)\/[A-Za-z0-9\-.]{1,64}$/;

/** An encrypted attachment (the `file` object of the Matrix spec's EncryptedFile). */
export const EncryptedFileSchema = z.looseObject({
  url: z.string().regex(/^mxc:\/\/[^/]+\/[^/]+$/, "must be an mxc:// URL"),
  key: z.looseObject({ kty: z.literal("oct"), alg: z.literal("A256CTR"), k: z.string().min(1), key_ops: z.array(z.string()), ext: z.literal(true) }),
  iv: z.string().min(1),
  hashes: z.looseObject({ sha256: z.string().min(1) }),
  v: z.literal("v2"),
});
export type EncryptedFile = z.infer<typeof EncryptedFileSchema>;

/** Attachment types a consult accepts: PDF, images and DICOM. */
export const CONSULT_ATTACHMENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "application/dicom"] as const;

export const ConsultAttachmentSchema = z.object({
  name: z.string().min(1).max(255),
  mimetype: z.enum(CONSULT_ATTACHMENT_TYPES, { message: "must be a PDF, an image (PNG, JPEG, GIF, WebP) or a DICOM file" }),
  size: z.number().int().positive(),
  file: EncryptedFileSchema,
});
export type ConsultAttachment = z.infer<typeof ConsultAttachmentSchema>;

export const ConsultRequestContentSchema = z.looseObject({
  service: z.string().trim().min(1, "name the service to consult"),
  urgency: z.enum(URGENCIES, { message: "must be emergent, urgent or routine" }),
  preferred_specialist: matrixUserId.optional(),
  care_team: z.array(matrixUserId).max(20).optional(),
  /** A FHIR Patient or Encounter id, e.g. "Encounter/abc-123". */
  patient_ref: z.string().regex(FHIR_CONTEXT_REFERENCE, "must be a FHIR reference like Patient/123 or Encounter/abc"),
  question: z.string().trim().min(10, "state the clinical question (at least 10 characters)").max(4000),
  history: z.string().max(8000).optional(),
  attachments: z.array(ConsultAttachmentSchema).max(10).optional(),
  /** Set by the bot when it relays the request into the consult room. */
  consult_id: z.string().optional(),
});
export type ConsultRequestContent = z.infer<typeof ConsultRequestContentSchema>;

export const ConsultReportContentSchema = z.looseObject({
  consult_id: z.string().min(1),
  findings: z.string().trim().min(1, "findings are required").max(8000),
  assessment: z.string().trim().min(1, "an assessment is required").max(8000),
  recommendations: z.string().trim().min(1, "recommendations are required").max(8000),
  follow_up: z.string().trim().max(4000).default(""),
});
export type ConsultReportContent = z.infer<typeof ConsultReportContentSchema>;

/** Billing inputs: workflow facts, not PHI, so they travel in the widget API call. */
export const CONSULT_TYPES = ["initial", "follow_up", "interprofessional"] as const;
export const CONSULT_SETTINGS = ["inpatient", "outpatient", "emergency", "telehealth"] as const;
export const CONSULT_COMPLEXITIES = ["straightforward", "low", "moderate", "high"] as const;
export const BillingInputSchema = z.object({
  consult_type: z.enum(CONSULT_TYPES),
  setting: z.enum(CONSULT_SETTINGS),
  complexity: z.enum(CONSULT_COMPLEXITIES),
  /** Total time the consultant spent, in minutes. */
  minutes: z.number().int().min(1).max(24 * 60),
});
export type BillingInput = z.infer<typeof BillingInputSchema>;

export const CONSULT_OUTCOMES = ["advice_followed", "patient_seen", "transferred", "no_change", "other"] as const;
export type ConsultOutcome = (typeof CONSULT_OUTCOMES)[number];

// ---------------------------------------------------------------------------------------------
// Widgets installed by the bots (Element reads these; only the bots may write them)

export const WidgetStateType = {
  Widget: "im.vector.modular.widgets",
  Layout: "io.element.widgets.layout",
} as const;
