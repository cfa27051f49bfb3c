/** The consult workflow's event types, states and vocabularies, without their validators (in consult.ts). */
import { NAMESPACE } from "./commonTerms.js";

export const CONSULT_STATE_TYPE = `${NAMESPACE}.consult`;

export const CONSULT_STATUSES = ["requested", "accepted", "declined", "in_progress", "completed", "cancelled"] as const;
export type ConsultStatus = (typeof CONSULT_STATUSES)[number];

/** The longest reason for declining or cancelling a consult: one rule for the service, the bot and the widget. */
export const CONSULT_REASON_MAX_CHARS = 1000;
/** The shortest reason for declining: enough for the requester to know what to do next. */
export const CONSULT_DECLINE_REASON_MIN_CHARS = 3;

/** Encrypted room event types of the consult workflow (their content is PHI and never leaves encryption). */
export const ConsultEventType = {
  /** The structured request: sent by the requester's widget in their consult-bot room, relayed by the bot into the consult room. */
  Request: `${NAMESPACE}.consult.request`,
  /** The consultant's structured report fields, sent by the widget in the consult room before completing. */
  Report: `${NAMESPACE}.consult.report`,
  /** A reason for declining or cancelling, sent by the widget in the consult room and named to the API by its event id. */
  Note: `${NAMESPACE}.consult.note`,
} as const;

/** Attachment types a consult accepts: PDF, images and DICOM. */
export const CONSULT_ATTACHMENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "application/dicom"] as const;

export const CONSULT_NOTE_KINDS = ["decline", "cancel"] as const;
export type ConsultNoteKind = (typeof CONSULT_NOTE_KINDS)[number];

export const CONSULT_OUTCOMES = ["advice_followed", "patient_seen", "transferred", "no_change", "other"] as const;
export type ConsultOutcome = (typeof CONSULT_OUTCOMES)[number];
