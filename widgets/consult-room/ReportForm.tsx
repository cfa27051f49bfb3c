import { useState } from "preact/hooks";
import type { ConsultReportContent } from "../../appservice/shared/events/index.js";
import { ActionRow, SelectField, TextField, fieldErrors, useAction, useErrorSummary, wholeNumber, type FieldErrors } from "../lib/forms.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import type { ActionProps } from "./actionProps.js";
import { COMPLEXITY_OPTIONS, CONSULT_TYPE_OPTIONS, SETTING_OPTIONS } from "./billingOptions.js";
import { validators } from "../lib/validators.js";

export interface ReportFormProps extends ActionProps {
  /** Sends the encrypted report event into the consult room; returns its event id. */
  sendReport: (content: ConsultReportContent) => Promise<string>;
  /** The relayed request event, which the report refers to (m.reference). */
  requestEventId: string | null;
}

const BILLING_WORDING = {
  consult_type: "Choose the consult type.",
  setting: "Choose the setting.",
  complexity: "Choose the complexity.",
  minutes: "Enter the minutes you spent, from 1 to 1440.",
};

/**
 * The consultant's report. The clinical fields go into an encrypted room event; only that event's
 * id and the billing inputs (workflow facts, no PHI) go to the API.
 */
export function ReportForm({ api, roomId, consult, onView, sendReport, requestEventId }: ReportFormProps) {
  const [text, setText] = useState({ findings: "", assessment: "", recommendations: "", follow_up: "" });
  const [billing, setBilling] = useState({ consult_type: "", setting: "", complexity: "", minutes: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  // A report already sent by a completion that then failed is reused while the text is unchanged.
  const once = useSendOnce();
  const action = useAction();
  const invalid = useErrorSummary();

  const complete = (e: Event) => {
    e.preventDefault();
    const report = validators().ConsultReportContentSchema.safeParse({ consult_id: consult.id, ...text });
    const bill = validators().BillingInputSchema.safeParse({ ...billing, minutes: wholeNumber(billing.minutes) });
    const errs = { ...(report.success ? {} : fieldErrors(report.error)), ...(bill.success ? {} : fieldErrors(bill.error, BILLING_WORDING)) };
    setErrors(errs);
    if (!report.success || !bill.success) return invalid.show();
    invalid.clear();
    const content: ConsultReportContent = requestEventId
      ? { ...report.data, "m.relates_to": { rel_type: "m.reference", event_id: requestEventId } }
      : report.data;
    void action.run("Sending the encrypted report…", async (step) => {
      const eventId = await once.send(content, () => sendReport(content));
      step("Completing the consult…");
      onView((await api.complete(consult.id, { room_id: roomId, report_event_id: eventId, billing: bill.data })).consult);
    });
  };
  const setField = (k: keyof typeof text) => (v: string) => setText((t) => ({ ...t, [k]: v }));
  const setBill = (k: keyof typeof billing) => (v: string) => setBilling((b) => ({ ...b, [k]: v }));

  return (
    <form aria-label="Consult report" onSubmit={complete} noValidate ref={invalid.formRef}>
      <h2>Report</h2>
      {invalid.summary}
      <TextField id="report-findings" label="Findings" rows={4} value={text.findings} onValue={setField("findings")} error={errors.findings} />
      <TextField id="report-assessment" label="Assessment" rows={3} value={text.assessment} onValue={setField("assessment")} error={errors.assessment} />
      <TextField
        id="report-recommendations"
        label="Recommendations"
        rows={4}
        value={text.recommendations}
        onValue={setField("recommendations")}
        error={errors.recommendations}
      />
      <TextField id="report-follow-up" label="Follow-up (optional)" rows={2} value={text.follow_up} onValue={setField("follow_up")} error={errors.follow_up} />
      <h3>Billing inputs</h3>
      <SelectField
        id="billing-type"
        label="Consult type"
        placeholder="Choose…"
        options={CONSULT_TYPE_OPTIONS}
        value={billing.consult_type}
        onValue={setBill("consult_type")}
        error={errors.consult_type}
      />
      <SelectField id="billing-setting" label="Setting" placeholder="Choose…" options={SETTING_OPTIONS} value={billing.setting} onValue={setBill("setting")} error={errors.setting} />
      <SelectField
        id="billing-complexity"
        label="Complexity"
        placeholder="Choose…"
        options={COMPLEXITY_OPTIONS}
        value={billing.complexity}
        onValue={setBill("complexity")}
        error={errors.complexity}
      />
      <TextField
        id="billing-minutes"
        label="Time spent (minutes)"
        hint="Total time you spent on this consult."
        type="number"
        value={billing.minutes}
        onValue={setBill("minutes")}
        error={errors.minutes}
      />
      <ActionRow label="Complete consult" busy={action.busy} error={action.error} />
    </form>
  );
}
