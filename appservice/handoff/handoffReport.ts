import { DateTime } from "luxon";
import type { HandoffItemContent, HandoffMode, HandoffTemplate, IncidentCategory } from "../shared/events/index.js";
import type { HandoffChecklistView, Outstanding } from "../shared/handoffApi.js";

/**
 * What the handoff report is made of. Items, read-backs, questions, answers, task texts and the
 * override reason are read back from the encrypted handoff room; each is null when it could not be.
 */
export interface HandoffReportInput {
  number: number;
  unitName: string;
  template: HandoffTemplate;
  mode: HandoffMode;
  outgoing: string;
  incoming: string;
  /** The unit's time zone, so times read as the clinicians' wall clock. */
  timezone: string;
  startedAt: Date;
  deadline: Date;
  completedAt: Date;
  scheduledFor: Date | null;
  overdue: boolean;
  escalatedTo: string[];
  /** In list order. */
  patients: {
    number: number;
    version: number;
    /** null: could not be read back from the room. */
    item: HandoffItemContent | null;
    presentedBy: string;
    presentedAt: Date;
    /** null: no read-back; summary null: the read-back could not be read back from the room. */
    readBack: { summary: string | null; by: string; at: Date } | null;
    questions: {
      number: number;
      text: string | null;
      askedBy: string;
      askedAt: Date;
      answer: { text: string | null; by: string; at: Date } | null;
    }[];
  }[];
  tasks: { patientNumber: number; text: string | null; owner: string; previousOwner: string | null; due: Date | null; status: "open" | "done" }[];
  signOffs: { user: string; at: Date; override: { reason: string | null; outstanding: Outstanding } | null }[];
  checklist: HandoffChecklistView[];
  incidents: { number: number; patientNumber: number; category: IncidentCategory; by: string; at: Date }[];
}

const UNREADABLE = "_(could not be read back from the room; see the handoff room)_";

const TEMPLATE_NAMES: Record<HandoffTemplate, string> = { sbar: "SBAR", ipass: "I-PASS" };
const MODE_NAMES: Record<HandoffMode, string> = { face_to_face: "face to face", virtual: "virtual" };
const SEVERITY_NAMES: Record<string, string> = { stable: "Stable", watcher: "Watcher", unstable: "**Unstable**" };
const INCIDENT_NAMES: Record<IncidentCategory, string> = {
  omission: "omission",
  wrong_information: "wrong information",
  unclear: "unclear",
  delay: "delay",
  task_not_done: "task not done",
  other: "other",
};

type Patient = HandoffReportInput["patients"][number];

/** The handoff report in Markdown: posted only as an encrypted message and an encrypted attachment. */
export function renderHandoffReport(r: HandoffReportInput): string {
  const time = (d: Date | number | null) => (d === null ? "—" : localTime(d, r.timezone));
  const late = lateNotes(r, time);
  return [
    `# Handoff report #${r.number} — ${r.unitName}`,
    "",
    "| | |",
    "|---|---|",
    `| Handoff | #${r.number} |`,
    `| Unit | ${tableCell(r.unitName)} |`,
    `| Handed over | ${r.outgoing} → ${r.incoming} |`,
    `| Template | ${TEMPLATE_NAMES[r.template]} |`,
    `| Mode | ${MODE_NAMES[r.mode]} |`,
    `| Scheduled for | ${r.scheduledFor ? time(r.scheduledFor) : "— (started by hand)"} |`,
    `| Started | ${time(r.startedAt)} |`,
    `| Deadline | ${time(r.deadline)} |`,
    `| Completed | ${time(r.completedAt)} |`,
    `| Duration | ${durationMinutes(r)} min |`,
    "",
    ...late.flatMap((note) => [note, ""]),
    "## Patients",
    "",
    ...(r.patients.length === 0 ? ["_No patients were handed over._", ""] : r.patients.flatMap((p) => patientSection(r, p, time))),
    "## Tasks transferred",
    "",
    ...listOr(r.tasks.map((t) => taskLine(t, time)), "_No tasks._"),
    "## Checklist",
    "",
    ...listOr(
      r.checklist.map((c) => (c.done ? `- ✓ ${c.label} — ticked${c.by ? ` by ${c.by}` : ""}${c.ts !== null ? ` at ${time(c.ts)}` : ""}` : `- ✗ ${c.label} — **not ticked**`)),
      "_No checklist on this unit._",
    ),
    "## Sign-offs",
    "",
    ...listOr(r.signOffs.flatMap((s) => signOffLines(s, time)), "_None._"),
    "## Incidents reported",
    "",
    ...listOr(
      r.incidents.map((i) => `- Incident #${i.number} — patient ${i.patientNumber}, ${INCIDENT_NAMES[i.category] ?? i.category}, reported by ${i.by} at ${time(i.at)}`),
      "_None reported._",
    ),
  ].join("\n");
}

