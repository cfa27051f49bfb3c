import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { StateType } from "../../appservice/shared/events/index.js";
import { AlertRoute } from "../../appservice/shared/alertApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import { startAlertsScenario, type AlertsScenario } from "../harness/alertsScenario.js";
import type { TestClinician } from "../harness/clinician.js";
import { widgetSession } from "../harness/widgetCaller.js";
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
    // Level 2 is told the result and whose it is: the request is quoted whole, patient line included.
    const escalation = await liam.waitForMessage((b) => b.startsWith(`⬆️ Escalated emergent page #${pageNumber}`) && b.includes("Potassium 6.8"), { what: "the escalation", timeoutMs: 30_000 });
    expect(escalation.body).to.contain(`Patient: ${MRN} (GENHOSP), unit 4WEST`);
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

  it("refuses widget API calls on an alert from the wrong person, the wrong room or with bad values, naming why, and changes nothing", async function () {
    await mllpSend("urgent-3", potassium("ORU-6", "6", "5.7", "PID|1||MRN40888^^^GENHOSP^MR||POE^EDGAR"));
    const msg = await lena.waitForMessage((b) => b.includes("URGENT alert #") && b.includes("MRN40888"), { what: "the third patient's alert", timeoutMs: 60_000 });
    const n = Number(/alert #(\d+)/.exec(msg.body)![1]);
    const at = (route: string) => routePath(route, { number: String(n) });
    const asLena = await widgetSession(s.rounds.url, lena);
    const asLiam = await widgetSession(s.rounds.url, liam);
    const { room_id: otherRoom } = await lena.client.createRoom({ name: "Elsewhere" });
    const refusals: Array<[Awaited<ReturnType<typeof asLena.call>>, number, string]> = [
      [await asLiam.call("GET", at(AlertRoute.alert)), 403, `Alert #${n} was not sent to you.`],
      [await asLiam.call("POST", at(AlertRoute.ack), { room_id: msg.roomId }), 403, `Alert #${n} was not sent to you.`],
      [await asLena.call("POST", at(AlertRoute.ack), { room_id: otherRoom }), 403, `Alert #${n} did not reach you in this room; act on it where it did.`],
      [await asLena.call("POST", routePath(AlertRoute.ack, { number: "twelve" }), { room_id: msg.roomId }), 400, "the alert number must be a whole number such as 12"],
      [await asLena.call("POST", at(AlertRoute.snooze), { room_id: msg.roomId, minutes: 0 }), 400, "minutes: must be at least 1 minute"],
      [await asLena.call("POST", at(AlertRoute.snooze), { room_id: msg.roomId, minutes: 600 }), 400, "Snooze for 1 to 60 minutes, e.g. !snooze " + n + " 15."],
      [await asLena.call("POST", at(AlertRoute.snooze), { room_id: msg.roomId, minutes: 5, until: "never" }), 400, 'body: Unrecognized key: "until"'],
      [await asLena.call("POST", at(AlertRoute.falsePositive), { room_id: msg.roomId, reason_event_id: msg.event.getId() }), 403, "The reason must be a message you sent."],
      [await asLena.call("POST", AlertRoute.quietHours, { quiet: { from: "25:00", to: "07:00", zone: "Europe/London" } }), 400, "quiet.from: must be a time such as 22:00"],
      [await asLena.call("POST", AlertRoute.quietHours, { quiet: { from: "22:00", to: "22:00", zone: "Europe/London" } }), 400, "Quiet hours from 22:00 to 22:00 would be no time at all, or all day. Give two different times, e.g. 22:00 to 07:00."],
      [await asLena.call("GET", AlertRoute.rules), 403, "The rules and their analytics are for the coordinators of the services alerts go to."],
    ];
    for (const [res, status, error] of refusals) expect([res.status, res.json.error]).to.deep.equal([status, error]);
    // Nothing changed: still open, not snoozed, no quiet hours.
    const now = await asLena.call("GET", `${at(AlertRoute.alert)}?room_id=${encodeURIComponent(msg.roomId)}`);
    expect(now.json.alert).to.deep.include({ status: "open", snoozed_until_ts: null, false_positive: false });
    expect((await asLena.call("GET", AlertRoute.quietHours)).json.quiet).to.equal(null);
    const acked = await asLena.call("POST", at(AlertRoute.ack), { room_id: msg.roomId });
    expect([acked.status, (acked.json.alert as { status: string }).status]).to.deep.equal([200, "acknowledged"]);
  });

  it("sets a patient's own limits by chat and through the admin API, refusing what does not fit, and applies them to that patient's next result", async function () {
    const refused = async (body: unknown) => s.rounds.admin("/_rounds/admin/v1/alerts/patient-limits", { method: "PUT", body: JSON.stringify(body) }).then(() => "accepted", (e: Error) => e.message);
    const patient = { id: "MRN40777", authority: "GENHOSP" };
    expect(await refused({ patient, rule: "nope", limits: null })).to.match(/HTTP 404 .*There is no rule 'nope' in force\./);
    expect(await refused({ patient, rule: "anticoagulant-nsaid", limits: { urgent: { above: 6 } } })).to.match(/HTTP 400 .*has nothing to set for one patient/);
    expect(await refused({ patient, rule: "news2", limits: { urgent: { above: 6 } } })).to.match(/HTTP 400 .*give the SpO2 scale/);
    expect(await refused({ patient, rule: "potassium", limits: { urgent: { above: 6.6 } } })).to.match(/HTTP 400 .*must widen from informational to urgent to critical/);
    expect(await refused({ patient, rule: "potassium", limits: { urgent: { above: 6 } }, by: "me" })).to.match(/HTTP 400 .*Unrecognized key: \\"by\\"/);
    expect((await s.rounds.admin<{ limits: unknown[] }>("/_rounds/admin/v1/alerts/patient-limits")).limits).to.deep.equal([]);
    await s.rounds.admin("/_rounds/admin/v1/alerts/patient-limits", { method: "PUT", body: JSON.stringify({ patient, rule: "potassium", limits: { urgent: { above: 6.1 }, informational: { above: 6 } } }) });
    const listed = await s.rounds.admin<{ limits: Array<{ patient: unknown; rule: string; set_by: string }> }>("/_rounds/admin/v1/alerts/patient-limits");
    expect(listed.limits.map((l) => [l.patient, l.rule, l.set_by])).to.deep.equal([[patient, "potassium", "admin"]]);

    // Her usual 5.9 raises nothing; 6.3 (critical for anyone) still pages. Intake takes messages in
    // the order they came, so when the page is there the 5.9 has been evaluated.
    const potassiumFired = async () => (await s.rounds.admin<{ rules: Array<{ rule: string; fired: number }> }>("/_rounds/admin/v1/alerts/report")).rules.find((r) => r.rule === "potassium")!.fired;
    const before = await potassiumFired();
    const pid = "PID|1||MRN40777^^^GENHOSP^MR||LOE^ANNA";
    expect(await mllpSend("own-1", potassium("ORU-7", "7", "5.9", pid))).to.match(/MSA\|AA\|ORU-7/);
    await mllpSend("own-2", potassium("ORU-8", "8", "6.3", pid));
    const page = await lena.waitForMessage((b) => b.includes("CRITICAL alert #") && b.includes("MRN40777"), { what: "her critical page", timeoutMs: 60_000 });
    expect(page.body).to.contain("Potassium 6.3 mmol/L");
    expect(await potassiumFired()).to.equal(before + 1);

    // By chat, from the alert: !limit shows them, and off clears them.
    const bot = `@rounds_alerts:${s.hs.serverName}`;
    const dm = await lena.openEncryptedDm(bot);
    const n = /alert #(\d+)/.exec(page.body)![1];
    const show = await lena.send(dm, `!limit ${n}`);
    expect((await lena.waitForNotice(dm, bot, { after: show })).body).to.equal(`This patient's own potassium limits: urgent above 6.1; informational above 6 mmol/L. Send !limit ${n} off to go back to the rule's.`);
    const off = await lena.send(dm, `!limit ${n} off`);
    expect((await lena.waitForNotice(dm, bot, { after: off })).body).to.equal("This patient's own potassium limits are cleared: the rule's apply again.");
    expect((await s.rounds.admin<{ limits: unknown[] }>("/_rounds/admin/v1/alerts/patient-limits")).limits).to.deep.equal([]);
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
