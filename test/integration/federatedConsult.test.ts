import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { decryptAttachment } from "../../appservice/shared/attachmentCrypto.js";
import { ConsultStateSchema, StateType, type ConsultState } from "../../appservice/shared/events/index.js";
import { TestClinician } from "../harness/clinician.js";
import { consultSchedule } from "../harness/consultScenario.js";
import { startFederation, type Federation } from "../harness/federation.js";
import { RoundsProcess } from "../harness/rounds.js";
import { waitUntil } from "../harness/waitUntil.js";

/** Clinical text sent from the clinic; it must cross federation only encrypted. */
const PHI = {
  ref: "Encounter/ext-1",
  question: "Exertional chest tightness with new T wave inversion in V1 to V4, is this unstable angina",
  findings: "Dynamic anterior ischaemia on serial ECGs",
};

/**
 * A hospital and a referring clinic each keep their own homeserver; the clinic's clinicians reach
 * the hospital's consult bot and specialists across federation, end-to-end encrypted.
 */
describe("consults across federation (hospital and referring clinic on their own homeservers, E2EE)", function () {
  let fed: Federation;
  const clients: TestClinician[] = [];

  async function clinician(where: "hospital" | "clinic", name: string): Promise<TestClinician> {
    const c = await TestClinician.create(fed[where], name);
    clients.push(c);
    c.acceptInvites();
    return c;
  }

  function waitForConsult(who: TestClinician, roomId: string, match: (s: ConsultState) => boolean, what: string): Promise<ConsultState> {
    return waitUntil(async () => {
      for (const ev of who.client.getRoom(roomId)?.currentState.getStateEvents(StateType.Consult) ?? []) {
        const parsed = ConsultStateSchema.safeParse(ev.getContent());
        if (parsed.success && match(parsed.data)) return parsed.data;
      }
      return null;
    }, what);
  }

  before(async function () {
    fed = await startFederation();
  });
  after(async function () {
    for (const c of clients.splice(0)) c.stop();
    await fed?.stop();
  });

  it("lets a clinic clinician and a hospital clinician exchange encrypted messages", async function () {
    const gp = await clinician("clinic", "gp");
    const nurse = await clinician("hospital", "nurse");
    expect(gp.userId.endsWith(`:${fed.clinic.serverName}`) && nurse.userId.endsWith(`:${fed.hospital.serverName}`)).to.equal(true);
    const dm = await gp.openEncryptedDm(nurse.userId);
    await gp.send(dm, "Sending the referral letter over now");
    const there = await nurse.waitForMessage((b) => b === "Sending the referral letter over now", { roomId: dm, sender: gp.userId, what: "the clinic's message" });
    expect(there.event.isEncrypted()).to.equal(true);
    await nurse.send(dm, "Received, thank you");
    const back = await gp.waitForMessage((b) => b === "Received, thank you", { roomId: dm, sender: nurse.userId, what: "the hospital's reply" });
    expect(back.event.isEncrypted()).to.equal(true);
  });

  describe("with the clinic as a partner server", function () {
    let rounds: RoundsProcess;
    let consultBot: string;
    let gp: TestClinician;
    let lena: TestClinician;

    before(async function () {
      rounds = new RoundsProcess(fed.hospital, { ROUNDS_TIMER_POLL_MS: "250", ROUNDS_PARTNER_SERVERS: fed.clinic.serverName });
      await rounds.start();
      let liam: TestClinician, sam: TestClinician, cora: TestClinician;
      [gp, lena, liam, sam, cora] = await Promise.all([
        clinician("clinic", "gina"),
        clinician("hospital", "lena"),
        clinician("hospital", "liam"),
        clinician("hospital", "sam"),
        clinician("hospital", "cora"),
      ]);
      const schedule = consultSchedule({ lena: lena.userId, liam: liam.userId, sam: sam.userId, cora: cora.userId });
      await rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: schedule, headers: { "content-type": "application/yaml" } });
      consultBot = `@rounds_consult:${fed.hospital.serverName}`;
    });
    afterEach(function () {
      if (this.currentTest?.state === "failed") rounds.dumpLogs(120);
    });
    after(async () => rounds?.stop());

    it("serves a consult requested from the clinic: the hospital's on-call accepts and reports, and the clinic reads both", async function () {
      const dm = await gp.openEncryptedDm(consultBot);
      const cmd = await gp.send(dm, `!consult cardiology urgent ${PHI.ref} ${PHI.question}?`);
      const reply = await gp.waitForNotice(dm, consultBot, { after: cmd });
      expect(reply.event.isEncrypted()).to.equal(true);
      const m = /^Consult #(\d+) sent to .* It is discussed in https:\/\/matrix\.to\/#\/(!\S+?)\.?$/s.exec(reply.body);
      expect(m, reply.body).to.not.equal(null);
      const [number, roomId] = [Number(m![1]), m![2]!];
      expect(reply.body).to.contain(`sent to ${lena.userId}`);

      // The hospital's on-call gets the clinic's question, encrypted, in the consult room...
      const request = await lena.waitForMessage((b) => b.includes(`#${number}`) && b.includes(PHI.question), { roomId, what: "the consult request" });
      expect(request.event.isEncrypted()).to.equal(true);
      // ...which the clinic clinician, on the other homeserver, has joined.
      const requested = await waitForConsult(gp, roomId, (c) => c.number === number && c.status === "requested", "the consult state at the clinic");
      expect(requested.requester).to.equal(gp.userId);
      expect(lena.client.getRoom(roomId)?.getMember(gp.userId)?.membership).to.equal("join");

      const acceptId = await lena.send(roomId, "!consult accept 30m");
      expect((await lena.waitForNotice(roomId, consultBot, { after: acceptId })).body).to.match(new RegExp(`^You accepted consult #${number}\\. Expected response by`));
      const accepted = await gp.waitForMessage((b) => b.includes(`accepted consult #${number}`), { roomId, sender: consultBot, what: "the acceptance" });
      expect(accepted.event.isEncrypted()).to.equal(true);
      expect(accepted.body).to.contain(lena.userId).and.contain(gp.userId);
      expect((await waitForConsult(gp, roomId, (c) => c.status === "accepted", "the accepted state at the clinic")).consultant).to.equal(lena.userId);

      const startId = await lena.send(roomId, "!consult start");
      expect((await lena.waitForNotice(roomId, consultBot, { after: startId })).body).to.equal(`Consult #${number} is in progress.`);
      const done = await lena.send(
        roomId,
        `!consult complete\nFindings: ${PHI.findings}\nAssessment: Unstable angina likely\nRecommendations: Admit for angiography; aspirin and heparin\nFollow-up: Cardiology clinic in 6 weeks\nBilling: initial inpatient moderate 50`,
      );
      expect((await lena.waitForNotice(roomId, consultBot, { after: done })).body).to.equal(`Consult #${number} is complete; the report is posted in its room.`);

      // The clinic reads the report and its attachment, fetched from the hospital over federation.
      const report = await gp.waitForMessage((b) => b.includes(PHI.findings) && /Recommendations/.test(b), { roomId, sender: consultBot, what: "the report" });
      expect(report.event.isEncrypted()).to.equal(true);
      const file = await gp.waitForMessage((_b, ev) => ev.getContent().msgtype === "m.file", { roomId, sender: consultBot, what: "the report attachment" });
      const content = file.event.getContent() as { file: { url: string } & Parameters<typeof decryptAttachment>[1] };
      const media = await fetch(gp.client.mxcUrlToHttp(content.file.url, undefined, undefined, undefined, false, true, true)!, {
        headers: { authorization: `Bearer ${gp.client.getAccessToken()}` },
      });
      expect(media.status).to.equal(200);
      const cipher = new Uint8Array(await media.arrayBuffer());
      expect(Buffer.from(cipher).includes(Buffer.from(PHI.findings))).to.equal(false);
      const markdown = new TextDecoder().decode(await decryptAttachment(cipher, content.file));
      expect(markdown).to.contain(PHI.findings).and.contain(PHI.ref);
      const completed = await waitForConsult(gp, roomId, (c) => c.status === "completed", "the completed state at the clinic");
      expect(completed.report_event_id).to.equal(report.event.getId());

      // Neither homeserver holds the clinical text: it crossed federation only encrypted.
      for (const f of [fed.hospital.dbFile, fed.clinic.dbFile].flatMap((db) => [db, `${db}-wal`]).filter(existsSync)) {
        const bytes = readFileSync(f);
        for (const [what, text] of Object.entries(PHI)) expect(bytes.includes(Buffer.from(text)), `${f} holds the ${what}`).to.equal(false);
      }
    });
  });

  describe("with the clinic not listed as a partner", function () {
    let rounds: RoundsProcess;

    before(async function () {
      rounds = new RoundsProcess(fed.hospital, { ROUNDS_PARTNER_SERVERS: "clinic.example.org" });
      await rounds.start();
    });
    afterEach(function () {
      if (this.currentTest?.state === "failed") rounds.dumpLogs(60);
    });
    after(async () => rounds?.stop());

    it("does not join a clinic clinician's DM", async function () {
      const stranger = await clinician("clinic", "stranger");
      const consultBot = `@rounds_consult:${fed.hospital.serverName}`;
      const ignored = rounds.waitForLog((l) => l.msg === "bot: ignored an invite from another homeserver" && l.senderServer === fed.clinic.serverName);
      const { room_id } = await stranger.client.createRoom({
        is_direct: true,
        invite: [consultBot],
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
      });
      expect((await ignored).roomId).to.equal(room_id);
      // The invite stands, unanswered: the bot neither joined nor answered.
      const member = (await stranger.client.getStateEvent(room_id, "m.room.member", consultBot)) as { membership?: string };
      expect(member.membership).to.equal("invite");
    });
  });
});
