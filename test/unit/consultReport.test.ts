import { expect } from "chai";
import { suggestBillingCode } from "../../appservice/consult/billing.js";
import { humanMinutes } from "../../appservice/consult/consultMessages.js";
import { BILLING_HEADING, renderReport, type ReportInput } from "../../appservice/consult/consultReport.js";

const input: ReportInput = {
  number: 42,
  serviceName: "Cardiology",
  urgency: "urgent",
  requester: "@ward:x.org",
  consultant: "@cardio1:x.org",
  requestedAt: new Date("2026-03-10T12:00:00Z"),
  acceptedAt: new Date("2026-03-10T12:07:00Z"),
  completedAt: new Date("2026-03-10T13:02:00Z"),
  timezone: "Europe/London",
  patientRef: "Encounter/enc-1",
  question: "Rising troponin after PCI: anticoagulation?",
  report: { findings: "Sinus rhythm.", assessment: "Type 2 MI unlikely.", recommendations: "Repeat troponin in 6 h.", follow_up: "" },
  billing: suggestBillingCode({ consult_type: "initial", setting: "inpatient", complexity: "moderate", minutes: 50 }),
};

describe("consult report", function () {
  it("has every section, the times in the service's zone and the billing suggestion marked as one", function () {
    const md = renderReport(input);
    expect(md.startsWith("# Consult report #42 — Cardiology\n")).to.equal(true);
    for (const line of [
      "| Consult | #42 |",
      "| Service | Cardiology |",
      "| Urgency | urgent |",
      "| Requested by | @ward:x.org |",
      "| Consultant | @cardio1:x.org |",
      "| Requested | 2026-03-10 12:00 GMT |",
      "| Accepted | 2026-03-10 12:07 GMT |",
      "| Completed | 2026-03-10 13:02 GMT |",
      "| Patient | Encounter/enc-1 |",
      "## Question\n\nRising troponin after PCI: anticoagulation?\n",
      "## Findings\n\nSinus rhythm.\n",
      "## Assessment\n\nType 2 MI unlikely.\n",
      "## Recommendations\n\nRepeat troponin in 6 h.\n",
      "## Follow-up\n\n_None._\n",
      `## ${BILLING_HEADING}\n`,
      "**99254** — Inpatient or observation consultation, moderate MDM or 60 minutes",
      `Rationale: ${input.billing.rationale}`,
    ]) {
      expect(md).to.contain(line);
    }
    expect(BILLING_HEADING).to.equal("Suggested billing code — a suggestion only; the billing clinician decides");
    const order = ["## Question", "## Findings", "## Assessment", "## Recommendations", "## Follow-up", "## Suggested billing code"].map((h) => md.indexOf(h));
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
  });

  it("says so when the request could not be read back, and keeps the table intact", function () {
    const md = renderReport({ ...input, patientRef: null, question: null, acceptedAt: null });
    expect(md).to.contain("| Patient | _(could not be read back from the room; see the request above)_ |");
    expect(md).to.contain("## Question\n\n_(could not be read back");
    expect(md).to.contain("| Accepted | — |");
    expect(renderReport({ ...input, patientRef: "Patient/a|b" })).to.contain("| Patient | Patient/a\\|b |");
  });
});

describe("consult times in words", function () {
  it("reads minutes, hours, days and second-scale windows", function () {
    expect([0.5, 5, 59, 60, 90, 240, 1440, 2880, 75.5].map(humanMinutes)).to.deep.equal(["30 s", "5 min", "59 min", "1 h", "1 h 30 min", "4 h", "1 day", "2 days", "76 min"]);
  });
});
