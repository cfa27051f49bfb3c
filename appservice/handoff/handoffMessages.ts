import { DateTime } from "luxon";
import type { HandoffItemContent } from "../shared/events/index.js";
import type { Outstanding } from "../shared/handoffApi.js";

/**
 * What the handoff bot says. Messages in the handoff room are encrypted, so the item echo may
 * carry clinical text; direct messages and unit-room notices may show on a lock screen, so they
 * carry numbers, units and Matrix ids only.
 */
export const time = (d: Date, zone: string) => DateTime.fromJSDate(d, { zone }).toFormat("HH:mm");

/** "14:30 UTC" today, "Tue 3 Mar 07:00 GMT" on another day, in the unit's zone. */
export function clock(ts: number, zone: string, now: Date): string {
  let t = DateTime.fromMillis(ts, { zone });
  if (!t.isValid) t = DateTime.fromMillis(ts, { zone: "UTC" });
  return t.hasSame(DateTime.fromJSDate(now, { zone: t.zone }), "day") ? t.toFormat("HH:mm ZZZZ") : t.toFormat("ccc d LLL HH:mm ZZZZ");
}

/** Continuation lines of a multi-line field, indented under their label. */
export function indent(text: string, by = "   "): string {
  return text.replace(/\n/g, `\n${by}`);
}

