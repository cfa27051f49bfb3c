import type { Outstanding } from "../../appservice/shared/handoffApi.js";

const numbers = (ns: number[]) => (ns.length === 1 ? String(ns[0]) : `${ns.slice(0, -1).join(", ")} and ${ns.at(-1)}`);

/** What still stands between the handoff and its sign-off, as lines a clinician reads at a glance. */
export function outstandingLines(o: Outstanding): string[] {
  const out: string[] = [];
  if (o.missing_read_back.length) out.push(`Read-back missing for patient${o.missing_read_back.length > 1 ? "s" : ""} ${numbers(o.missing_read_back)}`);
  if (o.open_questions.length) out.push(`Question${o.open_questions.length > 1 ? "s" : ""} ${numbers(o.open_questions)} not answered`);
  if (o.checklist.length) out.push(`Checklist not done: ${o.checklist.join("; ")}`);
  return out;
}
