import { readFileSync } from "node:fs";
import { expect } from "chai";
import { AlertIntake, type AlertEffect } from "../../appservice/alert/alertIntake.js";
import { parseRulesFile, type AlertRule } from "../../appservice/alert/alertRules.js";
import { AlertStore } from "../../appservice/alert/alertStore.js";
import { InboundStore, INBOUND_AT_REST_PURPOSE, MAX_INBOUND_ATTEMPTS } from "../../appservice/alert/inboundStore.js";
import * as m014 from "../../appservice/alert/migrations/014_alerts.js";
import * as m015 from "../../appservice/alert/migrations/015_alert_reads_medications_orders.js";
import { migrate, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { AtRest } from "../../appservice/shared/atRest.js";
import { backends } from "../harness/backends.js";

/**
 * From recorded HL7 v2 messages to alerts, on every backend: the example rules, ADT for where the
 * patient is, and the alarm-fatigue rules that act at intake (dedup, corrections, auto-clear).
 */
const log = createLogger("silent");
const MRN = "MRN55021";
let control = 0;
const msh = (type: string) => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||${type}|C${++control}|P|2.5.1`;
const PID = `PID|1||${MRN}^^^GENHOSP^MR||DOE^JANE`;
const adt = (trigger: string, unit: string) => [msh(`ADT^${trigger}`), `EVN|${trigger}`, PID, `PV1|1|I|${unit}^12^A||||D77^HOUSE^G`].join("\r");
const oru = (obx: { loinc: string; value: string; units: string; status?: string; order?: string }) =>
  [msh("ORU^R01"), PID, `OBR|1|P-${obx.order ?? "1"}|F-${obx.order ?? "1"}|${obx.loinc}^Test^LN|||20261203094500`, `OBX|1|NM|${obx.loinc}^Test^LN||${obx.value}|${obx.units}|||||${obx.status ?? "F"}`].join("\r");
const potassium = (value: string, extra: { status?: string; order?: string } = {}) => oru({ loinc: "2823-3", value, units: "mmol/L", ...extra });

const exampleRules = parseRulesFile(readFileSync(`${repoRoot}/appservice/alert/example-rules.yaml`, "utf8")).rules;

for (const backend of backends) {
  describe(`alert intake, on ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let inbound: InboundStore;
    let alerts: AlertStore;
    let rules: AlertRule[] = exampleRules;
    let intake: AlertIntake;
    const at = new AtRest("a-long-enough-passphrase-0123", INBOUND_AT_REST_PURPOSE);

    /** Records `payload` as a source would and runs the intake over what is waiting. */
    async function receive(payload: string, receivedAt = new Date()): Promise<AlertEffect[]> {
      await inbound.record({ source: "lab", key: `C${control}-${Math.random()}`, kind: "hl7v2", type: payload.slice(0, 3), payload }, receivedAt);
      return intake.processPending();
    }

    before(async function () {
      ({ db, close } = await backend.open());
      await migrate(db, [{ "014_alerts": m014, "015_alert_reads_medications_orders": m015 }]);
      inbound = new InboundStore(db, at);
      alerts = new AlertStore(db, new AtRest("a-long-enough-passphrase-0123", "alerts"));
      intake = new AlertIntake({ inbound, alerts, rules: () => rules, log });
    });
    beforeEach(async function () {
      rules = exampleRules;
      for (const t of ["alert_trail", "alerts", "alert_patients", "alert_inbound", "alert_vitals", "alert_patient_limits"]) await db(t).delete();
    });
    after(async function () {
      await close();
    });

    it("raises a critical potassium once, keeping the patient and the value only sealed", async function () {
      await receive(adt("A01", "4WEST"));
      const [raised, ...rest] = await receive(potassium("6.8"));
      expect(rest).to.deep.equal([]);
      expect(raised!.kind).to.equal("raised");
      expect(raised!.alert).to.include({ ruleId: "potassium", priority: "critical", band: "critical-high", status: "open" });
      expect(raised!.alert.detail).to.deep.include({ test: "Potassium", value: "6.8", units: "mmol/L", unit: "4WEST", patient: { id: MRN, authority: "GENHOSP" } });
      expect(raised!.alert.detail.why).to.equal("Potassium 6.8 mmol/L, above the critical limit 6.2");
      const dump = JSON.stringify([await db("alerts").select(), await db("alert_patients").select(), await db("alert_trail").select(), await db("alert_inbound").select()]);
      // (Times may hold "6.8" as digits of seconds: the value is looked for as the lab sent it.)
      expect(dump).not.to.contain(MRN).and.not.to.contain('"6.8"').and.not.to.contain("6.8 mmol").and.not.to.contain("|6.8|");
      expect((await alerts.trailOf(raised!.alert.id)).map((t) => t.step)).to.deep.equal(["received"]);
      // Processed messages drop their payload; nothing waits.
      expect(await inbound.unprocessed()).to.deep.equal([]);
      expect(await intake.processPending()).to.deep.equal([]);
    });

    it("counts the same patient, test and band within the window as repeats of one alert; after the window it is a new one", async function () {
      const t0 = new Date("2026-12-03T09:00:00Z");
      await receive(potassium("6.8"), t0);
      const [again] = await receive(potassium("6.9", { order: "2" }), new Date(t0.getTime() + 30 * 60_000));
      expect(again!.kind).to.equal("repeated");
      expect(again!.alert.repeats).to.equal(1);
      // Another band is another alert: a worsening is never folded into a milder one.
      const [urgent] = await receive(potassium("5.8", { order: "3" }), new Date(t0.getTime() + 40 * 60_000));
      expect(urgent!.kind).to.equal("raised");
      const [late] = await receive(potassium("7.0", { order: "4" }), new Date(t0.getTime() + 100 * 60_000));
      expect(late!.kind).to.equal("raised");
      expect((await alerts.all()).map((a) => [a.band, a.repeats])).to.deep.equal([
        ["critical-high", 1],
        ["urgent-high", 0],
        ["critical-high", 0],
      ]);
    });

    it("updates the alert a corrected result belongs to, and clears it when the correction is normal", async function () {
      const [raised] = await receive(potassium("6.8", { order: "7" }));
      const [corrected] = await receive(potassium("5.8", { order: "7", status: "C" }));
      expect(corrected!.kind).to.equal("corrected");
      expect(corrected!.alert).to.include({ id: raised!.alert.id, priority: "urgent", band: "urgent-high", corrections: 1 });
      expect(corrected!.alert.detail.value).to.equal("5.8");
      const [cleared] = await receive(potassium("4.4", { order: "7", status: "C" }));
      expect(cleared!.kind).to.equal("cleared");
      expect(cleared!.alert.status).to.equal("cleared");
      expect((await alerts.trailOf(raised!.alert.id)).map((t) => t.step)).to.deep.equal(["received", "corrected", "cleared"]);
    });

    it("raises a critical alert on the lab's own critical flag for a test no rule covers, and clears it on the test's next unflagged result", async function () {
      const creatinine = (value: string, flag: string, status = "F") =>
        [msh("ORU^R01"), PID, `OBR|1|P-c${control}|F-c${control}|2160-0^Creatinine^LN|||20261203094500`, `OBX|1|NM|2160-0^Creatinine^LN||${value}|umol/L|45-90|${flag}|||${status}`].join("\r");
      await receive(adt("A01", "4WEST"));
      expect(await receive(creatinine("140", "H"))).to.deep.equal([]); // abnormal, not critical: no rule asked for it
      expect(await receive(creatinine("900", "HH", "P"))).to.deep.equal([]); // preliminary: the final result decides
      const [raised] = await receive(creatinine("910", "HH"));
      expect(raised!.alert).to.include({ ruleId: "lab-flags:2160-0", priority: "critical", band: "flagged-critical" });
      expect(raised!.alert.detail.why).to.equal("Creatinine 910 umol/L: flagged critical by the lab (HH); Rounds has no rule for this test");
      expect((await receive(creatinine("905", "HH")))[0]!.kind).to.equal("repeated");
      const [cleared] = await receive(creatinine("85", ""));
      expect([cleared!.kind, cleared!.alert.id]).to.deep.equal(["cleared", raised!.alert.id]);
    });

    it("clears an open alert when a normal follow-up result arrives, and raises nothing for it", async function () {
      await receive(potassium("2.5", { order: "1" }));
      const effects = await receive(potassium("4.1", { order: "2" }));
      expect(effects.map((e) => [e.kind, e.alert.band])).to.deep.equal([["cleared", "critical-low"]]);
      expect(await receive(potassium("4.0", { order: "3" }))).to.deep.equal([]);
    });

    it("holds a preliminary troponin until the final result, as its rule says", async function () {
      expect(await receive(oru({ loinc: "67151-1", value: "80", units: "ng/L", status: "P" }))).to.deep.equal([]);
      const [final] = await receive(oru({ loinc: "67151-1", value: "80", units: "ng/L", status: "F" }));
      expect(final!.alert).to.include({ ruleId: "troponin-t", priority: "critical" });
    });

    it("applies a unit's own rule to patients ADT places on that unit", async function () {
      rules = [
        ...exampleRules,
        ...parseRulesFile("rules:\n  - { id: potassium-renal, kind: lab, name: Potassium, loinc: 2823-3, units: mmol/L, critical: { above: 6.8 }, urgent: { above: 6.0 }, units_of_care: [RENAL] }\n").rules,
      ];
      await receive(adt("A01", "RENAL"));
      const [onRenal] = await receive(potassium("6.5"));
      expect(onRenal!.alert).to.include({ ruleId: "potassium-renal", priority: "urgent" });
      await receive(adt("A02", "4WEST"));
      const [moved] = await receive(potassium("6.5", { order: "2" }));
      expect(moved!.alert).to.include({ ruleId: "potassium", priority: "critical" });
    });

    it("keeps a message it cannot process sealed and retries it, then sets it aside without blocking those behind it", async function () {
      await inbound.record({ source: "lab", key: "broken", kind: "hl7v2", type: "ORU", payload: "MSH|^~\\&|LAB|GENHOSP|||x||ORU^R01|broken|P|2.5.1\rPID|1||" });
      for (let i = 0; i < MAX_INBOUND_ATTEMPTS; i++) expect(await intake.processPending()).to.deep.equal([]);
      expect(await inbound.stuck()).to.equal(1);
      const [raised] = await receive(potassium("6.8"));
      expect(raised!.kind).to.equal("raised");
      const row = (await db("alert_inbound").where({ message_key: "broken" }).first()) as { sealed_payload: string | null; processed_at: unknown };
      expect(row.processed_at).to.equal(null);
      expect(row.sealed_payload).to.be.a("string");
    });

    it("scores NEWS2 from the vital signs as they come, raising a deterioration warning and clearing it when the patient recovers", async function () {
      const t0 = new Date(); // vital signs count while fresh: recorded minutes ago
      const taken = new Date(t0.getTime() - 5 * 60_000).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "+0000";
      const obs = (n: number, loinc: string, type: string, value: string, units = "") => `OBX|${n}|${type}|${loinc}^Vital^LN||${value}|${units}|||||F|||${taken}`;
      const vitals = (values: { rr: string; spo2: string; sbp: string; hr: string; avpu: string; temp: string }, withTemp = true) =>
        [
          msh("ORU^R01"),
          PID,
          "OBR|1|V-1|V-1|85353-1^Vital signs^LN|||20261203094500",
          obs(1, "9279-1", "NM", values.rr, "/min"),
          obs(2, "59408-5", "NM", values.spo2, "%"),
          obs(3, "8480-6", "NM", values.sbp, "mm[Hg]"),
          obs(4, "8867-4", "NM", values.hr, "/min"),
          obs(5, "80288-4", "ST", values.avpu),
          ...(withTemp ? [obs(6, "8310-5", "NM", values.temp, "Cel")] : []),
        ].join("\r");
      // Without a temperature there is no score (a partial one would understate the risk).
      expect(await receive(vitals({ rr: "24", spo2: "95", sbp: "105", hr: "115", avpu: "A", temp: "38.5" }, false), t0)).to.deep.equal([]);
      const [raised] = await receive([msh("ORU^R01"), PID, "OBR|1|V-2|V-2|8310-5^Temperature^LN", obs(1, "8310-5", "NM", "38.5", "Cel")].join("\r"), t0);
      expect(raised!.alert).to.include({ ruleId: "news2", priority: "critical", band: "news2-high" });
      expect(raised!.alert.detail.why).to.equal("NEWS2 7: respiration rate 24 (2), spo2 95 (1), systolic bp 105 (1), pulse 115 (2), temperature 38.5 (1)");
      // Recovered: every parameter normal, NEWS2 0, the warning clears.
      const cleared = await receive(vitals({ rr: "16", spo2: "97", sbp: "120", hr: "72", avpu: "Alert", temp: "37.0" }), new Date(t0.getTime() + 60_000));
      expect(cleared.map((e) => [e.kind, e.alert.ruleId])).to.deep.equal([["cleared", "news2"]]);
      // The values are kept only sealed.
      expect(JSON.stringify(await db("alert_vitals").select())).not.to.contain("38.5").and.not.to.contain("115");
    });

    it("scores SpO2 on scale 2 for a patient a clinician chose it for, so their target 88–92 % on air raises nothing", async function () {
      const t0 = new Date();
      const taken = new Date(t0.getTime() - 5 * 60_000).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "+0000";
      const obs = (n: number, loinc: string, type: string, value: string, units = "") => `OBX|${n}|${type}|${loinc}^Vital^LN||${value}|${units}|||||F|||${taken}`;
      const vitals = [msh("ORU^R01"), PID, "OBR|1|V-9|V-9|85353-1^Vital signs^LN", obs(1, "9279-1", "NM", "16", "/min"), obs(2, "59408-5", "NM", "89", "%"), obs(3, "8480-6", "NM", "125", "mm[Hg]"), obs(4, "8867-4", "NM", "80", "/min"), obs(5, "80288-4", "ST", "A"), obs(6, "8310-5", "NM", "37.0", "Cel")].join("\r");
      // On scale 1, SpO2 89 % scores 3: a single-parameter urgent warning.
      const [onScale1] = await receive(vitals, t0);
      expect(onScale1!.alert.detail.why).to.equal("NEWS2 3: spo2 89 (3)");
      // Scale 2 for this patient (hypercapnic respiratory failure): the same readings score 0, and the warning clears.
      await alerts.setPatientLimits({ id: MRN, authority: "GENHOSP" }, "news2", { scale: 2 }, "@dr:x.org", t0);
      const again = await receive(vitals.replace(/V-9/g, "V-10"), new Date(t0.getTime() + 60_000));
      expect(again.map((e) => [e.kind, e.alert.ruleId])).to.deep.equal([["cleared", "news2"]]);
    });

    it("keeps patients apart, takes a worsening into a repeat, and clears only on a later numeric normal result", async function () {
      const other = `PID|1||MRN99999^^^GENHOSP^MR||ROE^RICHARD`;
      const kFor = (pid: string, value: string, status = "F", order = "1", taken = "") =>
        [msh("ORU^R01"), pid, `OBR|1|P-${order}|F-${order}|24323-8^Panel^LN|||20261203094500`, `OBX|1|NM|2823-3^K^LN||${value}|mmol/L|||||${status}|||${taken}`].join("\r");
      // The same order number for two patients (labs reuse them): a correction for one never touches the other's.
      const [a] = await receive(kFor(PID, "6.8"));
      await receive(kFor(other, "6.9"));
      const [bCorrected] = await receive(kFor(other, "4.2", "C"));
      expect(bCorrected!.kind).to.equal("cleared");
      expect((await alerts.get(db, a!.alert.id))!).to.include({ status: "open" });
      expect((await alerts.get(db, a!.alert.id))!.detail.patient.id).to.equal(MRN);
      // A worse value in the same band is a repeat that shows the latest value.
      const [worse] = await receive(kFor(PID, "7.9", "F", "2"));
      expect(worse!.kind).to.equal("repeated");
      expect(worse!.alert.detail.value).to.equal("7.9");
      // Text, or a result taken before the alert's, arriving late, does not clear it.
      expect(await receive([msh("ORU^R01"), PID, "OBR|1|P-3|F-3|24323-8^Panel^LN", "OBX|1|ST|2823-3^K^LN||haemolysed||||||F"].join("\r"))).to.deep.equal([]);
      expect(await receive(kFor(PID, "4.1", "F", "4", "20261203080000"))).to.deep.equal([]);
      const [cleared] = await receive(kFor(PID, "4.1", "F", "5", "20261203110000"));
      expect([cleared!.kind, cleared!.alert.id]).to.deep.equal(["cleared", a!.alert.id]);
    });

    it("keeps the patient's unit through an A08 without PV1, and forgets it at discharge", async function () {
      await receive(adt("A01", "RENAL"));
      await receive([msh("ADT^A08"), "EVN|A08", PID].join("\r"));
      const key = alerts.patientKey({ id: MRN, authority: "GENHOSP" });
      expect(await alerts.patientPlace(db, key)).to.deep.equal({ unit: "RENAL", attending: "D77" });
      await receive(adt("A03", "RENAL"));
      expect((await alerts.patientPlace(db, key))!.unit).to.equal(null);
    });
  });
}