export function outstandingText(o: Outstanding): string {
  const parts: string[] = [];
  if (o.missing_read_back.length) parts.push(`${plural(o.missing_read_back.length, "patient")} without a read-back (${o.missing_read_back.map((n) => `#${n}`).join(", ")})`);
  if (o.open_questions.length) parts.push(`${plural(o.open_questions.length, "open question")} (${o.open_questions.map((n) => `Q${n}`).join(", ")})`);
  if (o.checklist.length) parts.push(`${plural(o.checklist.length, "unticked checklist item")} (${o.checklist.join("; ")})`);
  return parts.join(", ");
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const templateName = (template: string) => (template === "ipass" ? "I-PASS" : "SBAR");
const categoryName = (category: string) => category.replace(/_/g, " ");

export function opening(p: { number: number; unitName: string; outgoing: string; incoming: string; deadline: Date; timezone: string; template: string; mode: string; location?: string }): string {
  const where = p.mode === "virtual" ? "virtual (in this room)" : `face to face${p.location ? ` in ${p.location}` : ""}`;
  return [
    `Handoff #${p.number} on ${p.unitName}: ${p.outgoing} hands over to ${p.incoming} (${templateName(p.template)}, ${where}). Sign off by ${time(p.deadline, p.timezone)}.`,
    `Use the Handoff widget above. Without widgets: ${p.outgoing} adds patients with !handoff add, ${p.incoming} answers each with !handoff readback <n> or !handoff question <n>, and both finish with !handoff signoff. Send !handoff help for all commands.`,
  ].join("\n");
}

/** A task of an item as it is tracked once recorded: its owner and due time may have moved on since. */
export interface TrackedTask {
  task_id: string;
  owner: string;
  due_ts: number | null;
  status: "open" | "done" | "removed";
}

export interface ItemTextOptions {
  /** The patient's number on the list, and the item's version. */
  number: number;
  version: number;
  presentedBy: string;
  /** Who owns a task that names no owner: the outgoing clinician. */
  outgoing: string;
  /** The zone due and read-back times are shown in, and the moment "today" is told from. */
  zone: string;
  now: Date;
  /** The tasks as tracked (`!handoff show`); without them, each task as the item states it, open. */
  tracked?: TrackedTask[];
  /** Where the patient stands (`!handoff show`); without it, the hint on how to read back or ask. */
  standing?: { readBack: boolean; readbackBy: string | null; readbackTs: number | null; openQuestions: number[] };
}

/**
 * Patient n's item in full, for the encrypted handoff room: alerts first, then the template's
 * fields. The echo when an item is presented (for clients that show no widgets) and `!handoff show`.
 */
export function itemText(item: HandoffItemContent, o: ItemTextOptions): string {
  const lines: string[] = [];
  lines.push(`Patient ${o.number} — ${item.patient_ref}${item.label ? ` · ${item.label}` : ""} (version ${o.version}, presented by ${o.presentedBy})`);
  for (const a of item.critical_alerts ?? []) lines.push(`⚠️ CRITICAL: ${indent(a)}`);
  if (item.code_status) lines.push(`Code status: ${indent(item.code_status)}`);
  if (item.sbar) {
    lines.push(`S — Situation: ${indent(item.sbar.situation)}`);
    lines.push(`B — Background: ${indent(item.sbar.background)}`);
    lines.push(`A — Assessment: ${indent(item.sbar.assessment)}`);
    lines.push(`R — Recommendation: ${indent(item.sbar.recommendation)}`);
  }
  if (item.ipass) {
    lines.push(`Illness severity: ${item.ipass.illness_severity.toUpperCase()}`);
    lines.push(`Patient summary: ${indent(item.ipass.patient_summary)}`);
    lines.push(`Action list: ${indent(item.ipass.action_list)}`);
    lines.push(`Situation awareness: ${indent(item.ipass.situation_awareness)}`);
  }
  if (item.medication_changes?.length) {
    lines.push("💊 MEDICATION CHANGES:");
    for (const m of item.medication_changes) lines.push(`  💊 ${indent(m, "     ")}`);
  }
  if (item.tasks?.length) {
    lines.push("Tasks:");
    for (const t of item.tasks) {
      const tracked = o.tracked?.find((x) => x.task_id === t.id);
      const owner = tracked?.owner ?? t.owner ?? o.outgoing;
      const due = tracked ? tracked.due_ts : (t.due_ts ?? null);
      const state = tracked?.status === "done" ? "✓ done" : tracked?.status === "removed" ? "removed" : "☐";
      lines.push(`  ${state} ${indent(t.text, "     ")} — ${owner}${due ? `, due ${clock(due, o.zone, o.now)}` : ""}`);
    }
  }
  if (item.contingencies?.length) {
    lines.push("Contingencies:");
    for (const c of item.contingencies) lines.push(`  • If ${indent(c.if, "    ")} then ${indent(c.then, "    ")}`);
  }
  if (item.recent_events) lines.push(`Recent events: ${indent(item.recent_events)}`);
  const s = o.standing;
  if (!s) {
    lines.push(`Read back with !handoff readback ${o.number} <your summary>, or ask with !handoff question ${o.number} <question>.`);
    return lines.join("\n");
  }
  lines.push(s.readBack ? `Read back ✓${s.readbackBy ? ` by ${s.readbackBy}` : ""}${s.readbackTs ? ` at ${clock(s.readbackTs, o.zone, o.now)}` : ""}.` : `Not read back yet: !handoff readback ${o.number} <summary in your own words>.`);
  if (s.openQuestions.length) lines.push(`Open questions: ${s.openQuestions.map((q) => `#${q}`).join(", ")}.`);
  return lines.join("\n");
}

// --- the handoff room ----------------------------------------------------------------------

export const readAgain = (patient: number, incoming: string) => `Patient ${patient} changed after its read-back: ${incoming}, read it back again.`;

export const signOffsWithdrawn = () => `The list changed, so the sign-offs so far are withdrawn. Sign off again when ready.`;

export const patientRemoved = (patient: number, actor: string) =>
  `Patient ${patient} was removed from the list by ${actor}; questions about them no longer hold up the sign-off, and any sign-offs so far are withdrawn.`;

export const readBackDone = (actor: string, patient: number) => `${actor} read back patient ${patient}.`;

export const questionAsked = (p: { number: number; patient: number; actor: string; text: string }) => `Question Q${p.number} on patient ${p.patient} from ${p.actor}: ${p.text}\nAnswer with !handoff answer ${p.number} <answer>.`;

export const questionAnswered = (number: number, actor: string, text: string) => `Answer to Q${number} from ${actor}: ${text}`;

export function completed(h: { number: number; outgoing: string; incoming: string }, moved: number): string {
  return `Handoff #${h.number} is complete: signed off by ${h.outgoing} and ${h.incoming}.${moved ? ` ${plural(moved, "pending task")} now belong${moved === 1 ? "s" : ""} to ${h.incoming}.` : ""} The report follows.`;
}

export const signedOff = (p: { actor: string; number: number; overridden: boolean; other: string }) => `${p.actor} signed off handoff #${p.number}${p.overridden ? " with an override" : ""}. Waiting for ${p.other}.`;

export const cancelled = (number: number, actor: string) => `Handoff #${number} was cancelled by ${actor}. Pending tasks stay with their owners.`;

export const incidentNotice = (p: { actor: string; incident: number; category: string; patient: number }) =>
  `${p.actor} reported incident #${p.incident} (${categoryName(p.category)}) on patient ${p.patient || "(removed)"}. It links to the item; nothing was copied out of this room.`;

export function deadlineReminder(h: { number: number; deadline: Date; outgoing: string; incoming: string }, unit: { name: string; timezone: string; charge?: unknown }, left: string, escalateAt: Date): string {
  const next = unit.charge ? `the charge role on ${unit.name} is told at ${time(escalateAt, unit.timezone)}` : `${unit.name} has no charge role set up to tell, so ask your charge nurse yourselves if you are stuck`;
  return `Reminder: handoff #${h.number} was due to be signed off by ${time(h.deadline, unit.timezone)} and is not (${left}). ${h.outgoing}, ${h.incoming}: finish it now; ${next}.`;
}

export const noChargeRole = (number: number, unitName: string) => `Handoff #${number} is overdue, and ${unitName} has no charge role set up to tell. Ask your Rounds administrator to set one.`;

export const chargeTold = (number: number, charge: string[]) => `Handoff #${number} is still not signed off: ${charge.join(", ")} (charge) ${charge.length === 1 ? "has" : "have"} been told and invited.`;

export const taskDueInRoom = (owner: string, text: string | null) => `Task due now, ${owner}: ${text ?? "(see the item above)"}. Mark it done with !handoff done, or in your Handoffs widget.`;

// --- direct messages and the unit room: no clinical text ----------------------------------

/** Reviewers get a link to the item, not its content: they open it in the room if they may. */
export function incidentForReviewer(p: { incident: number; category: string; number: number; unitName: string; patient: number; actor: string; roomId: string; itemEventId: string }): string {
  const link = `https://matrix.to/#/${encodeURIComponent(p.roomId)}/${encodeURIComponent(p.itemEventId)}`;
  return `Incident report #${p.incident} (${categoryName(p.category)}) from handoff #${p.number} on ${p.unitName}, patient ${p.patient || "removed"}, by ${p.actor}. The item: ${link}`;
}

export function chargeEscalation(h: { number: number; outgoing: string; incoming: string; deadline: Date; roomId: string | null }, unit: { name: string; timezone: string }, left: string): string {
  const link = `https://matrix.to/#/${encodeURIComponent(h.roomId ?? "")}`;
  return `Handoff #${h.number} on ${unit.name} (${h.outgoing} to ${h.incoming}) is past its deadline of ${time(h.deadline, unit.timezone)}: ${left}. You are the charge role; you have been invited to its room: ${link}`;
}

/** For someone outside the handoff room (pharmacy, say): a direct message with a pointer, no clinical text. */
export const taskDueElsewhere = (number: number, patient: number | undefined, incoming: string) =>
  `A task handed to you in handoff #${number} (patient ${patient ?? "?"}) is due now. Ask ${incoming} for the details. To see and close it, send !handoff tasks, then !handoff done <n>, in your Handoffs room (send !handoff to me).`;

export function shiftHandoffOpen(p: { hhmm: string; number: number; outgoing: string; incoming: string; mode: string; location?: string; deadline: Date; timezone: string }): string {
  const where = p.mode === "virtual" ? "virtually, in its room" : `face to face${p.location ? ` in ${p.location}` : ""}`;
  return `Shift change ${p.hhmm}: handoff #${p.number} from ${p.outgoing} to ${p.incoming} is open, ${where}. Sign off by ${time(p.deadline, p.timezone)}.`;
}

export const shiftReminder = (hhmm: string, unitName: string, mode: string) =>
  `Shift change ${hhmm} on ${unitName}: start your handoffs (${mode === "virtual" ? "virtual" : "face to face"}) with !handoff start @incoming or the Handoffs widget.`;
