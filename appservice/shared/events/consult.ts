import { z } from "zod";
import { FHIR_CONTEXT_REFERENCE, matrixUserId, roundsEvent, URGENCIES } from "./common.js";
import { CONSULT_ATTACHMENT_TYPES, CONSULT_DECLINE_REASON_MIN_CHARS, CONSULT_NOTE_KINDS, CONSULT_REASON_MAX_CHARS, CONSULT_STATE_TYPE, CONSULT_STATUSES, ConsultEventType, type ConsultNoteKind } from "./consultTerms.js";
export * from "./consultTerms.js";

/** The consult workflow's events: the consult state, and the encrypted request, report and notes. */



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
  /**
   * The bot's structured copy of the request in this room. The consultant's report refers to it
   * (m.reference), so a widget whose client no longer holds the report in its timeline finds it
   * through this event's relations. Absent in states written before it existed.
   */
  request_event_id: z.string().nullable().optional(),
});
export type ConsultState = z.infer<typeof ConsultStateSchema>;



/** An encrypted attachment (the `file` object of the Matrix spec's EncryptedFile). */
export const EncryptedFileSchema = z.looseObject({
  url: z.string().regex(/^mxc:\/\/[^/]+\/[^/]+$/, "must be an mxc:// URL"),
  key: z.looseObject({ kty: z.literal("oct"), alg: z.literal("A256CTR"), k: z.string().min(1), key_ops: z.array(z.string()), ext: z.literal(true) }),
  iv: z.string().min(1),
  hashes: z.looseObject({ sha256: z.string().min(1) }),
  v: z.literal("v2"),
});
export type EncryptedFile = z.infer<typeof EncryptedFileSchema>;


export const ConsultAttachmentSchema = z.object({
  name: z.string().min(1).max(255),
  mimetype: z.enum(CONSULT_ATTACHMENT_TYPES, { message: "must be a PDF, an image (PNG, JPEG, GIF, WebP) or a DICOM file" }),
  size: z.number().int().positive(),
  file: EncryptedFileSchema,
});
export type ConsultAttachment = z.infer<typeof ConsultAttachmentSchema>;

export const ConsultRequestContentSchema = z.looseObject({
  service: z.string().trim().min(1, "name the service to consult"),
  urgency: z.enum(URGENCIES, { message: "choose how urgent it is: emergent, urgent or routine" }),
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


/** A reason's text, checked the same way whether it came from the bot or from a widget's note. */
export const consultReasonText = (kind: ConsultNoteKind) =>
  kind === "decline"
    ? z
        .string()
        .trim()
        .min(CONSULT_DECLINE_REASON_MIN_CHARS, `give a reason for declining (at least ${CONSULT_DECLINE_REASON_MIN_CHARS} characters), so the requester knows what to do next`)
        .max(CONSULT_REASON_MAX_CHARS, `keep the reason for declining under ${CONSULT_REASON_MAX_CHARS} characters`)
    : z.string().trim().min(1, "the reason for cancelling is empty").max(CONSULT_REASON_MAX_CHARS, `keep the reason for cancelling under ${CONSULT_REASON_MAX_CHARS} characters`);

export const ConsultNoteContentSchema = z
  .looseObject({ consult_id: z.string().min(1), kind: z.enum(CONSULT_NOTE_KINDS), text: z.string() })
  .superRefine((note, ctx) => {
    const text = consultReasonText(note.kind).safeParse(note.text);
    if (!text.success) ctx.addIssue({ code: "custom", path: ["text"], message: text.error.issues[0]!.message });
  });
export type ConsultNoteContent = z.infer<typeof ConsultNoteContentSchema>;


export const ConsultStateEvent = roundsEvent(CONSULT_STATE_TYPE, ConsultStateSchema);
export const ConsultRequestEvent = roundsEvent(ConsultEventType.Request, ConsultRequestContentSchema);
export const ConsultReportEvent = roundsEvent(ConsultEventType.Report, ConsultReportContentSchema);
export const ConsultNoteEvent = roundsEvent(ConsultEventType.Note, ConsultNoteContentSchema);
