import { DateTime } from "luxon";
import type { ConsultReportContent, Urgency } from "../shared/events/index.js";
import type { BillingSuggestion } from "./billing.js";

export const BILLING_HEADING = "Suggested billing code — a suggestion only; the billing clinician decides";

/** What the formal report is made of. Patient reference and question are read back from the encrypted room. */
export interface ReportInput {
  number: number;
  serviceName: string;
  urgency: Urgency;
  requester: string;
  consultant: string;
  requestedAt: Date;
  acceptedAt: Date | null;
  completedAt: Date;
  /** The service's time zone, so times read as the clinicians' wall clock. */
  timezone: string;
  /** null when the relayed request could not be read back. */
  patientRef: string | null;
  question: string | null;
  report: Pick<ConsultReportContent, "findings" | "assessment" | "recommendations" | "follow_up">;
  billing: BillingSuggestion;
}

const UNREADABLE = "_(could not be read back from the room; see the request above)_";

/** The formal consult report in Markdown: posted as an encrypted message and an encrypted attachment. */
export function renderReport(r: ReportInput): string {
  const time = (d: Date | null) => (d ? DateTime.fromJSDate(d, { zone: r.timezone }).toFormat("yyyy-LL-dd HH:mm ZZZZ") : "—");
  const section = (title: string, text: string) => [`## ${title}`, "", text.trim() || "_None._", ""];
  return [
    `# Consult report #${r.number} — ${r.serviceName}`,
    "",
    "| | |",
    "|---|---|",
    `| Consult | #${r.number} |`,
    `| Service | ${r.serviceName} |`,
    `| Urgency | ${r.urgency} |`,
    `| Requested by | ${r.requester} |`,
    `| Consultant | ${r.consultant} |`,
    `| Requested | ${time(r.requestedAt)} |`,
    `| Accepted | ${time(r.acceptedAt)} |`,
    `| Completed | ${time(r.completedAt)} |`,
    `| Patient | ${r.patientRef ? tableCell(r.patientRef) : UNREADABLE} |`,
    "",
    ...section("Question", r.question ?? UNREADABLE),
    ...section("Findings", r.report.findings),
    ...section("Assessment", r.report.assessment),
    ...section("Recommendations", r.report.recommendations),
    ...section("Follow-up", r.report.follow_up ?? ""),
    `## ${BILLING_HEADING}`,
    "",
    `**${r.billing.code}** — ${r.billing.description}`,
    "",
    `Rationale: ${r.billing.rationale}`,
    "",
  ].join("\n");
}

function tableCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
