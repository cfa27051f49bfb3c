import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { StateType } from "../../appservice/shared/events/index.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";
import { RoundsProcess } from "../harness/rounds.js";
import { tempDir } from "../harness/tempDir.js";
import { waitUntil } from "../harness/waitUntil.js";

const run = promisify(execFile);

/**
 * A critical result from the lab to the on-call's phone: HL7 v2 sent over MLLP by a tool nobody
 * here wrote (Debian's python3-hl7 mllp_send), through the listener and the rules, routed by the
 * unit to its service's on-call, delivered encrypted, and acknowledged with ✅ (real Synapse,
 * real E2EE clients).
 */
describe("clinical alerts from HL7 v2 over MLLP (real Synapse, real E2EE, mllp_send)", function () {
  const MRN = "MRN40417";
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  let lena: TestClinician;
  let mllpPort: number;
  let dir: string;

  /** Sends `messages` with mllp_send; returns what it printed (the ACKs). */
  async function mllpSend(name: string, ...messages: string[]): Promise<string> {
    const file = join(dir, `${name}.hl7`);
    writeFileSync(file, messages.join("\n"));
    const { stdout } = await run("/usr/bin/mllp_send", ["--loose", "-f", file, "-p", String(mllpPort), "127.0.0.1"], { timeout: 30_000 });
    return stdout;
  }

  before(async function () {
    hs = await getHomeserver();
    dir = tempDir("alerts");
    mllpPort = await freePort();
    writeFileSync(join(dir, "sources.yaml"), 'sources:\n  - { id: lab, kind: mllp, allow: ["127.0.0.1"], sending_facility: GENHOSP }\n');
    rounds = new RoundsProcess(hs, { ROUNDS_ALERT_SOURCES_FILE: join(dir, "sources.yaml"), ROUNDS_ALERT_MLLP_PORT: String(mllpPort), ROUNDS_ALERT_INTAKE_POLL_MS: "250" });
    await rounds.start();
    lena = await TestClinician.create(hs, "lena");
    lena.acceptInvites();
    await rounds.admin("/_rounds/admin/v1/schedule?force=1", {
      method: "POST",
      headers: { "content-type": "application/yaml" },
      body: `
clinicians:
  - { user: "${lena.userId}", name: "Dr Lena Okafor" }
services:
  - id: medicine
    name: Medicine
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${lena.userId}"] }
`,
    });
    const rules = readFileSync(join(repoRoot, "appservice/alert/example-rules.yaml"), "utf8");
    await rounds.admin("/_rounds/admin/v1/alerts/rules", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ yaml: rules }) });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") rounds.dumpLogs(120);
  });

  after(async function () {
    lena?.stop();
    await rounds?.stop();
  });

  it("gets a critical potassium to the unit's on-call, decrypted, and closes the loop with ✅", async function () {
    const msh = (type: string, control: string) => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||${type}|${control}|P|2.5.1`;
    const pid = `PID|1||${MRN}^^^GENHOSP^MR||DOE^JANE`;
    const acks = await mllpSend(
      "k",
      [msh("ADT^A01", "ADT-1"), "EVN|A01", pid, "PV1|1|I|4WEST^12^A||||D77^HOUSE^G"].join("\r"),
      [msh("ORU^R01", "ORU-1"), pid, "OBR|1|P-1|F-1|24323-8^Metabolic panel^LN|||20261203094500", "OBX|1|NM|2823-3^Potassium^LN||6.8|mmol/L|3.5-5.1|HH|||F"].join("\r"),
    );
    // Both acknowledged AA, only once stored.
    expect(acks.match(/MSA\|AA\|/g) ?? []).to.have.length(2);

    const alert = await lena.waitForMessage((b) => b.includes("CRITICAL alert #"), { what: "the alert", timeoutMs: 60_000 });
    expect(alert.event.isEncrypted()).to.equal(true);
    expect(alert.body).to.contain("Potassium 6.8 mmol/L, above the critical limit 6.2").and.to.contain(MRN).and.to.contain("unit 4WEST");
    expect(alert.event.getContent()["m.mentions"]).to.deep.equal({ user_ids: [lena.userId] });
    const number = Number(/alert #(\d+)/.exec(alert.body)![1]);

    // The room's state mirrors it with ids, status and times only.
    const stateOf = () => lena.client.getRoom(alert.roomId)?.currentState.getStateEvents(StateType.Alert).map((e) => e.getContent()) ?? [];
    const open = await waitUntil(async () => stateOf().find((s) => s.number === number) ?? null, "the alert state");
    expect(open).to.include({ status: "open", priority: "critical", rule_id: "potassium" });
    expect(JSON.stringify(open)).not.to.contain(MRN).and.not.to.contain("6.8");

    // The lab resends the same message (same MSH-10): recorded once, no second alert.
    expect(await mllpSend("k-again", [msh("ORU^R01", "ORU-1"), pid, "OBR|1|P-1|F-1|24323-8^Metabolic panel^LN|||20261203094500", "OBX|1|NM|2823-3^Potassium^LN||6.8|mmol/L|3.5-5.1|HH|||F"].join("\r"))).to.match(/MSA\|AA\|ORU-1/);

    await lena.react(alert.roomId, alert.event.getId()!, "✅");
    const acked = await waitUntil(async () => stateOf().find((s) => s.number === number && s.status === "acknowledged") ?? null, "the acknowledged state");
    expect(acked.acknowledged_by).to.equal(lena.userId);

    const { alert: summary, trail } = await rounds.admin<{ alert: { repeats: number; status: string }; trail: Array<{ step: string; actor: string | null }> }>(`/_rounds/admin/v1/alerts/${number}/trail`);
    expect(summary).to.include({ status: "acknowledged", repeats: 0 });
    expect(trail.map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "acknowledged"]);
    expect(trail.find((t) => t.step === "acknowledged")!.actor).to.equal(lena.userId);
    expect(JSON.stringify(trail)).not.to.contain(MRN);
    // Nothing of the patient or the value in Rounds' logs.
    expect(rounds.logs.map((l) => JSON.stringify(l)).join("\n")).not.to.contain(MRN).and.not.to.contain("6.8 mmol");
  });
});
