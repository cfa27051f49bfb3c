import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { labRuleFor, labValueOf } from "../../appservice/alert/alertIntake.js";
import { parseRulesFile, type LabRule } from "../../appservice/alert/alertRules.js";
import { evaluateLab } from "../../appservice/alert/ruleEvaluation.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { ackFor, Hl7Refusal, readInboundMessage, type AdtEvent, type LabReport } from "../../appservice/alert/hl7/inboundMessage.js";

const seg = (...lines: string[]) => lines.join("\r");
const MSH = (type: string, control = "MSG00042") => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500+0100||${type}|${control}|P|2.5.1|||AL|NE||UNICODE UTF-8`;
const PID = "PID|1||MRN12345^^^GENHOSP^MR||DOE^JANE||19700101|F";
const PV1 = "PV1|1|I|4WEST^412^B||||D1234^CHEN^ANNA";
/** An OBX with OBX-5 `value` and OBX-11 `status`, and OBX-14 when given. */
const obx = (code: string, value: string, status: string, observed = "") => `OBX|1|NM|${code}||${value}||||||${status}|||${observed}`;

function refusal(text: string): Hl7Refusal {
  try {
    readInboundMessage(text);
  } catch (err) {
    if (err instanceof Hl7Refusal) return err;
    throw err;
  }
  throw new Error("the message was taken");
}

describe("reading inbound HL7 v2 messages", function () {
  it("reads an ORU^R01 with several orders and OBX segments: codes, values, units, flags, statuses and times", function () {
    const msg = readInboundMessage(
      seg(
        MSH("ORU^R01^ORU_R01"),
        PID,
        PV1,
        "OBR|1|ORD1|FIL1|24323-8^Comprehensive metabolic panel^LN|||20261203094500+0100",
        "OBX|1|NM|2823-3^Potassium^LN||6.8|mmol/L^^UCUM|3.5-5.1|HH~A|||F",
        "OBX|2|NM|2951-2^Sodium^LN||139|mmol/L|135-145|N|||C|||20261203095000+0100",
        "OBR|2|ORD2|FIL2|6690-2^WBC^LN|||20261203094000+0100",
        "OBX|1|SN|6690-2^WBC^LN||<^0.5|10*9/L|4.0-11.0|LL|||P",
        "OBX|2|ST|8251-1^Comment^LN||hemolysed||||||F",
      ),
    ) as LabReport;
    expect(msg.kind).to.equal("results");
    expect(msg.header).to.deep.equal({ controlId: "MSG00042", sendingApplication: "LAB", sendingFacility: "GENHOSP", version: "2.5.1" });
    expect(msg.patient).to.deep.equal({ id: "MRN12345", authority: "GENHOSP" });
    expect(msg.unit).to.equal("4WEST");
    expect(msg.attending).to.equal("D1234");
    expect(msg.orders).to.deep.equal(["24323-8", "6690-2"]);
    expect(msg.results.map((r) => [r.code, r.codeSystem, r.numeric, r.units, r.flags, r.status])).to.deep.equal([
      ["2823-3", "LN", 6.8, "mmol/L", ["HH", "A"], "final"],
      ["2951-2", "LN", 139, "mmol/L", ["N"], "corrected"],
      ["6690-2", "LN", 0.5, "10*9/L", ["LL"], "preliminary"],
      ["8251-1", "LN", null, "", [], "final"],
    ]);
    expect(msg.results[2]!.value).to.equal("<0.5");
    expect(msg.results.map((r) => r.comparator)).to.deep.equal([null, null, "<", null]);
    // A result's identity (order filler number, coding system, code, sub-id) is what a correction repeats.
    expect(msg.results.map((r) => r.identity)).to.deep.equal(["FIL1|LN|2823-3|", "FIL1|LN|2951-2|", "FIL2|LN|6690-2|", "FIL2|LN|8251-1|"]);
    // OBX-14 when sent, else the order's OBR-7; the zone offset is honoured.
    expect(msg.results[0]!.observedAt).to.equal("2026-12-03T08:45:00.000Z");
    expect(msg.results[1]!.observedAt).to.equal("2026-12-03T08:50:00.000Z");
    expect(msg.results[2]!.observedAt).to.equal("2026-12-03T08:40:00.000Z");
  });

  it("reads ADT A01, A02, A03 and A08 for the patient's unit and attending; a discharge leaves no unit", function () {
    for (const trigger of ["A01", "A02", "A08"] as const) {
      const adt = readInboundMessage(seg(MSH(`ADT^${trigger}^ADT_A01`), "EVN|" + trigger, PID, PV1)) as AdtEvent;
      expect(adt).to.include({ kind: "adt", trigger, unit: "4WEST", attending: "D1234" });
    }
    const discharge = readInboundMessage(seg(MSH("ADT^A03^ADT_A03"), "EVN|A03", PID, PV1)) as AdtEvent;
    expect(discharge.unit).to.equal(null);
  });

  it("takes other encoding characters than the usual |^~\\&, as MSH-1 and MSH-2 declare them", function () {
    const text = seg("MSH#@!$%#LAB#GENHOSP#ROUNDS#GENHOSP#20261203101500##ORU@R01#C-7#P#2.3", "PID#1##MRN9@@@GH", "OBR#1###2823-3@Potassium@LN", "OBX#1#NM#2823-3@Potassium@LN##2.1#mmol/L#3.5-5.1#LL###F");
    const msg = readInboundMessage(text) as LabReport;
    expect(msg.patient.id).to.equal("MRN9");
    expect(msg.results[0]).to.include({ code: "2823-3", numeric: 2.1, status: "final" });
    expect(msg.results[0]!.flags).to.deep.equal(["LL"]);
  });

  it("refuses, naming the segment and field and never a value, what an alert cannot be built from", function () {
    const cases: Array<[string, "AE" | "AR", string, string]> = [
      ["PID|1||MRN1", "AR", "100", "MSH"],
      [seg(MSH("ORU^R01", ""), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F")), "AR", "101", "MSH^1^10"],
      [seg(MSH("ORU^R30"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F")), "AR", "201", "MSH^1^9"],
      [seg(MSH("SIU^S12"), PID), "AR", "200", "MSH^1^9"],
      [seg(MSH("ORU^R01"), "OBR|1", obx("2823-3^K^LN", "6.8", "F")), "AE", "101", "PID"],
      [seg(MSH("ORU^R01"), PID, "OBR|1"), "AE", "101", "OBX"],
      [seg(MSH("ORU^R01"), PID, obx("2823-3^K^LN", "6.8", "F")), "AR", "100", "OBX^1"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "six point eight", "F")), "AE", "102", "OBX^1^5"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "Q")), "AE", "103", "OBX^1^11"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("^K^LN", "6.8", "F")), "AE", "101", "OBX^1^3"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F", "yesterday")), "AE", "102", "OBX^1^14"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F", "20240230120000")), "AE", "102", "OBX^1^14"],
      [seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F", "20241301120000")), "AE", "102", "OBX^1^14"],
    ];
    for (const [text, ack, code, location] of cases) {
      const r = refusal(text);
      expect([r.ack, r.code, r.location], r.reason).to.deep.equal([ack, code, location]);
      expect(r.reason).not.to.match(/MRN|6\.8|six point eight|yesterday/);
    }
  });

  it("answers AA after storing, and AE or AR with an ERR segment naming the problem, echoing the control id", function () {
    const text = seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "F"));
    const ok = ackFor(text);
    expect(ok.header.getComponent(9, 1)).to.equal("ACK");
    expect(ok.getSegment("MSA")!.getComponent(1, 1)).to.equal("AA");
    expect(ok.getSegment("MSA")!.getComponent(2, 1)).to.equal("MSG00042");
    // The ACK goes back to the sender: its receiving side is the original's sending side.
    expect(ok.header.getComponent(5, 1)).to.equal("LAB");

    const bad = seg(MSH("ORU^R01"), PID, "OBR|1", obx("2823-3^K^LN", "6.8", "Q"));
    const nack = ackFor(bad, refusal(bad));
    expect(nack.getSegment("MSA")!.getComponent(1, 1)).to.equal("AE");
    const err = nack.getSegment("ERR")!;
    expect(err.getComponent(3, 1)).to.equal("103");
    expect(err.getComponent(2, 1)).to.equal("OBX");
    expect(err.getField(8).toString()).to.match(/OBX-11/);

    // Even a message too broken to read gets an AR.
    const garbage = ackFor("not hl7 at all", refusal("not hl7 at all"));
    expect(garbage.getSegment("MSA")!.getComponent(1, 1)).to.equal("AR");
  });
});

describe("reading the sample messages a kept HL7 library ships (simple-hl7's test/samples)", function () {
  const sample = (name: string) => readFileSync(join(repoRoot, "node_modules", "simple-hl7", "test", "samples", name), "utf8");

  it("reads its ORU^R01 (v2.3, local codes, coded units, H flags, empty-string nulls) and evaluates it under a rule for the lab's own code", function () {
    const msg = readInboundMessage(sample("oru.hl7")) as LabReport;
    expect(msg.header).to.include({ controlId: "Q335939501T337311002", version: "2.3" });
    expect(msg.patient).to.deep.equal({ id: "94000000000", authority: "Priority Health" });
    expect(msg.results.map((r) => [r.code, r.numeric, r.units, r.unitsText, r.flags, r.status])).to.deep.equal([
      ["JHDL", 62, "CD:289", "mg/dL", [], "final"],
      ["JTRIG", 72, "CD:289", "mg/dL", [], "final"],
      ["JVLDL", 14, "CD:289", "mg/dL", [], "final"],
      ["JLDL", 134, "CD:289", "mg/dL", ["H"], "final"],
      ["JCHO", 210, "CD:289", "mg/dL", ["H"], "final"],
    ]);
    const { rules } = parseRulesFile("rules:\n  - { id: ldl, kind: lab, name: LDL cholesterol, loinc: 13457-7, local_codes: [JLDL], units: mg/dL, informational: { above: 100 } }\n");
    const ldl = rules[0] as LabRule;
    const value = labValueOf(msg.results[3]!);
    expect(labRuleFor(rules, value, null)).to.equal(ldl);
    expect(evaluateLab(ldl, value)).to.include({ priority: "informational", band: "informational-high", why: "LDL cholesterol 134 mg/dL, above the informational limit 100" });
  });

  it("refuses its ADT^A04 (registration), which Rounds does not take, with AR", function () {
    const r = refusal(sample("adt.hl7"));
    expect([r.ack, r.code]).to.deep.equal(["AR", "201"]);
    expect(ackFor(sample("adt.hl7"), r).getSegment("MSA")!.getComponent(2, 1)).to.equal("1817457");
  });
});
