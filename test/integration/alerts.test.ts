import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { StateType } from "../../appservice/shared/events/index.js";
import { startAlertsScenario, type AlertsScenario } from "../harness/alertsScenario.js";
import type { TestClinician } from "../harness/clinician.js";
import { waitUntil } from "../harness/waitUntil.js";

const MRN = "MRN40417";
const msh = (type: string, control: string) => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||${type}|${control}|P|2.5.1`;
const PID = `PID|1||${MRN}^^^GENHOSP^MR||DOE^JANE`;
const ADMIT = [msh("ADT^A01", "ADT-1"), "EVN|A01", PID, "PV1|1|I|4WEST^12^A||||D77^HOUSE^G"].join("\r");
const potassium = (control: string, order: string, value: string, pid = PID) =>
  [msh("ORU^R01", control), pid, `OBR|1|P-${order}|F-${order}|24323-8^Metabolic panel^LN|||20261203094500`, `OBX|1|NM|2823-3^Potassium^LN||${value}|mmol/L|3.5-5.1|H|||F`].join("\r");

/**
 * Results from the lab to the clinicians' phones: HL7 v2 sent over MLLP by a tool nobody here
 * wrote (Debian's python3-hl7 mllp_send), through the listener and the rules, routed by the
 * patient's unit to its service's on-call (real Synapse, real E2EE clients, the fake Twilio).
 * A critical result rides the paging engine; an urgent one goes to the on-call's alerts room.
 */
describe("clinical alerts from HL7 v2 over MLLP (real Synapse, real E2EE, mllp_send, fake Twilio)", function () {
  let s: AlertsScenario;
  let lena: TestClinician;
  let liam: TestClinician;
  const mllpSend = (name: string, ...messages: string[]) => s.mllp(name, ...messages);

  const trailOf = (number: number) => s.rounds.admin<{ alert: { status: string; repeats: number }; trail: Array<{ step: string; actor: string | null; ref: string | null }> }>(`/_rounds/admin/v1/alerts/${number}/trail`);

  before(async function () {
    // Cardiology: lena first, liam after 3 s for an emergent page; 4WEST's alerts go to cardiology.
    s = await startAlertsScenario({ emergent: 3, urgent: 10, routine: 600 });
    ({ lena, liam } = s.people);
    expect(await mllpSend("admit", ADMIT)).to.match(/MSA\|AA\|ADT-1/);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") s.rounds.dumpLogs(120);
  });

  after(async () => s?.stop());

  it("pages a critical potassium to the unit's on-call, escalates it with SMS that carry no PHI, and takes the SMS reply as the acknowledgement", async function () {
    const acks = await mllpSend("critical", potassium("ORU-1", "1", "6.8"));
    expect(acks).to.match(/MSA\|AA\|ORU-1/);

    // Level 1 is rung with the result, decrypted on their phone.
    const page = await lena.waitForMessage((b) => b.includes("CRITICAL alert #"), { what: "the alert's page", timeoutMs: 60_000 });
    expect(page.event.isEncrypted()).to.equal(true);
    expect(page.body).to.contain("Potassium 6.8 mmol/L, above the critical limit 6.2").and.to.contain(MRN).and.to.contain("EMERGENT");
    const alertNumber = Number(/alert #(\d+)/.exec(page.body)![1]);
    const pageNumber = Number(/page #(\d+)/.exec(page.body)![1]);

    // Nobody answers: the SMS fallback says only that a page waits, then level 2 is rung.
    const smsToLena = await s.twilio.waitForMessage((m) => m.to === s.phones.lena, 30_000);
    expect(smsToLena.body).to.equal(`EMERGENT page ${pageNumber} from Rounds. Reply ${pageNumber} to acknowledge. Details are in the Rounds app.`);
    await liam.waitForMessage((b) => b.startsWith(`⬆️ Escalated emergent page #${pageNumber}`) && b.includes("Potassium 6.8"), { what: "the escalation", timeoutMs: 30_000 });
    const smsToLiam = await s.twilio.waitForMessage((m) => m.to === s.phones.liam, 30_000);
    expect(smsToLiam.body).not.to.contain(MRN).and.not.to.contain("6.8").and.not.to.contain("otassium");

    // Level 2 acknowledges by SMS reply: the page, and with it the alert.
    const res = await s.twilio.sendInbound({ from: s.phones.liam, to: s.twilioFrom, body: String(pageNumber), webhookUrl: `${s.rounds.url}/_rounds/twilio/inbound` });
    expect(res.status).to.equal(200);
    const acked = await waitUntil(async () => {
      const t = await trailOf(alertNumber);
      return t.alert.status === "acknowledged" ? t : null;
    }, "the alert acknowledged through its page");
    expect(acked.trail.map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "acknowledged"]);
    expect(acked.trail[1]!.ref).to.equal(`page:${pageNumber} service:cardiology`);
    const ack = acked.trail.find((t) => t.step === "acknowledged")!;
    expect(ack).to.include({ actor: liam.userId, ref: `page:${pageNumber} via:sms` });
    expect(JSON.stringify(acked)).not.to.contain(MRN);
  });

  it("brings an urgent potassium to the on-call's alerts room with PHI-free state, records a resend once, and closes the loop with ✅", async function () {
    const acks = await mllpSend("urgent", potassium("ORU-2", "2", "5.8"), potassium("ORU-2", "2", "5.8"));
    expect(acks.match(/MSA\|AA\|ORU-2/g) ?? []).to.have.length(2);

    const alert = await lena.waitForMessage((b) => b.includes("URGENT alert #"), { what: "the urgent alert", timeoutMs: 60_000 });
    expect(alert.event.isEncrypted()).to.equal(true);
    expect(alert.body).to.contain("Potassium 5.8 mmol/L, above the urgent limit 5.5").and.to.contain(MRN).and.to.contain("unit 4WEST");
    expect(alert.event.getContent()["m.mentions"]).to.deep.equal({ user_ids: [lena.userId] });
    const number = Number(/alert #(\d+)/.exec(alert.body)![1]);

    const stateOf = () => lena.client.getRoom(alert.roomId)?.currentState.getStateEvents(StateType.Alert).map((e) => e.getContent()) ?? [];
    const open = await waitUntil(async () => stateOf().find((x) => x.number === number) ?? null, "the alert state");
    expect(open).to.include({ status: "open", priority: "urgent", rule_id: "potassium" });
    expect(JSON.stringify(open)).not.to.contain(MRN).and.not.to.contain("5.8");

    // Lena's client marks the room read: the trail's "read" step, from her read receipt.
    await lena.client.sendReadReceipt(alert.event);
    const read = await waitUntil(async () => (await trailOf(number)).trail.find((t) => t.step === "read") ?? null, "the read step from the receipt");
    expect(read.actor).to.equal(lena.userId);

    await lena.react(alert.roomId, alert.event.getId()!, "✅");
    const acked = await waitUntil(async () => stateOf().find((x) => x.number === number && x.status === "acknowledged") ?? null, "the acknowledged state");
    expect(acked.acknowledged_by).to.equal(lena.userId);

    const { alert: summary, trail } = await trailOf(number);
    expect(summary).to.include({ status: "acknowledged", repeats: 0 });
    expect(trail.map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "read", "acknowledged"]);
    expect(trail.find((t) => t.step === "acknowledged")!.actor).to.equal(lena.userId);
    // On reflection it was a haemolysed sample: a false positive, with the reason kept encrypted.
    const cmd = await lena.send(alert.roomId, `!falsepositive ${number} haemolysed sample, repeat was 4.6`);
    const reply = await lena.waitForNotice(alert.roomId, `@rounds_alerts:${s.hs.serverName}`, { after: cmd });
    expect(reply.body).to.equal(`Alert #${number} marked a false positive and closed. Your reason stays in this encrypted message; the rule's report counts it.`);
    const report = await s.rounds.admin<{ rules: Array<{ rule: string; fired: number; falsePositives: number; acknowledged: number }> }>("/_rounds/admin/v1/alerts/report");
    expect(report.rules.find((r) => r.rule === "potassium")).to.include({ fired: 2, acknowledged: 2, falsePositives: 1 });
    expect(JSON.stringify(report)).not.to.contain("haemolysed");
    expect(await s.rounds.metric("rounds_alerts_total", 'rule="potassium",priority="urgent",change="false_positive"')).to.equal(1);

    // Nothing of the patient or the values in Rounds' logs.
    expect(s.rounds.logs.map((l) => JSON.stringify(l)).join("\n")).not.to.contain(MRN).and.not.to.contain("6.8 mmol").and.not.to.contain("5.8 mmol");
  });

  it("tells a paged alert's correction in the page's room, reads it from the target's receipt there, and leaves !ack there to the on-call bot", async function () {
    // Another patient (no ADT yet: the default service, cardiology, is paged).
    const other = "PID|1||MRN40999^^^GENHOSP^MR||ROE^RICHARD";
    await mllpSend("critical-2", potassium("ORU-5", "5", "7.0", other));
    const page = await lena.waitForMessage((b) => b.includes("CRITICAL alert #") && b.includes("MRN40999"), { what: "the second page", timeoutMs: 60_000 });
    const alertNumber = Number(/alert #(\d+)/.exec(page.body)![1]);
    await lena.client.sendReadReceipt(page.event);
    await waitUntil(async () => (await trailOf(alertNumber)).trail.find((t) => t.step === "read" && t.actor === lena.userId) ?? null, "the read step from the page room");

    // !ack in the page room is the page's: only the on-call bot answers it.
    const cmd = await lena.send(page.roomId, "!ack");
    const reply = await lena.waitForNotice(page.roomId, s.botUserId, { after: cmd });
    expect(reply.body).to.match(/acknowledged/i);
    await waitUntil(async () => ((await trailOf(alertNumber)).alert.status === "acknowledged" ? true : null), "the alert acknowledged through its page");

    // The lab corrects the result: the alerts bot says so where the page rang, replying to it.
    await mllpSend("critical-2-corrected", potassium("ORU-5C", "5", "7.4", other).replace("|||F", "|||C"));
    const corrected = await lena.waitForMessage((b) => b.includes(`alert #${alertNumber}`) && b.includes("Corrected by the lab"), { roomId: page.roomId, what: "the correction in the page room", timeoutMs: 60_000 });
    expect(corrected.event.getSender()).to.equal(`@rounds_alerts:${s.hs.serverName}`);
    expect(corrected.event.isEncrypted()).to.equal(true);
    // By then the alerts bot had long seen the !ack (events reach the bots in order), and did not answer it.
    expect(await lena.noticesReplyingTo(page.roomId, `@rounds_alerts:${s.hs.serverName}`, cmd)).to.equal(0);
  });

  it("records a message once when Rounds dies between storing it and acknowledging it, and the lab resends it", async function () {
    const fired = async () => (await s.rounds.admin<{ rules: Array<{ rule: string; fired: number }> }>("/_rounds/admin/v1/alerts/report")).rules.find((r) => r.rule === "potassium")!.fired;
    const before = await fired();
    await s.rounds.stop();
    // This run of Rounds kills itself (SIGKILL) right after the message is committed, before its ACK.
    await s.rounds.start({ ROUNDS_ALERT_FAULT: "kill-after-store" });
    const unanswered = await mllpSend("crash", potassium("ORU-3", "3", "2.9")).then(
      (out) => out,
      (err: { stdout?: string }) => err.stdout ?? "",
    );
    expect(unanswered).not.to.match(/MSA\|AA\|ORU-3/);
    await waitUntil(async () => (s.rounds.child?.exitCode !== null || s.rounds.child?.signalCode ? true : null), "Rounds to be dead");
    await s.rounds.start();
    // The lab got no ACK, so it sends the same message again: acknowledged, recorded once.
    expect(await mllpSend("crash-resend", potassium("ORU-3", "3", "2.9"))).to.match(/MSA\|AA\|ORU-3/);
    const alert = await lena.waitForMessage((b) => b.includes("URGENT alert #") && b.includes("2.9 mmol/L"), { what: "the alert after the crash", timeoutMs: 60_000 });
    expect(alert.event.isEncrypted()).to.equal(true);
    expect(await fired()).to.equal(before + 1);
  });

  it("leaves no patient identifier, value or message text of any alert in Synapse's database", async function () {
    const phi = { "the MRN": MRN, "the patient's name": "DOE^JANE", "a value with its units": "5.8 mmol", "the alert's reason": "above the urgent limit", "the critical reason": "above the critical limit" };
    const files = [s.hs.dbFile, `${s.hs.dbFile}-wal`].filter(existsSync);
    expect(files).not.to.deep.equal([]);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const [what, text] of Object.entries(phi)) expect(bytes.includes(Buffer.from(text)), `${f} holds ${what}`).to.equal(false);
    }
  });
});
