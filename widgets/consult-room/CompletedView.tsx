import type { ConsultReportContent } from "../../appservice/shared/events/index.js";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import { OUTCOME_OPTIONS } from "./billingOptions.js";

function ReportView({ report }: { report: ConsultReportContent | null }) {
  if (!report) return <p class="muted">Element has not loaded the report yet, so it cannot be shown here.</p>;
  const parts: [string, string][] = [
    ["Findings", report.findings],
    ["Assessment", report.assessment],
    ["Recommendations", report.recommendations],
    ["Follow-up", report.follow_up],
  ];
  return (
    <>
      {parts
        .filter(([, text]) => text)
        .map(([title, text]) => (
          <div key={title}>
            <h3>{title}</h3>
            <p class="prose">{text}</p>
          </div>
        ))}
    </>
  );
}

/** Everyone's view of a completed consult: the report, the billing suggestion and any feedback. */
export function CompletedView({ report, view }: { report: ConsultReportContent | null; view: ConsultView | null }) {
  const suggestion = view?.billing_suggestion;
  const outcome = OUTCOME_OPTIONS.find((o) => o.value === view?.outcome)?.label;
  return (
    <>
      <section aria-label="Report">
        <h2>Report</h2>
        <ReportView report={report} />
      </section>
      {suggestion && (
        <section aria-label="Billing suggestion" class="panel">
          <h2>Billing suggestion</h2>
          <p class="muted">A suggestion only, made from the consultant's billing inputs. Check it against your coding rules before billing.</p>
          <p>
            <strong>{suggestion.code}</strong> — {suggestion.description}
          </p>
          <p>
            <strong>Why:</strong> {suggestion.rationale}
          </p>
        </section>
      )}
      {view && view.rating !== null && (
        <p>
          <strong>Requester's feedback:</strong> {view.rating} of 5{outcome && `, ${outcome.toLowerCase()}`}.
        </p>
      )}
    </>
  );
}
