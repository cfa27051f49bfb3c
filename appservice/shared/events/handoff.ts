import { z } from "zod";
import { FHIR_CONTEXT_REFERENCE, matrixUserId, roundsEvent } from "./common.js";
import { HANDOFF_MODES, HANDOFF_NOTE_KINDS, HANDOFF_STATE_TYPE, HANDOFF_STATUSES, HANDOFF_TEMPLATES, HandoffEventType, ILLNESS_SEVERITIES } from "./handoffTerms.js";
export * from "./handoffTerms.js";

/** The handoff workflow's events: the handoff state, and the encrypted items, read-backs, questions, answers and notes. */


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

export const HandoffNoteContentSchema = z.looseObject({
  handoff_id: z.string().min(1),
  kind: z.enum(HANDOFF_NOTE_KINDS),
  text: z.string().trim().min(1).max(4000),
  entry_id: clientId.optional(),
  by: matrixUserId.optional(),
});
export type HandoffNoteContent = z.infer<typeof HandoffNoteContentSchema>;


export const HandoffStateEvent = roundsEvent(HANDOFF_STATE_TYPE, HandoffStateSchema);
export const HandoffItemEvent = roundsEvent(HandoffEventType.Item, HandoffItemContentSchema);
export const HandoffReadBackEvent = roundsEvent(HandoffEventType.ReadBack, HandoffReadBackContentSchema);
export const HandoffQuestionEvent = roundsEvent(HandoffEventType.Question, HandoffQuestionContentSchema);
export const HandoffAnswerEvent = roundsEvent(HandoffEventType.Answer, HandoffAnswerContentSchema);
export const HandoffNoteEvent = roundsEvent(HandoffEventType.Note, HandoffNoteContentSchema);
