import { expect } from "chai";
import fc from "fast-check";
import { news2, NEWS2_PARAMETERS, type News2Vitals } from "../../appservice/alert/news2.js";

/** A patient whose every parameter scores 0. */
const WELL: News2Vitals = { respiration_rate: 16, spo2: 97, supplemental_oxygen: false, systolic_bp: 120, pulse: 70, consciousness: "A", temperature: 37.0 };
const partOf = (p: Partial<News2Vitals>, key: keyof News2Vitals, scale: 1 | 2 = 1) => news2({ ...WELL, ...p }, scale).parts[key];

describe("NEWS2", function () {
  it("scores each parameter at the chart's boundaries", function () {
    const table: Array<[keyof News2Vitals, Array<[number, number]>]> = [
      ["respiration_rate", [[8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3]]],
      ["spo2", [[91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0]]],
      ["systolic_bp", [[90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3]]],
      ["pulse", [[40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3]]],
      ["temperature", [[35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2]]],
    ];
    for (const [key, rows] of table) {
      for (const [value, score] of rows) expect(partOf({ [key]: value }, key), `${key} ${value}`).to.equal(score);
    }
    expect(partOf({ supplemental_oxygen: true }, "supplemental_oxygen")).to.equal(2);
    for (const c of ["C", "V", "P", "U"] as const) expect(partOf({ consciousness: c }, "consciousness")).to.equal(3);
  });

  it("scores SpO2 on scale 2 for hypercapnic patients: 88–92 % is their target, high saturation on oxygen scores", function () {
    const rows: Array<[number, boolean, number]> = [[83, false, 3], [84, false, 2], [85, true, 2], [86, false, 1], [87, true, 1], [88, true, 0], [92, true, 0], [93, false, 0], [97, false, 0], [93, true, 1], [94, true, 1], [95, true, 2], [96, true, 2], [97, true, 3]];
    for (const [spo2, o2, score] of rows) expect(partOf({ spo2, supplemental_oxygen: o2 }, "spo2", 2), `${spo2} % ${o2 ? "on oxygen" : "on air"}`).to.equal(score);
  });

  it("sums the parts and takes the RCP's risk: 7 or more high, 5–6 medium, a single 3 low-medium", function () {
    expect(news2(WELL)).to.deep.include({ total: 0, risk: "low" });
    // A deteriorating patient: fast breathing, tachycardic, febrile, borderline pressure.
    const sick = news2({ respiration_rate: 24, spo2: 95, supplemental_oxygen: false, systolic_bp: 105, pulse: 115, consciousness: "A", temperature: 38.5 });
    expect(sick).to.deep.include({ total: 7, risk: "high" });
    expect(news2({ ...WELL, respiration_rate: 7 })).to.deep.include({ total: 3, risk: "low-medium" });
    expect(news2({ ...WELL, pulse: 115, temperature: 39.5, spo2: 95 })).to.deep.include({ total: 5, risk: "medium" });
  });

  it("always totals its parts, each 0–3, and never lowers the risk when one parameter worsens", function () {
    const vitals = fc.record({
      respiration_rate: fc.integer({ min: 0, max: 60 }),
      spo2: fc.integer({ min: 50, max: 100 }),
      supplemental_oxygen: fc.boolean(),
      systolic_bp: fc.integer({ min: 40, max: 260 }),
      pulse: fc.integer({ min: 20, max: 220 }),
      consciousness: fc.constantFrom("A", "C", "V", "P", "U" as const),
      temperature: fc.integer({ min: 320, max: 430 }).map((t) => t / 10),
    });
    const rank = { low: 0, "low-medium": 1, medium: 2, high: 3 };
    fc.assert(
      fc.property(vitals, fc.constantFrom(1 as const, 2 as const), (v, scale) => {
        const s = news2(v, scale);
        expect(s.total).to.equal(NEWS2_PARAMETERS.reduce((n, p) => n + s.parts[p], 0));
        for (const p of NEWS2_PARAMETERS) expect(s.parts[p]).to.be.within(0, 3);
        const worse = news2({ ...v, consciousness: "U" }, scale);
        expect(rank[worse.risk]).to.be.at.least(rank[s.risk]);
      }),
    );
  });
});