/** The short message posted with the report attachment: counts, people and numbers, one paragraph. */
export function handoffReportSummary(r: HandoffReportInput): string {
  const readBack = r.patients.filter((p) => p.readBack !== null).length;
  const questions = r.patients.flatMap((p) => p.questions);
  const answered = questions.filter((q) => q.answer !== null).length;
  const parts = [
    `Handoff #${r.number} on ${r.unitName} completed: ${count(r.patients.length, "patient")}, ${readBack} read back, ${questionWords(questions.length, answered)}, ${transferredWords(r)}.`,
  ];
  const escalated = r.escalatedTo.length > 0 ? `escalated to ${words(r.escalatedTo)}` : "";
  if (isLate(r)) parts.push(`It was completed after its deadline${escalated ? ` and ${escalated}` : ""}.`);
  else if (escalated) parts.push(`It was ${escalated}.`);
  for (const s of r.signOffs) {
    if (s.override) parts.push(`${s.user} signed off with an override: ${outstandingWords(s.override.outstanding)}.`);
  }
  parts.push("Full report attached.");
  return parts.join(" ");
}

function patientSection(r: HandoffReportInput, p: Patient, time: (d: Date | number | null) => string): string[] {
  const item = p.item;
  const label = item?.label?.trim();
  const out = [`### Patient ${p.number}${label ? ` — ${label}` : ""}`, ""];
  const presented = `Presented by ${p.presentedBy} at ${time(p.presentedAt)}${p.version > 1 ? ` (edited, version ${p.version})` : ""}.`;
  if (!item) {
    out.push(`Patient reference: ${UNREADABLE}`, "", presented, "", UNREADABLE, "");
  } else {
    const alerts = item.critical_alerts ?? [];
    if (alerts.length > 0) out.push(alerts.map((a) => `> ⚠️ **CRITICAL ALERT: ${inline(a)}**`).join("\n>\n"), "");
    out.push(`Patient reference: ${item.patient_ref || UNREADABLE}`, "", presented, "");
    out.push(`**Code status:** ${item.code_status?.trim() ? inline(item.code_status) : "_not stated_"}`, "");
    out.push(...templateFields(item, r.template));
    out.push(...field("Medication changes", bullets((item.medication_changes ?? []).map((m) => `**${inline(m)}**`))));
    out.push(
      ...field(
        "Pending tasks",
        bullets(
          (item.tasks ?? []).map((t) => `${indented(t.text)} — owner ${t.owner ?? r.outgoing}, ${t.due_ts !== undefined ? `due ${time(t.due_ts)}` : "no due time"}`),
        ),
      ),
    );
    out.push(...field("Contingencies", bullets((item.contingencies ?? []).map((c) => `If ${inline(c.if)} then ${inline(c.then)}`))));
    out.push(...field("Recent events", item.recent_events ?? ""));
  }
  const readBackHeading = (item?.template ?? r.template) === "ipass" ? "Synthesis by receiver (read-back)" : "Read-back";
  out.push(
    ...field(
      readBackHeading,
      p.readBack ? `By ${p.readBack.by} at ${time(p.readBack.at)}: ${p.readBack.summary?.trim() || UNREADABLE}` : "**No read-back**",
    ),
  );
  out.push(
    ...field(
      "Questions",
      p.questions
        .map((q) => {
          const answer = q.answer
            ? `   - Answer by ${q.answer.by} at ${time(q.answer.at)}: ${q.answer.text?.trim() ? indented(q.answer.text, 5) : UNREADABLE}`
            : "   - **unanswered**";
          return `- Question ${q.number}, asked by ${q.askedBy} at ${time(q.askedAt)}: ${q.text?.trim() ? indented(q.text) : UNREADABLE}\n${answer}`;
        })
        .join("\n"),
    ),
  );
  return out;
}

/** The template's own fields under their proper headings; the item's template wins if it differs. */
function templateFields(item: HandoffItemContent, fallback: HandoffTemplate): string[] {
  const template = item.template ?? fallback;
  if (template === "ipass") {
    const i = item.ipass;
    if (!i) return field("I-PASS", UNREADABLE);
    return [
      ...field("Illness severity", SEVERITY_NAMES[i.illness_severity] ?? i.illness_severity),
      ...field("Patient summary", i.patient_summary),
      ...field("Action list", i.action_list),
      ...field("Situation awareness & contingency", i.situation_awareness),
    ];
  }
  const s = item.sbar;
  if (!s) return field("SBAR", UNREADABLE);
  return [...field("Situation", s.situation), ...field("Background", s.background), ...field("Assessment", s.assessment), ...field("Recommendation", s.recommendation)];
}

