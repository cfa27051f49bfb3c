import { expect } from "chai";
import { suggestBillingCode } from "../../appservice/consult/billing.js";
import type { BillingInput } from "../../appservice/shared/consultWidgetApi.js";

const code = (consult_type: BillingInput["consult_type"], setting: BillingInput["setting"], complexity: BillingInput["complexity"], minutes: number) =>
  suggestBillingCode({ consult_type, setting, complexity, minutes });

describe("billing code suggestion", function () {
  it("outpatient and emergency consults: 99242–99245 by MDM or time (20/30/40/55 min), whichever is higher", function () {
    const byMdm = { straightforward: "99242", low: "99243", moderate: "99244", high: "99245" } as const;
    for (const setting of ["outpatient", "emergency", "telehealth"] as const) {
      for (const [complexity, expected] of Object.entries(byMdm)) expect(code("initial", setting, complexity as BillingInput["complexity"], 5).code).to.equal(expected);
    }
    const byTime: [number, string][] = [
      [19, "99242"],
      [20, "99242"],
      [29, "99242"],
      [30, "99243"],
      [39, "99243"],
      [40, "99244"],
      [54, "99244"],
      [55, "99245"],
      [300, "99245"],
    ];
    for (const [minutes, expected] of byTime) expect(code("initial", "outpatient", "straightforward", minutes).code, `${minutes} min`).to.equal(expected);
  });

  it("inpatient consults: 99252–99255 by MDM or time (35/45/60/80 min)", function () {
    const byTime: [number, string][] = [
      [34, "99252"],
      [35, "99252"],
      [44, "99252"],
      [45, "99253"],
      [59, "99253"],
      [60, "99254"],
      [79, "99254"],
      [80, "99255"],
    ];
    for (const [minutes, expected] of byTime) expect(code("initial", "inpatient", "straightforward", minutes).code, `${minutes} min`).to.equal(expected);
    expect(code("initial", "inpatient", "high", 10).code).to.equal("99255");
    expect(code("initial", "inpatient", "moderate", 80).code).to.equal("99255");
  });

  it("follow-ups: subsequent hospital care 99231–99233 inpatient, visits elsewhere", function () {
    expect(code("follow_up", "inpatient", "straightforward", 10).code).to.equal("99231");
    expect(code("follow_up", "inpatient", "low", 10).code).to.equal("99231");
    expect(code("follow_up", "inpatient", "moderate", 10).code).to.equal("99232");
    expect(code("follow_up", "inpatient", "high", 10).code).to.equal("99233");
    expect(code("follow_up", "inpatient", "low", 34).code).to.equal("99231");
    expect(code("follow_up", "inpatient", "low", 35).code).to.equal("99232");
    expect(code("follow_up", "inpatient", "low", 50).code).to.equal("99233");
    expect(code("follow_up", "outpatient", "low", 10).code).to.equal("99213");
    expect(code("follow_up", "telehealth", "straightforward", 40).code).to.equal("99215");
    // Emergency department visits are leveled by MDM only.
    const ed = code("follow_up", "emergency", "straightforward", 120);
    expect(ed.code).to.equal("99282");
    expect(ed.rationale).to.contain("does not count");
    expect(code("follow_up", "emergency", "high", 5).code).to.equal("99285");
  });

  it("interprofessional consults: 99451 written, 99446–99449 by minutes when discussed, nothing under 5 minutes", function () {
    expect(code("interprofessional", "inpatient", "high", 4).code).to.equal("none");
    expect(code("interprofessional", "inpatient", "high", 4).rationale).to.contain("at least 5 minutes");
    expect(code("interprofessional", "inpatient", "low", 5).code).to.equal("99451");
    expect(code("interprofessional", "outpatient", "low", 90).code).to.equal("99451");
    const verbal: [number, string][] = [
      [4, "none"],
      [5, "99446"],
      [10, "99446"],
      [11, "99447"],
      [20, "99447"],
      [21, "99448"],
      [30, "99448"],
      [31, "99449"],
      [120, "99449"],
    ];
    for (const [minutes, expected] of verbal) expect(code("interprofessional", "telehealth", "moderate", minutes).code, `${minutes} min`).to.equal(expected);
  });

  it("the rationale names the input that decided the level", function () {
    const time = code("initial", "inpatient", "low", 62);
    expect(time).to.deep.include({ code: "99254" });
    expect(time.description).to.contain("moderate MDM or 60 minutes");
    expect(time.rationale).to.contain("Time: 62 min meets 99254 (at least 60 min).");
    expect(time.rationale).to.contain("Time gives the higher level, so time decides: 99254.");

    const mdm = code("initial", "outpatient", "high", 25);
    expect(mdm.code).to.equal("99245");
    expect(mdm.rationale).to.contain("Medical decision making: high → 99245.");
    expect(mdm.rationale).to.contain("Medical decision making gives the higher level, so it decides: 99245.");

    expect(code("initial", "outpatient", "moderate", 45).rationale).to.contain("Time and medical decision making give the same level: 99244.");
    expect(code("initial", "outpatient", "low", 10).rationale).to.contain("under the 20 min of the lowest level");
    expect(code("interprofessional", "telehealth", "high", 15).rationale).to.contain("time decides: 99447");
  });

  it("notes a possible prolonged-service code past the highest level's time", function () {
    expect(code("initial", "outpatient", "high", 69).rationale).to.not.contain("prolonged");
    expect(code("initial", "outpatient", "high", 70).rationale).to.contain("99417");
    expect(code("initial", "inpatient", "high", 95).rationale).to.contain("99418");
    expect(code("initial", "inpatient", "moderate", 94).rationale).to.not.contain("prolonged");
  });
});
