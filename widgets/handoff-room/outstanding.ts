import type { Outstanding } from "../../appservice/shared/handoffApi.js";

/** The element ids the not-ready list links to, so each item leads to what is missing. */
export const anchorId = {
  patients: "patients",
  patient: (n: number) => `patient-${n}`,
  question: (n: number) => `question-${n}`,
  checklist: "checklist",
} as const;

export interface OutstandingItem {
  text: string;
  /** Where in the widget the missing piece is. */
  href: string;
}

/**
 * What still stands between the handoff and its sign-off, one line per missing piece, as a
 * clinician reads it at a glance. `patients` is how many are on the list: with none, that is
 * said first, as a list with nothing to read back is a handoff of nobody.
 */
export function outstandingItems(o: Outstanding, patients: number): OutstandingItem[] {
  const out: OutstandingItem[] = [];
  if (patients === 0) out.push({ text: "No patient presented", href: `#${anchorId.patients}` });
  for (const n of o.missing_read_back) out.push({ text: `Read-back missing for patient ${n}`, href: `#${anchorId.patient(n)}` });
  for (const n of o.open_questions) out.push({ text: `Question ${n} not answered`, href: `#${anchorId.question(n)}` });
  for (const label of o.checklist) out.push({ text: `Checklist not done: ${label}`, href: `#${anchorId.checklist}` });
  return out;
}