function taskLine(t: HandoffReportInput["tasks"][number], time: (d: Date | null) => string): string {
  const who = t.previousOwner && t.previousOwner !== t.owner ? `from ${t.previousOwner} → ${t.owner}` : `stays with ${t.owner}`;
  const due = t.due ? `due ${time(t.due)}` : "no due time";
  const text = t.text?.trim() ? indented(t.text) : UNREADABLE;
  return `- Patient ${t.patientNumber}: ${text} — ${who}, ${due}${t.status === "done" ? " (done)" : ""}`;
}

function signOffLines(s: HandoffReportInput["signOffs"][number], time: (d: Date) => string): string[] {
  const lines = [`- ${s.user} at ${time(s.at)}${s.override ? " — **with an override**" : ""}`];
  if (s.override) {
    lines.push(`   - Reason: ${s.override.reason?.trim() ? indented(s.override.reason, 5) : UNREADABLE}`);
    lines.push(`   - Outstanding at sign-off: ${outstandingWords(s.override.outstanding)}`);
  }
  return lines;
}

/** What was outstanding, in words, by number and label only. */
function outstandingWords(o: Outstanding): string {
  const parts: string[] = [];
  if (o.missing_read_back.length > 0) {
    parts.push(o.missing_read_back.length === 1 ? `no read-back for patient ${o.missing_read_back[0]}` : `no read-back for patients ${words(o.missing_read_back.map(String))}`);
  }
  if (o.open_questions.length > 0) {
    parts.push(o.open_questions.length === 1 ? `question ${o.open_questions[0]} unanswered` : `questions ${words(o.open_questions.map(String))} unanswered`);
  }
  if (o.checklist.length > 0) parts.push(`checklist not ticked: ${o.checklist.map((l) => `"${l}"`).join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : "nothing was listed as outstanding";
}

function lateNotes(r: HandoffReportInput, time: (d: Date) => string): string[] {
  const notes: string[] = [];
  if (isLate(r)) notes.push(`⏰ **Completed after its deadline** (${time(r.deadline)}).`);
  if (r.escalatedTo.length > 0) notes.push(`Escalated to ${words(r.escalatedTo)}.`);
  return notes;
}

function isLate(r: HandoffReportInput): boolean {
  return r.overdue || r.completedAt.getTime() > r.deadline.getTime();
}

function durationMinutes(r: HandoffReportInput): number {
  return Math.max(0, Math.round((r.completedAt.getTime() - r.startedAt.getTime()) / 60_000));
}

function transferredWords(r: HandoffReportInput): string {
  const byOwner = new Map<string, number>();
  for (const t of r.tasks) {
    if (t.previousOwner && t.previousOwner !== t.owner) byOwner.set(t.owner, (byOwner.get(t.owner) ?? 0) + 1);
  }
  if (byOwner.size === 0) return "no tasks transferred";
  return [...byOwner.entries()].map(([owner, n], i) => `${i === 0 ? count(n, "task") : n} to ${owner}`).join(", ");
}

function questionWords(total: number, answered: number): string {
  if (total === 0) return "no questions";
  if (answered === total) return `${count(total, "question")} (${total === 1 ? "answered" : "all answered"})`;
  if (answered === 0) return `${count(total, "question")} (${total === 1 ? "unanswered" : "none answered"})`;
  return `${count(total, "question")} (${answered} answered, ${total - answered} open)`;
}

function field(title: string, text: string): string[] {
  return [`#### ${title}`, "", text.trim() || "_None._", ""];
}

function bullets(lines: string[]): string {
  return lines.map((l) => `- ${l}`).join("\n");
}

function listOr(lines: string[], none: string): string[] {
  return [...(lines.length > 0 ? lines : [none]), ""];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** "a", "a and b", "a, b and c". */
function words(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Free text on one line, for bold runs and blockquotes that a line break would cut. */
function inline(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " ");
}

/** Free text inside a list item: later lines indented so they stay in the item. */
function indented(text: string, by = 2): string {
  return text.trim().replace(/\n/g, `\n${" ".repeat(by)}`);
}

function localTime(at: Date | number, zone: string): string {
  const d = typeof at === "number" ? DateTime.fromMillis(at, { zone }) : DateTime.fromJSDate(at, { zone });
  return d.toFormat("yyyy-LL-dd HH:mm ZZZZ");
}

function tableCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
