/** The handoff workflow's event types, states and vocabularies, without their validators (in handoff.ts). */
import { NAMESPACE } from "./commonTerms.js";

export const HANDOFF_STATE_TYPE = `${NAMESPACE}.handoff`;

export const HANDOFF_TEMPLATES = ["sbar", "ipass"] as const;
export type HandoffTemplate = (typeof HANDOFF_TEMPLATES)[number];
export const HANDOFF_MODES = ["face_to_face", "virtual"] as const;
export type HandoffMode = (typeof HANDOFF_MODES)[number];
/** started: no patient yet; presenting: patients being presented and read back; signing: one party signed. */
export const HANDOFF_STATUSES = ["started", "presenting", "signing", "completed", "cancelled"] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

/** Encrypted room events of the handoff workflow; their content is PHI and never leaves encryption. */
export const HandoffEventType = {
  /** One patient's structured handoff item; an edit is a new version with the same entry_id. */
  Item: `${NAMESPACE}.handoff.item`,
  /** The incoming clinician's read-back of an item, in their own words. */
  ReadBack: `${NAMESPACE}.handoff.readback`,
  Question: `${NAMESPACE}.handoff.question`,
  Answer: `${NAMESPACE}.handoff.answer`,
  /** The reason for a sign-off override, or an incident description: free text, so encrypted. */
  Note: `${NAMESPACE}.handoff.note`,
} as const;
export type HandoffEventTypeName = (typeof HandoffEventType)[keyof typeof HandoffEventType];

export const ILLNESS_SEVERITIES = ["stable", "watcher", "unstable"] as const;

export const HANDOFF_NOTE_KINDS = ["override", "incident", "cancel"] as const;

export const INCIDENT_CATEGORIES = ["omission", "wrong_information", "unclear", "delay", "task_not_done", "other"] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];
