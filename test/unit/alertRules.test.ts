import { readFileSync } from "node:fs";
import { expect } from "chai";
import { parseRulesFile, RulesFileError, type InteractionRule, type LabRule, type News2Rule, type OverdueRule } from "../../appservice/alert/alertRules.js";
import { evaluateInteractions, evaluateLab, evaluateNews2, overdueOrders, type LabValue, type VitalSign } from "../../appservice/alert/ruleEvaluation.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";

const { rules } = parseRulesFile(readFileSync(`${repoRoot}/appservice/alert/example-rules.yaml`, "utf8"));
const byId = <R>(id: string) => rules.find((r) => r.id === id) as R;
const potassium = byId<LabRule>("potassium");
const troponin = byId<LabRule>("troponin-t");
const k = (numeric: number | null, extra: Partial<LabValue> = {}): LabValue => ({ loinc: "2823-3", localCode: null, numeric, units: "mmol/L", flags: [], status: "final", ...extra });

function problemsOf(text: string): string[] {
  try {
    parseRulesFile(text);
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  throw new Error("the file was taken");
}

describe("alert rules", function () {
  it("loads the example file with its defaults", function () {
    expect(rules.map((r) => [r.id, r.kind])).to.deep.equal([
      ["potassium", "lab"],
      ["sodium", "lab"],
      ["troponin-t", "lab"],
      ["news2", "news2"],
      ["anticoagulant-nsaid", "interaction"],
      ["lactate-overdue", "overdue"],
    ]);
    expect(byId<LabRule>("sodium")).to.include({ preliminary: "alert", units_mismatch: "urgent", dedup_minutes: 60 });
  });

  it("refuses unknown keys by name, and inconsistent limits, duplicate ids and clashing tests, all at once", function () {
    expect(problemsOf("rules:\n  - { id: k, kind: lab, name: K, loinc: 2823-3, units: mmol/L, critcal: { above: 6 } }\n")).to.deep.equal([
      "unknown key 'critcal' at rules.0; did you mean 'critical'?",
    ]);
    const problems = problemsOf(`
rules:
  - { id: k, kind: lab, name: K, loinc: 2823-3, units: mmol/L, critical: { above: 5.5 }, urgent: { above: 6.2 } }
  - { id: k, kind: lab, name: K2, loinc: 2823-3, units: mmol/L, urgent: { below: 3 } }
  - { id: n, kind: news2, critical_at: 5, urgent_at: 5 }
  - { id: x, kind: lab, name: X, loinc: 2823-3, units: mmol/L }
`);
    expect(problems).to.include.members([
      "rules.0: the 'above' limits must widen from informational to urgent to critical",
      "rules.1.id: 'k' is defined twice",
      "rules.2: urgent_at (5) must be below critical_at (5)",
      "rules.3: give at least one of critical, urgent or informational limits",
    ]);
    expect(problems.join("\n")).to.match(/both test 2823-3 for the same units of care/);
    expect(problemsOf("rules:\n  - { id: k, kind: lab, name: K, loinc: potassium, units: mmol/L, urgent: { above: 5 } }\n")).to.deep.equal(["rules.0.loinc: must be a LOINC code such as 2823-3"]);
    expect(problemsOf("rules: [")[0]).to.match(/^not valid YAML/);
    // NEWS2's triggers may be tightened, never loosened.
    expect(problemsOf("rules:\n  - { id: n, kind: news2, critical_at: 9 }\n")).to.deep.equal(["rules.0.critical_at: must be at most 7, the RCP's emergency trigger"]);
  });

  it("puts a lab value in the band it falls in, critical first, and says why with the value", function () {
    expect(evaluateLab(potassium, k(6.8))).to.deep.equal({ priority: "critical", band: "critical-high", why: "Potassium 6.8 mmol/L, above the critical limit 6.2" });
    expect(evaluateLab(potassium, k(2.5))).to.include({ priority: "critical", band: "critical-low" });
    expect(evaluateLab(potassium, k(5.8))).to.include({ priority: "urgent", band: "urgent-high" });
    expect(evaluateLab(potassium, k(5.3))).to.include({ priority: "informational", band: "informational-high" });
    // The limits are strict: exactly 6.2 is urgent, not critical.
    expect(evaluateLab(potassium, k(6.2))).to.include({ priority: "urgent" });
    expect(evaluateLab(potassium, k(4.2))).to.include({ priority: null, band: "normal" });
  });

  it("never drops a result it cannot compare: other units are raised to be read, flags decide without a number, a bound counts only past a limit", function () {
    expect(evaluateLab(potassium, k(6.8, { units: "mEq/L" }))).to.include({ priority: "urgent", band: "units" });
    expect(evaluateLab(potassium, k(6.8, { units: "MMOL/L" }))).to.include({ priority: "critical" });
    expect(evaluateLab(potassium, k(null, { flags: ["HH"] }))).to.include({ priority: "critical", band: "abnormal" });
    expect(evaluateLab(potassium, k(null, { flags: ["H"] }))).to.include({ priority: "informational" });
    // Text says nothing about the level: it neither raises nor clears.
    expect(evaluateLab(potassium, k(null))).to.equal("ignore");
    // A bound (">9.5") is past a limit when its bound is; within, it says nothing.
    expect(evaluateLab(potassium, k(9.5, { comparator: ">" }))).to.include({ priority: "critical", band: "critical-high", why: "Potassium >9.5 mmol/L, above the critical limit 6.2" });
    expect(evaluateLab(potassium, k(4, { comparator: ">" }))).to.equal("ignore");
    expect(evaluateLab(potassium, k(2, { comparator: "<" }))).to.include({ priority: "critical", band: "critical-low" });
  });

  it("follows the rule for preliminary results, and ignores cancelled ones", function () {
    expect((evaluateLab(potassium, k(6.8, { status: "preliminary" })) as { why: string }).why).to.match(/\(preliminary\)$/);
    expect(evaluateLab(troponin, { loinc: "67151-1", localCode: null, numeric: 80, units: "ng/L", flags: [], status: "preliminary" })).to.equal("hold");
    expect(evaluateLab(potassium, k(6.8, { status: "cancelled" }))).to.equal("ignore");
  });

  it("scores NEWS2 from the latest fresh vital signs, and gives no score while one is missing or stale", function () {
    const news = byId<News2Rule>("news2");
    const now = new Date("2026-12-03T10:00:00Z");
    const ago = (min: number) => new Date(now.getTime() - min * 60_000);
    const vitals: VitalSign[] = [
      { loinc: "9279-1", value: 24, at: ago(10) },
      { loinc: "59408-5", value: 95, at: ago(10) },
      { loinc: "8480-6", value: 105, at: ago(10) },
      { loinc: "8867-4", value: 80, at: ago(300) }, // stale: older than 240 min
      { loinc: "8867-4", value: 115, at: ago(10) },
      { loinc: "80288-4", value: "Alert", at: ago(10) },
      { loinc: "8310-5", value: 38.5, at: ago(10) },
    ];
    const found = evaluateNews2(news, vitals, now);
    expect(found).to.have.property("priority", "critical");
    expect((found as { why: string }).why).to.equal("NEWS2 7: respiration rate 24 (2), spo2 95 (1), systolic bp 105 (1), pulse 115 (2), temperature 38.5 (1)");
    expect(evaluateNews2(news, vitals.filter((v) => v.loinc !== "8310-5"), now)).to.deep.equal({ missing: ["temperature"] });
    expect(evaluateNews2(news, vitals.map((v) => ({ ...v, at: ago(400) })), now)).to.have.property("missing").with.length(6);
    // Oxygen at 2 L/min scores 2 more.
    expect(evaluateNews2(news, [...vitals, { loinc: "3151-8", value: 2, at: ago(5) }], now)).to.have.nested.property("score.total", 9);
  });

  it("finds interacting pairs among active medications, and overdue orders", function () {
    const inter = byId<InteractionRule>("anticoagulant-nsaid");
    expect(evaluateInteractions(inter, ["11289", "5640", "197361"])).to.deep.equal({ priority: "urgent", why: "Anticoagulant with an NSAID: warfarin with ibuprofen (bleeding)" });
    expect(evaluateInteractions(inter, ["11289"])).to.equal(null);
    const overdue = byId<OverdueRule>("lactate-overdue");
    const now = new Date("2026-12-03T10:00:00Z");
    const orders = [
      { loinc: "2524-7", orderedAt: new Date("2026-12-03T07:00:00Z"), resulted: false },
      { loinc: "2524-7", orderedAt: new Date("2026-12-03T07:00:00Z"), resulted: true },
      { loinc: "2524-7", orderedAt: new Date("2026-12-03T09:00:00Z"), resulted: false },
    ];
    expect(overdueOrders(overdue, orders, now).map((o) => o.why)).to.deep.equal(["Lactate ordered 3 h ago, no result yet (limit 2 h)"]);
  });
});
