import { expect } from "chai";
import { parseItemSections, type SectionParseOptions } from "../../bots/handoffSections.js";
import { clientId } from "../../appservice/shared/events/index.js";

// 15:00 UTC; in London (BST in May) that is 16:00.
const now = new Date("2026-05-12T15:00:00Z");
const opts: SectionParseOptions = { now };
const lines = (text: string) => text.split("\n");

describe("handoff item sections (text commands)", function () {
  it("parses SBAR with multi-line continuation, alerts, meds, tasks, contingencies, code status and recent events", function () {
    const { sections, errors } = parseItemSections(
      lines(
        [
          "S: 72M day 2 post hip ORIF",
          "  now confused overnight",
          "Background: AF on apixaban",
          "A: delirium likely",
          "BP: 90/60 at 22:00",
          "R: 4-hourly neuro obs",
          "Alert: penicillin allergy",
          "alert: falls risk",
          "Med: apixaban held",
          "MEDICATION: started haloperidol 0.5 mg prn",
          "Task: chase sodium @carol:x.org due 16:30",
          "Task: call family due 14:00",
          "Task: review pain",
          "  before ward round",
          "If: agitated then haloperidol 0.5 mg",
          "If: BP < 90, then fluid bolus and call registrar",
          "Code: full escalation",
          "Events: fall at 03:00, CT head normal",
        ].join("\n"),
      ),
      "sbar",
      opts,
    );
    expect(errors).to.deep.equal([]);
    expect(sections.sbar).to.deep.equal({
      situation: "72M day 2 post hip ORIF\nnow confused overnight",
      background: "AF on apixaban",
      // An unknown label ("BP:") is text of the section it is in.
      assessment: "delirium likely\nBP: 90/60 at 22:00",
      recommendation: "4-hourly neuro obs",
    });
    expect(sections.critical_alerts).to.deep.equal(["penicillin allergy", "falls risk"]);
    expect(sections.medication_changes).to.deep.equal(["apixaban held", "started haloperidol 0.5 mg prn"]);
    expect(sections.contingencies).to.deep.equal([
      { if: "agitated", then: "haloperidol 0.5 mg" },
      { if: "BP < 90", then: "fluid bolus and call registrar" },
    ]);
    expect(sections.code_status).to.equal("full escalation");
    expect(sections.recent_events).to.equal("fall at 03:00, CT head normal");
    const tasks = sections.tasks!;
    expect(tasks.map((t) => [t.text, t.owner, t.due_ts])).to.deep.equal([
      ["chase sodium", "@carol:x.org", Date.parse("2026-05-12T16:30:00Z")],
      // 14:00 has passed today: the next 14:00 is tomorrow's.
      ["call family", undefined, Date.parse("2026-05-13T14:00:00Z")],
      ["review pain\nbefore ward round", undefined, undefined],
    ]);
    for (const t of tasks) expect(clientId.safeParse(t.id).success, t.id).to.equal(true);
    expect(new Set(tasks.map((t) => t.id)).size).to.equal(3);
    expect(sections).not.to.have.property("ipass");
  });

  it("reads due times in the unit's time zone", function () {
    const { sections, errors } = parseItemSections(["S: s", "B: b", "A: a", "R: r", "Task: bloods due 17:00", "Task: obs due 15:30"], "sbar", { now, timezone: "Europe/London" });
    expect(errors).to.deep.equal([]);
    // 17:00 BST today is 16:00Z; 15:30 BST has passed (it is 16:00 BST), so tomorrow's.
    expect(sections.tasks!.map((t) => t.due_ts)).to.deep.equal([Date.parse("2026-05-12T16:00:00Z"), Date.parse("2026-05-13T14:30:00Z")]);
  });

  it("names a missing Recommendation, and every missing section, for a new patient", function () {
    const one = parseItemSections(["S: s", "B: b", "A: a"], "sbar", opts);
    expect(one.errors).to.deep.equal(["missing Recommendation (R:)"]);
    expect(one.sections).not.to.have.property("sbar");
    const all = parseItemSections(["Alert: allergy"], "sbar", opts);
    expect(all.errors).to.deep.equal(["missing Situation (S:), Background (B:), Assessment (A:) and Recommendation (R:)"]);
  });

  it("parses I-PASS, with the severity checked against stable, watcher or unstable", function () {
    const ok = parseItemSections(["Severity: Watcher", "Summary: 45F DKA", "resolving", "Actions: stop insulin infusion at 22:00", "Awareness: recheck gas", "Task: repeat K+ due 18:00"], "ipass", opts);
    expect(ok.errors).to.deep.equal([]);
    expect(ok.sections.ipass).to.deep.equal({
      illness_severity: "watcher",
      patient_summary: "45F DKA\nresolving",
      action_list: "stop insulin infusion at 22:00",
      situation_awareness: "recheck gas",
    });
    expect(ok.sections.tasks!.map((t) => t.due_ts)).to.deep.equal([Date.parse("2026-05-12T18:00:00Z")]);
    expect(ok.sections).not.to.have.property("sbar");

    const bad = parseItemSections(["Severity: critical", "Summary: s", "Actions: a", "Awareness: w"], "ipass", opts);
    expect(bad.errors).to.have.length(1);
    expect(bad.errors[0]).to.contain("line 1").and.contain("Illness severity").and.contain("stable, watcher or unstable");
    expect(bad.errors[0]).not.to.contain("critical");
  });

  it("returns only the given sections for an edit, merging SBAR fields onto the current version", function () {
    const current = {
      sbar: { situation: "old s", background: "old b", assessment: "old a", recommendation: "old r" },
      tasks: [{ id: "task-keep-1", text: "call family" }],
    };
    const onlyAlert = parseItemSections(["Alert: new allergy"], "sbar", { ...opts, mode: "edit", current });
    expect(onlyAlert).to.deep.equal({ sections: { critical_alerts: ["new allergy"] }, errors: [] });

    const rec = parseItemSections(["R: new r", "Task: call family", "Task: new task"], "sbar", { ...opts, mode: "edit", current });
    expect(rec.errors).to.deep.equal([]);
    expect(Object.keys(rec.sections).sort()).to.deep.equal(["sbar", "tasks"]);
    expect(rec.sections.sbar).to.deep.equal({ ...current.sbar, recommendation: "new r" });
    // An unchanged task keeps its id, so the service does not see it removed and re-added.
    expect(rec.sections.tasks![0]!.id).to.equal("task-keep-1");
    expect(rec.sections.tasks![1]!.id).not.to.equal("task-keep-1");

    const cleared = parseItemSections(["Med: none"], "sbar", { ...opts, mode: "edit", current });
    expect(cleared).to.deep.equal({ sections: { medication_changes: [] }, errors: [] });

    const unreadable = parseItemSections(["R: new r"], "sbar", { ...opts, mode: "edit" });
    expect(unreadable.errors[0]).to.contain("missing Situation (S:), Background (B:) and Assessment (A:)");
  });

  it("refuses an If without then, a bad owner and text before the first label, naming the line", function () {
    const { errors } = parseItemSections(
      ["no label here", "S: s", "B: b", "A: a", "R: r", "If: febrile", "Task: chase CT @carol", "Task: due 25:00"],
      "sbar",
      { ...opts, firstLine: 2 },
    );
    expect(errors).to.deep.equal([
      "line 2: start with a section label (S:, B:, A: or R:)",
      "line 7 (If): write it as If: <what might happen> then <what to do>",
      "line 8 (Task): the owner must be a Matrix user id such as @alice:example.org",
      "line 9 (Task): the due time must be a time like 07:00 or 19:30",
    ]);
  });

  it("refuses a section given twice and an empty task, without echoing the text", function () {
    const { errors } = parseItemSections(["S: first", "S: second", "B: b", "A: a", "R: r", "Task: @carol:x.org"], "sbar", opts);
    expect(errors).to.deep.equal(["Situation (S:) is given twice (lines 1 and 2); write it once", "line 6 (Task): the task is required"]);
  });

  it("makes the same task ids from the same seed, so a retried command sends the same item", function () {
    const input = ["S: s", "B: b", "A: a", "R: r", "Task: one", "Task: two"];
    const a = parseItemSections(input, "sbar", { ...opts, idSeed: "$event1" });
    const b = parseItemSections(input, "sbar", { ...opts, idSeed: "$event1" });
    const c = parseItemSections(input, "sbar", { ...opts, idSeed: "$event2" });
    expect(a.sections.tasks!.map((t) => t.id)).to.deep.equal(b.sections.tasks!.map((t) => t.id));
    expect(a.sections.tasks![0]!.id).not.to.equal(c.sections.tasks![0]!.id);
  });

  it("uses the default owner for tasks that name none, when one is given", function () {
    const { sections } = parseItemSections(["S: s", "B: b", "A: a", "R: r", "Task: one", "Task: two @dave:x.org"], "sbar", { ...opts, defaultOwner: "@amy:x.org" });
    expect(sections.tasks!.map((t) => t.owner)).to.deep.equal(["@amy:x.org", "@dave:x.org"]);
  });
});
