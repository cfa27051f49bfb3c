import { expect } from "chai";
import { handoffReportSummary, renderHandoffReport, type HandoffReportInput } from "../../appservice/handoff/handoffReport.js";
import type { HandoffItemContent } from "../../appservice/shared/events/index.js";

const OUT = "@out:x.org";
const IN = "@in:x.org";
const UNREADABLE = "_(could not be read back from the room; see the handoff room)_";
const at = (hhmm: string) => new Date(`2026-07-01T${hhmm}:00Z`);

const sbarItem: HandoffItemContent = {
  handoff_id: "h1",
  entry_id: "entry-1",
  version: 3,
  replaces: "$v2",
  template: "sbar",
  patient_ref: "Encounter/enc-12",
  label: "Bed 12",
  sbar: {
    situation: "Day 2 after hip replacement, new confusion.",
    background: "Dementia, lives alone.",
    assessment: "Likely delirium; sodium 128.",
    recommendation: "Repeat sodium at 22:00.",
  },
  critical_alerts: ["Potassium 6.1 at 18:40"],
  tasks: [{ id: "task-1", text: "Chase the 22:00 sodium", owner: IN, due_ts: at("21:00").getTime() }],
  medication_changes: ["Furosemide stopped"],
  recent_events: "Fall at 14:00, no injury.",
  code_status: "DNACPR",
  contingencies: [{ if: "sodium below 125", then: "call the medical registrar" }],
};

const ipassItem: HandoffItemContent = {
  handoff_id: "h1",
  entry_id: "entry-2",
  version: 1,
  template: "ipass",
  patient_ref: "Patient/p-7",
  ipass: {
    illness_severity: "watcher",
    patient_summary: "Sepsis from a urinary source, on day 3 of antibiotics.",
    action_list: "Check the lactate at 20:00.",
    situation_awareness: "If the blood pressure falls, give a fluid bolus.",
  },
  critical_alerts: [],
  tasks: [],
  medication_changes: [],
  recent_events: "",
  code_status: "",
  contingencies: [],
};

function input(over: Partial<HandoffReportInput> = {}): HandoffReportInput {
  return {
    number: 4,
    unitName: "4 West",
    template: "sbar",
    mode: "face_to_face",
    outgoing: OUT,
    incoming: IN,
    timezone: "Europe/Paris",
    startedAt: at("17:00"),
    deadline: at("17:30"),
    completedAt: at("17:25"),
    scheduledFor: at("17:00"),
    overdue: false,
    escalatedTo: [],
    patients: [
      {
        number: 1,
        version: 3,
        item: sbarItem,
        presentedBy: OUT,
        presentedAt: at("17:05"),
        readBack: { summary: "Confused after hip surgery; sodium again at 22:00.", by: IN, at: at("17:10") },
        questions: [
          {
            number: 1,
            text: "Is the family aware?",
            askedBy: IN,
            askedAt: at("17:08"),
            answer: { text: "Yes, daughter called at noon.", by: OUT, at: at("17:09") },
          },
        ],
      },
      {
        number: 2,
        version: 1,
        item: ipassItem,
        presentedBy: OUT,
        presentedAt: at("17:12"),
        readBack: { summary: "Septic, watch pressure, lactate at eight.", by: IN, at: at("17:15") },
        questions: [],
      },
    ],
    tasks: [
      { patientNumber: 1, text: "Chase the 22:00 sodium", owner: IN, previousOwner: OUT, due: at("21:00"), status: "open" },
      { patientNumber: 1, text: "Review the fall", owner: IN, previousOwner: OUT, due: null, status: "open" },
      { patientNumber: 2, text: "Physio referral", owner: "@physio:x.org", previousOwner: null, due: null, status: "open" },
      { patientNumber: 2, text: "Lactate at 20:00", owner: IN, previousOwner: OUT, due: at("18:00"), status: "done" },
    ],
    signOffs: [
      { user: OUT, at: at("17:20"), override: null },
      { user: IN, at: at("17:25"), override: null },
    ],
    checklist: [
      { label: "Drug chart reviewed", done: true, by: IN, ts: at("17:18").getTime() },
      { label: "Bed board updated", done: false, by: null, ts: null },
    ],
    incidents: [],
    ...over,
  };
}

