import { z } from "zod";

/**
 * Every Rounds event type, with its validator, in one place. The appservice, the bots and the
 * widgets import from here. State events are never encrypted, so the state schemas admit
 * workflow metadata only: ids, status, Matrix user ids, timestamps, service names.
 */
export const NAMESPACE = "health.rounds";

/** Every Rounds bot is `@rounds_<name>:<server>`; anything else in the namespace is ours too. */
export const BOT_PREFIX = "@rounds_";

export const StateType = {
  Consult: `${NAMESPACE}.consult`,
  Handoff: `${NAMESPACE}.handoff`,
  Page: `${NAMESPACE}.page`,
  Alert: `${NAMESPACE}.alert`,
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
/** The longest reason for declining or cancelling a consult: one rule for the service, the bot and the widget. */
export const CONSULT_REASON_MAX_CHARS = 1000;
/** The shortest reason for declining: enough for the requester to know what to do next. */
export const CONSULT_DECLINE_REASON_MIN_CHARS = 3;

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

/** Encrypted room event types of the consult workflow (their content is PHI and never leaves encryption). */
export const ConsultEventType = {
  /** The structured request: sent by the requester's widget in their consult-bot room, relayed by the bot into the consult room. */
  Request: `${NAMESPACE}.consult.request`,
  /** The consultant's structured report fields, sent by the widget in the consult room before completing. */
  Report: `${NAMESPACE}.consult.report`,
  /** A reason for declining or cancelling, sent by the widget in the consult room and named to the API by its event id. */
  Note: `${NAMESPACE}.consult.note`,
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

export const CONSULT_NOTE_KINDS = ["decline", "cancel"] as const;
export type ConsultNoteKind = (typeof CONSULT_NOTE_KINDS)[number];

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

// ---------------------------------------------------------------------------------------------
// Shift handoffs (SBAR and I-PASS)

export const HANDOFF_TEMPLATES = ["sbar", "ipass"] as const;
export type HandoffTemplate = (typeof HANDOFF_TEMPLATES)[number];
export const HANDOFF_MODES = ["face_to_face", "virtual"] as const;
export type HandoffMode = (typeof HANDOFF_MODES)[number];
/** started: no patient yet; presenting: patients being presented and read back; signing: one party signed. */
export const HANDOFF_STATUSES = ["started", "presenting", "signing", "completed", "cancelled"] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

/**
 * `health.rounds.handoff` state, state_key = handoff id, in the handoff room. Unencrypted, so:
 * ids, status, the unit, Matrix user ids, counts and times only. Patient references, SBAR text,
 * read-backs, questions and override reasons stay in encrypted events.
 */
export const HandoffStateSchema = z.looseObject({
  id: z.string().min(1),
  number: z.number().int().positive(),
  unit: z.string().min(1),
  unit_name: z.string(),
  template: z.enum(HANDOFF_TEMPLATES),
  mode: z.enum(HANDOFF_MODES),
  status: z.enum(HANDOFF_STATUSES),
  outgoing: matrixUserId,
  incoming: matrixUserId,
  patient_count: z.number().int().nonnegative(),
  read_back_count: z.number().int().nonnegative(),
  open_questions: z.number().int().nonnegative(),
  checklist_done: z.number().int().nonnegative(),
  checklist_total: z.number().int().nonnegative(),
  signed_off_by: z.array(matrixUserId),
  /** The shift change it was scheduled for, if the unit's schedule started it. */
  scheduled_for_ts: z.number().int().nullable(),
  created_ts: z.number().int(),
  deadline_ts: z.number().int(),
  overdue: z.boolean(),
  escalated_to: z.array(matrixUserId),
  escalated_ts: z.number().int().nullable(),
  completed_ts: z.number().int().nullable(),
  cancelled_ts: z.number().int().nullable(),
  /** The bot's opening message: every item relates to it (m.reference). */
  anchor_event_id: z.string().nullable(),
  /** The encrypted report message, once completed. */
  report_event_id: z.string().nullable(),
  /** Whether a sign-off overrode a missing read-back, an open question or the checklist. */
  overridden: z.boolean(),
});
export type HandoffState = z.infer<typeof HandoffStateSchema>;

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

/** Ids made by clients (widget or bot) for entries and tasks: short, URL-safe. */
export const clientId = z.string().regex(/^[A-Za-z0-9_-]{6,40}$/, "must be 6-40 letters, digits, - or _");
const text = (max: number, what: string) => z.string().trim().min(1, `${what} is required`).max(max);

export const HandoffTaskSchema = z.object({
  id: clientId,
  text: text(1000, "the task"),
  /** Who owns the task now; the outgoing clinician when unset. */
  owner: matrixUserId.optional(),
  /** When it is due (ms since the epoch), if it has a time. */
  due_ts: z.number().int().positive().optional(),
});
export type HandoffTask = z.infer<typeof HandoffTaskSchema>;

export const SbarSchema = z.object({
  situation: text(4000, "Situation"),
  background: text(8000, "Background"),
  assessment: text(8000, "Assessment"),
  recommendation: text(4000, "Recommendation"),
});
export const ILLNESS_SEVERITIES = ["stable", "watcher", "unstable"] as const;
/** I-PASS without its last S: the receiver's synthesis is the read-back. */
export const IpassSchema = z.object({
  illness_severity: z.enum(ILLNESS_SEVERITIES, { message: "must be stable, watcher or unstable" }),
  patient_summary: text(8000, "Patient summary"),
  action_list: text(4000, "Action list"),
  situation_awareness: text(4000, "Situation awareness"),
});

export const HandoffItemContentSchema = z
  .looseObject({
    handoff_id: z.string().min(1),
    entry_id: clientId,
    /** 1 for a new patient; each edit adds one and names the version it replaces. */
    version: z.number().int().positive(),
    replaces: z.string().regex(/^\$/, "must be an event id").optional(),
    template: z.enum(HANDOFF_TEMPLATES),
    patient_ref: z.string().regex(FHIR_CONTEXT_REFERENCE, "must be a FHIR reference like Patient/123 or Encounter/abc"),
    /** A short label for the list, e.g. the bed. */
    label: z.string().trim().max(100).optional(),
    sbar: SbarSchema.optional(),
    ipass: IpassSchema.optional(),
    critical_alerts: z.array(text(500, "an alert")).max(20).default([]),
    tasks: z.array(HandoffTaskSchema).max(30).default([]),
    medication_changes: z.array(text(500, "a medication change")).max(30).default([]),
    recent_events: z.string().trim().max(4000).default(""),
    code_status: z.string().trim().max(200).default(""),
    contingencies: z.array(z.object({ if: text(500, "the 'if'"), then: text(500, "the 'then'") })).max(20).default([]),
    /** Set when the bot sent the item for a text-only client: the clinician who presented it. */
    presented_by: matrixUserId.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.template === "sbar" && !c.sbar) ctx.addIssue({ code: "custom", path: ["sbar"], message: "an SBAR item needs Situation, Background, Assessment and Recommendation" });
    if (c.template === "ipass" && !c.ipass) ctx.addIssue({ code: "custom", path: ["ipass"], message: "an I-PASS item needs illness severity, patient summary, action list and situation awareness" });
    if (c.version > 1 && !c.replaces) ctx.addIssue({ code: "custom", path: ["replaces"], message: "an edit must name the version it replaces" });
    const ids = new Set<string>();
    for (const t of c.tasks) {
      if (ids.has(t.id)) ctx.addIssue({ code: "custom", path: ["tasks"], message: `task id ${t.id} appears twice` });
      ids.add(t.id);
    }
  });
export type HandoffItemContent = z.infer<typeof HandoffItemContentSchema>;

export const HandoffReadBackContentSchema = z.looseObject({
  handoff_id: z.string().min(1),
  entry_id: clientId,
  /** The item version read back; a later edit needs a new read-back. */
  item_event_id: z.string().regex(/^\$/, "must be an event id"),
  summary: z.string().trim().min(10, "read back in your own words (at least 10 characters)").max(4000),
  /** Set when the bot sent it for a text-only client. */
  by: matrixUserId.optional(),
});
export type HandoffReadBackContent = z.infer<typeof HandoffReadBackContentSchema>;

export const HandoffQuestionContentSchema = z.looseObject({
  handoff_id: z.string().min(1),
  entry_id: clientId,
  text: z.string().trim().min(3, "ask a question").max(2000),
  by: matrixUserId.optional(),
});
export type HandoffQuestionContent = z.infer<typeof HandoffQuestionContentSchema>;

export const HandoffAnswerContentSchema = z.looseObject({
  handoff_id: z.string().min(1),
  question_event_id: z.string().regex(/^\$/, "must be an event id"),
  text: z.string().trim().min(1, "write an answer").max(4000),
  by: matrixUserId.optional(),
});
export type HandoffAnswerContent = z.infer<typeof HandoffAnswerContentSchema>;

export const HANDOFF_NOTE_KINDS = ["override", "incident", "cancel"] as const;
export const HandoffNoteContentSchema = z.looseObject({
  handoff_id: z.string().min(1),
  kind: z.enum(HANDOFF_NOTE_KINDS),
  text: z.string().trim().min(1).max(4000),
  entry_id: clientId.optional(),
  by: matrixUserId.optional(),
});
export type HandoffNoteContent = z.infer<typeof HandoffNoteContentSchema>;

export const INCIDENT_CATEGORIES = ["omission", "wrong_information", "unclear", "delay", "task_not_done", "other"] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time like 07:00");
/**
 * A unit's handoff settings (no PHI: names, times and Matrix ids). The charge role is either the
 * on-call of a schedule service (and level) or a list of users.
 */
export const HandoffUnitSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "must be lower-case letters, digits, - or _ (e.g. 4west)"),
    name: z.string().trim().min(1).max(80),
    template: z.enum(HANDOFF_TEMPLATES).default("sbar"),
    /** The unit's own room, where `!handoff start` is typed and the handoff widget is pinned. */
    room_id: roomId.optional(),
    timezone: z.string().min(1).default("UTC"),
    /** Shift changes, local time: scheduled handoffs start here. */
    shift_times: z.array(hhmm).max(6).default([]),
    mode: z.enum(HANDOFF_MODES).default("face_to_face"),
    /** Where face-to-face handoffs happen, e.g. "4 West staff room" (never a patient's bed). */
    location: z.string().trim().max(100).optional(),
    /** Who hands over to whom at a shift change: the on-call of this schedule service (and level). */
    roster: z.object({ service: z.string().min(1), level: z.string().min(1).optional() }).optional(),
    checklist: z.array(z.string().trim().min(1).max(200)).max(30).default([]),
    deadline_minutes: z.number().positive().max(24 * 60).optional(),
    escalate_after_minutes: z.number().positive().max(24 * 60).optional(),
    charge: z
      .object({ service: z.string().min(1).optional(), level: z.string().min(1).optional(), users: z.array(matrixUserId).max(20).optional() })
      .refine((c) => c.service || (c.users && c.users.length > 0), "name an on-call service or at least one user for the charge role")
      .optional(),
    /** Told (with a link only) when an incident is reported from one of the unit's handoffs. */
    incident_reviewers: z.array(matrixUserId).max(20).default([]),
  })
  .strict();
export type HandoffUnit = z.infer<typeof HandoffUnitSchema>;
