import { DateTime } from "luxon";
import type { HandoffItemContent } from "../shared/events.js";
import type { Outstanding } from "../shared/handoffApi.js";

/**
 * What the handoff bot says. Messages in the handoff room are encrypted, so the item echo may
 * carry clinical text; direct messages and unit-room notices may show on a lock screen, so they
 * carry numbers, units and Matrix ids only.
 */
export const time = (d: Date, zone: string) => DateTime.fromJSDate(d, { zone }).toFormat("HH:mm");

export function outstandingText(o: Outstanding): string {
  const parts: string[] = [];
  if (o.missing_read_back.length) parts.push(`${plural(o.missing_read_back.length, "patient")} without a read-back (${o.missing_read_back.map((n) => `#${n}`).join(", ")})`);
  if (o.open_questions.length) parts.push(`${plural(o.open_questions.length, "open question")} (${o.open_questions.map((n) => `Q${n}`).join(", ")})`);
  if (o.checklist.length) parts.push(`${plural(o.checklist.length, "unticked checklist item")} (${o.checklist.join("; ")})`);
  return parts.join(", ");
}

export function isClear(o: Outstanding): boolean {
  return !o.missing_read_back.length && !o.open_questions.length && !o.checklist.length;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function opening(p: { number: number; unitName: string; outgoing: string; incoming: string; deadline: Date; timezone: string; template: string; mode: string; location?: string }): string {
  const where = p.mode === "virtual" ? "virtual (in this room)" : `face to face${p.location ? ` in ${p.location}` : ""}`;
  return [
    `Handoff #${p.number} on ${p.unitName}: ${p.outgoing} hands over to ${p.incoming} (${p.template === "ipass" ? "I-PASS" : "SBAR"}, ${where}). Sign off by ${time(p.deadline, p.timezone)}.`,
    `Use the Handoff widget above. Without widgets: ${p.outgoing} adds patients with !handoff add, ${p.incoming} answers each with !handoff readback <n> or !handoff question <n>, and both finish with !handoff signoff. Send !handoff help for all commands.`,
  ].join("\n");
}

/** A readable copy of an item for clients that show no widgets (encrypted in the handoff room). */
export function itemText(n: number, item: HandoffItemContent, by: string): string {
  const lines = [`Patient ${n}${item.label ? ` — ${item.label}` : ""} (${item.patient_ref})${item.version > 1 ? `, version ${item.version}` : ""}, presented by ${by}`];
  for (const a of item.critical_alerts) lines.push(`⚠️ CRITICAL: ${a}`);
  if (item.sbar) {
    lines.push(`S: ${item.sbar.situation}`, `B: ${item.sbar.background}`, `A: ${item.sbar.assessment}`, `R: ${item.sbar.recommendation}`);
  }
  if (item.ipass) {
    lines.push(`Illness severity: ${item.ipass.illness_severity}`, `Patient summary: ${item.ipass.patient_summary}`, `Action list: ${item.ipass.action_list}`, `Situation awareness: ${item.ipass.situation_awareness}`);
  }
  for (const m of item.medication_changes) lines.push(`💊 MEDICATION CHANGE: ${m}`);
  for (const t of item.tasks) lines.push(`☐ Task: ${t.text}${t.owner ? ` (${t.owner})` : ""}${t.due_ts ? `, due ${new Date(t.due_ts).toISOString().slice(11, 16)} UTC` : ""}`);
  for (const c of item.contingencies) lines.push(`If ${c.if} then ${c.then}`);
  if (item.code_status) lines.push(`Code status: ${item.code_status}`);
  if (item.recent_events) lines.push(`Recent events: ${item.recent_events}`);
  lines.push(`Read back with !handoff readback ${n} <your summary>, or ask with !handoff question ${n} <question>.`);
  return lines.join("\n");
}
