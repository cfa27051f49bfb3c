import type { z } from "zod";
import type { HandoffItemContent, HandoffTemplate } from "../../appservice/shared/events/index.js";
import type { FieldErrors } from "../lib/forms.js";
import { sentence } from "../lib/format.js";
import { newClientId } from "./ids.js";
import { reference } from "./actionProps.js";
import { validators } from "../lib/validators.js";

export interface TaskDraft {
  id: string;
  text: string;
  owner: string;
  /** A `datetime-local` value (local time), or "" for no due time. */
  due: string;
  /** The due time the edited item had, kept as is while `due` still shows it (the field has minutes only). */
  dueTs?: number | undefined;
}

export interface ContingencyDraft {
  /** Only a key for the list on screen; contingencies have no id of their own. */
  key: string;
  if: string;
  then: string;
}

/** The add/edit form's fields as typed; lists of short lines are one per line. */
export interface ItemDraft {
  patientRef: string;
  label: string;
  situation: string;
  background: string;
  assessment: string;
  recommendation: string;
  severity: string;
  summary: string;
  actions: string;
  awareness: string;
  alerts: string;
  medications: string;
  recentEvents: string;
  codeStatus: string;
  tasks: TaskDraft[];
  contingencies: ContingencyDraft[];
}

export const EMPTY_DRAFT: ItemDraft = {
  patientRef: "",
  label: "",
  situation: "",
  background: "",
  assessment: "",
  recommendation: "",
  severity: "",
  summary: "",
  actions: "",
  awareness: "",
  alerts: "",
  medications: "",
  recentEvents: "",
  codeStatus: "",
  tasks: [],
  contingencies: [],
};

export const newTask = (owner: string): TaskDraft => ({ id: newClientId(), text: "", owner, due: "" });
export const newContingency = (): ContingencyDraft => ({ key: newClientId(), if: "", then: "" });

const pad = (n: number) => String(n).padStart(2, "0");

/** ms since the epoch → the `datetime-local` value for the same instant in local time. */
export function toLocalInput(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value → ms since the epoch (NaN when it is not one); a date-time without offset is local time. */
export function fromLocalInput(value: string): number {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? new Date(value).getTime() : Number.NaN;
}

/** The form's fields for an item being edited; task ids are kept, since the server tracks tasks by them. */
export function draftOf(item: HandoffItemContent): ItemDraft {
  return {
    patientRef: item.patient_ref,
    label: item.label ?? "",
    situation: item.sbar?.situation ?? "",
    background: item.sbar?.background ?? "",
    assessment: item.sbar?.assessment ?? "",
    recommendation: item.sbar?.recommendation ?? "",
    severity: item.ipass?.illness_severity ?? "",
    summary: item.ipass?.patient_summary ?? "",
    actions: item.ipass?.action_list ?? "",
    awareness: item.ipass?.situation_awareness ?? "",
    alerts: item.critical_alerts.join("\n"),
    medications: item.medication_changes.join("\n"),
    recentEvents: item.recent_events,
    codeStatus: item.code_status,
    tasks: item.tasks.map((t) => ({ id: t.id, text: t.text, owner: t.owner ?? "", due: t.due_ts ? toLocalInput(t.due_ts) : "", dueTs: t.due_ts })),
    contingencies: item.contingencies.map((c) => ({ key: newClientId(), if: c.if, then: c.then })),
  };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** Which item this draft becomes: a new patient (version 1) or the next version of one. */
export interface ItemBasis {
  handoffId: string;
  entryId: string;
  version: number;
  /** The current version's event, for an edit. */
  replaces?: string | undefined;
  template: HandoffTemplate;
  /** The bot's opening message, which every item refers to. */
  anchorEventId: string | null;
}

const WORDING: FieldErrors = {
  illness_severity: "Choose the illness severity.",
};

/**
 * Errors by field: SBAR/I-PASS sections by their own name ("situation"), rows of tasks and
 * contingencies by row and part ("tasks.1.due_ts"), anything else by its top-level name.
 */
function itemErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const [top, ...rest] = issue.path.map(String);
    let key = top ?? "form";
    if ((top === "sbar" || top === "ipass") && rest[0]) key = rest[0];
    else if ((top === "tasks" || top === "contingencies") && rest.length >= 2) key = [top, ...rest.slice(0, 2)].join(".");
    const due = key.endsWith(".due_ts") ? "Enter the due date and time, or leave it empty." : undefined;
    out[key] ??= WORDING[key] ?? due ?? sentence(issue.message);
  }
  return out;
}

/** The item event's content, validated with the shared schema, or the errors to show beside the fields. */
export function buildItem(draft: ItemDraft, basis: ItemBasis): { content: HandoffItemContent } | { errors: FieldErrors } {
  const label = draft.label.trim();
  const sections =
    basis.template === "sbar"
      ? { sbar: { situation: draft.situation, background: draft.background, assessment: draft.assessment, recommendation: draft.recommendation } }
      : { ipass: { illness_severity: draft.severity, patient_summary: draft.summary, action_list: draft.actions, situation_awareness: draft.awareness } };
  const parsed = validators().HandoffItemContentSchema.safeParse({
    handoff_id: basis.handoffId,
    entry_id: basis.entryId,
    version: basis.version,
    ...(basis.replaces ? { replaces: basis.replaces } : {}),
    template: basis.template,
    patient_ref: draft.patientRef.trim(),
    ...(label ? { label } : {}),
    ...sections,
    critical_alerts: lines(draft.alerts),
    tasks: draft.tasks.map((t) => ({
      id: t.id,
      text: t.text,
      ...(t.owner.trim() ? { owner: t.owner.trim() } : {}),
      ...(t.due.trim() ? { due_ts: t.dueTs !== undefined && toLocalInput(t.dueTs) === t.due.trim() ? t.dueTs : fromLocalInput(t.due.trim()) } : {}),
    })),
    medication_changes: lines(draft.medications),
    recent_events: draft.recentEvents,
    code_status: draft.codeStatus,
    contingencies: draft.contingencies.map((c) => ({ if: c.if, then: c.then })),
    ...reference(basis.anchorEventId),
  });
  return parsed.success ? { content: parsed.data } : { errors: itemErrors(parsed.error) };
}