/** The text between a heading line and the next heading. */
function under(md: string, heading: string): string {
  const start = md.indexOf(`${heading}\n`);
  expect(start, `heading ${heading}`).to.be.greaterThan(-1);
  const rest = md.slice(start + heading.length + 1);
  const next = rest.search(/^#{1,4} /m);
  return (next === -1 ? rest : rest.slice(0, next)).trim();
}

function patientBlock(md: string, n: number): string {
  const start = md.indexOf(`### Patient ${n}`);
  expect(start, `patient ${n}`).to.be.greaterThan(-1);
  const from = md.indexOf("\n", start) + 1;
  const end = md.slice(from).search(/^(### Patient|## )/m);
  return end === -1 ? md.slice(start) : md.slice(start, from + end);
}

describe("handoff report", function () {
  it("has the header with people, template, mode and the times in the unit's zone", function () {
    const md = renderHandoffReport(input());
    expect(md.startsWith("# Handoff report #4 — 4 West\n")).to.equal(true);
    for (const line of [
      "| Handoff | #4 |",
      "| Unit | 4 West |",
      `| Handed over | ${OUT} → ${IN} |`,
      "| Template | SBAR |",
      "| Mode | face to face |",
      // 17:00 UTC is 19:00 in Paris in July.
      "| Scheduled for | 2026-07-01 19:00 GMT+2 |",
      "| Started | 2026-07-01 19:00 GMT+2 |",
      "| Deadline | 2026-07-01 19:30 GMT+2 |",
      "| Completed | 2026-07-01 19:25 GMT+2 |",
      "| Duration | 25 min |",
    ]) {
      expect(md).to.contain(line);
    }
    expect(md).not.to.contain("after its deadline");
    expect(md).not.to.contain("Escalated");
    expect(md).to.contain(`Presented by ${OUT} at 2026-07-01 19:05 GMT+2`);
    expect(renderHandoffReport(input({ template: "ipass", mode: "virtual", scheduledFor: null }))).to.contain("| Template | I-PASS |\n| Mode | virtual |\n| Scheduled for | — (started by hand) |");
  });

  it("says when the handoff was completed after its deadline and to whom it was escalated", function () {
    const md = renderHandoffReport(input({ completedAt: at("17:45"), overdue: true, escalatedTo: ["@charge:x.org", "@lead:x.org"] }));
    expect(md).to.contain("⏰ **Completed after its deadline** (2026-07-01 19:30 GMT+2).\n\nEscalated to @charge:x.org and @lead:x.org.\n");
    expect(md).to.contain("| Duration | 45 min |");
  });

  it("puts SBAR fields under Situation, Background, Assessment and Recommendation in that order", function () {
    const md = renderHandoffReport(input());
    const p1 = patientBlock(md, 1);
    expect(p1.startsWith("### Patient 1 — Bed 12\n")).to.equal(true);
    expect(p1).to.contain("Patient reference: Encounter/enc-12");
    expect(under(p1, "#### Situation")).to.equal("Day 2 after hip replacement, new confusion.");
    expect(under(p1, "#### Background")).to.equal("Dementia, lives alone.");
    expect(under(p1, "#### Assessment")).to.equal("Likely delirium; sodium 128.");
    expect(under(p1, "#### Recommendation")).to.equal("Repeat sodium at 22:00.");
    const order = ["#### Situation", "#### Background", "#### Assessment", "#### Recommendation"].map((h) => p1.indexOf(h));
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(under(p1, "#### Read-back")).to.equal(`By ${IN} at 2026-07-01 19:10 GMT+2: Confused after hip surgery; sodium again at 22:00.`);
    expect(under(p1, "#### Pending tasks")).to.equal(`- Chase the 22:00 sodium — owner ${IN}, due 2026-07-01 23:00 GMT+2`);
    expect(under(p1, "#### Contingencies")).to.equal("- If sodium below 125 then call the medical registrar");
    expect(under(p1, "#### Recent events")).to.equal("Fall at 14:00, no injury.");
    expect(p1).to.contain("**Code status:** DNACPR");
    expect(p1).to.contain("(edited, version 3)");
  });

  it("puts I-PASS fields under their headings, with the receiver's synthesis as the read-back", function () {
    const p2 = patientBlock(renderHandoffReport(input()), 2);
    expect(p2.startsWith("### Patient 2\n")).to.equal(true);
    expect(p2).to.contain("Patient reference: Patient/p-7");
    expect(under(p2, "#### Illness severity")).to.equal("Watcher");
    expect(under(p2, "#### Patient summary")).to.equal("Sepsis from a urinary source, on day 3 of antibiotics.");
    expect(under(p2, "#### Action list")).to.equal("Check the lactate at 20:00.");
    expect(under(p2, "#### Situation awareness & contingency")).to.equal("If the blood pressure falls, give a fluid bolus.");
    expect(under(p2, "#### Synthesis by receiver (read-back)")).to.equal(`By ${IN} at 2026-07-01 19:15 GMT+2: Septic, watch pressure, lactate at eight.`);
    expect(p2).not.to.contain("#### Situation\n");
    expect(p2).not.to.contain("edited");
    expect(p2).not.to.contain("⚠️");
    expect(under(p2, "#### Medication changes")).to.equal("_None._");
    expect(p2).to.contain("**Code status:** _not stated_");
  });

  it("shows critical alerts prominently before the fields and medication changes in bold", function () {
    const p1 = patientBlock(renderHandoffReport(input()), 1);
    expect(p1).to.contain("> ⚠️ **CRITICAL ALERT: Potassium 6.1 at 18:40**");
    expect(p1.indexOf("⚠️")).to.be.lessThan(p1.indexOf("Patient reference:"));
    const two = patientBlock(renderHandoffReport({ ...input(), patients: [{ ...input().patients[0]!, item: { ...sbarItem, critical_alerts: ["Potassium 6.1", "Troponin rising"] } }] }), 1);
    expect(two).to.contain("> ⚠️ **CRITICAL ALERT: Potassium 6.1**\n>\n> ⚠️ **CRITICAL ALERT: Troponin rising**\n");
    expect(under(p1, "#### Medication changes")).to.equal("- **Furosemide stopped**");
  });

  it("lists questions with their answers, and marks unanswered questions and missing read-backs", function () {
    const md = renderHandoffReport(input());
    expect(under(patientBlock(md, 1), "#### Questions")).to.equal(
      `- Question 1, asked by ${IN} at 2026-07-01 19:08 GMT+2: Is the family aware?\n   - Answer by ${OUT} at 2026-07-01 19:09 GMT+2: Yes, daughter called at noon.`,
    );
    expect(under(patientBlock(md, 2), "#### Questions")).to.equal("_None._");

    const base = input();
    const p1 = { ...base.patients[0]!, readBack: null, questions: [{ ...base.patients[0]!.questions[0]!, answer: null }] };
    const open = patientBlock(renderHandoffReport({ ...base, patients: [p1] }), 1);
    expect(under(open, "#### Read-back")).to.equal("**No read-back**");
    expect(under(open, "#### Questions")).to.contain("   - **unanswered**");
  });

  it("shows a placeholder for an item, read-back, question, answer or task that could not be read back", function () {
    const base = input();
    const unreadable = {
      ...base.patients[0]!,
      item: null,
      readBack: { summary: null, by: IN, at: at("17:10") },
      questions: [{ number: 1, text: null, askedBy: IN, askedAt: at("17:08"), answer: { text: null, by: OUT, at: at("17:09") } }],
    };
    const md = renderHandoffReport({
      ...base,
      patients: [unreadable],
      tasks: [{ patientNumber: 1, text: null, owner: IN, previousOwner: OUT, due: null, status: "open" }],
    });
    const p1 = patientBlock(md, 1);
    expect(p1.startsWith("### Patient 1\n")).to.equal(true);
    expect(p1).to.contain(`Patient reference: ${UNREADABLE}`);
    expect(p1).not.to.contain("#### Situation");
    expect(under(p1, "#### Read-back")).to.equal(`By ${IN} at 2026-07-01 19:10 GMT+2: ${UNREADABLE}`);
    expect(under(p1, "#### Questions")).to.equal(
      `- Question 1, asked by ${IN} at 2026-07-01 19:08 GMT+2: ${UNREADABLE}\n   - Answer by ${OUT} at 2026-07-01 19:09 GMT+2: ${UNREADABLE}`,
    );
    expect(under(md, "## Tasks transferred")).to.equal(`- Patient 1: ${UNREADABLE} — from ${OUT} → ${IN}, no due time`);
  });

  it("lists tasks transferred from the previous owner and tasks staying with their owner", function () {
    expect(under(renderHandoffReport(input()), "## Tasks transferred").split("\n")).to.deep.equal([
      `- Patient 1: Chase the 22:00 sodium — from ${OUT} → ${IN}, due 2026-07-01 23:00 GMT+2`,
      `- Patient 1: Review the fall — from ${OUT} → ${IN}, no due time`,
      "- Patient 2: Physio referral — stays with @physio:x.org, no due time",
      `- Patient 2: Lactate at 20:00 — from ${OUT} → ${IN}, due 2026-07-01 20:00 GMT+2 (done)`,
    ]);
    expect(under(renderHandoffReport(input({ tasks: [] })), "## Tasks transferred")).to.equal("_No tasks._");
  });

  it("shows the checklist with ticks and who ticked, and plain sign-offs with their times", function () {
    const md = renderHandoffReport(input());
    expect(under(md, "## Checklist").split("\n")).to.deep.equal([`- ✓ Drug chart reviewed — ticked by ${IN} at 2026-07-01 19:18 GMT+2`, "- ✗ Bed board updated — **not ticked**"]);
    expect(under(md, "## Sign-offs").split("\n")).to.deep.equal([`- ${OUT} at 2026-07-01 19:20 GMT+2`, `- ${IN} at 2026-07-01 19:25 GMT+2`]);
  });

  it("names an override's reason and what was outstanding: patients without read-back by number, open questions, unticked items", function () {
    const md = renderHandoffReport(
      input({
        signOffs: [
          { user: OUT, at: at("17:20"), override: null },
          {
            user: IN,
            at: at("17:25"),
            override: { reason: "Rapid response call on 4 East", outstanding: { missing_read_back: [1, 3], open_questions: [2], checklist: ["Bed board updated"] } },
          },
        ],
      }),
    );
    expect(under(md, "## Sign-offs").split("\n")).to.deep.equal([
      `- ${OUT} at 2026-07-01 19:20 GMT+2`,
      `- ${IN} at 2026-07-01 19:25 GMT+2 — **with an override**`,
      "   - Reason: Rapid response call on 4 East",
      '   - Outstanding at sign-off: no read-back for patients 1 and 3; question 2 unanswered; checklist not ticked: "Bed board updated"',
    ]);
    const unreadableReason = renderHandoffReport(
      input({ signOffs: [{ user: IN, at: at("17:25"), override: { reason: null, outstanding: { missing_read_back: [2], open_questions: [], checklist: [] } } }] }),
    );
    expect(unreadableReason).to.contain(`   - Reason: ${UNREADABLE}`);
    expect(unreadableReason).to.contain("   - Outstanding at sign-off: no read-back for patient 2");
  });

  it("lists incidents reported with number, patient, category, reporter and time", function () {
    expect(under(renderHandoffReport(input()), "## Incidents reported")).to.equal("_None reported._");
    const md = renderHandoffReport(input({ incidents: [{ number: 7, patientNumber: 2, category: "wrong_information", by: IN, at: at("17:40") }] }));
    expect(under(md, "## Incidents reported")).to.equal(`- Incident #7 — patient 2, wrong information, reported by ${IN} at 2026-07-01 19:40 GMT+2`);
  });

  it("keeps patients in list order", function () {
    const base = input();
    const md = renderHandoffReport({ ...base, patients: [{ ...base.patients[1]!, number: 1 }, { ...base.patients[0]!, number: 2 }] });
    expect(md.indexOf("### Patient 1\n")).to.be.lessThan(md.indexOf("### Patient 2 — Bed 12"));
  });
});

describe("handoff report summary", function () {
  it("counts patients, read-backs, answered questions and tasks transferred, in one paragraph", function () {
    const summary = handoffReportSummary(input());
    expect(summary).to.equal(`Handoff #4 on 4 West completed: 2 patients, 2 read back, 1 question (answered), 3 tasks to ${IN}. Full report attached.`);
    expect(summary).not.to.contain("\n");
  });

  it("counts open questions and missing read-backs, and mentions lateness, escalation and an override", function () {
    const base = input();
    const summary = handoffReportSummary({
      ...base,
      completedAt: at("17:45"),
      overdue: true,
      escalatedTo: ["@charge:x.org"],
      patients: [{ ...base.patients[0]!, readBack: null, questions: [{ ...base.patients[0]!.questions[0]!, answer: null }] }, base.patients[1]!],
      tasks: [],
      signOffs: [{ user: IN, at: at("17:45"), override: { reason: "Emergency", outstanding: { missing_read_back: [1], open_questions: [1], checklist: [] } } }],
    });
    expect(summary).to.equal(
      `Handoff #4 on 4 West completed: 2 patients, 1 read back, 1 question (unanswered), no tasks transferred. It was completed after its deadline and escalated to @charge:x.org. ${IN} signed off with an override: no read-back for patient 1; question 1 unanswered. Full report attached.`,
    );
    expect(summary).not.to.contain("Emergency");
  });
});
