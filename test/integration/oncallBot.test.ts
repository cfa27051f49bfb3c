import { existsSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import type { TestClinician } from "../harness/clinician.js";
import type { TestHomeserver } from "../harness/homeserver.js";
import type { RoundsProcess } from "../harness/rounds.js";
import { startBotScenario, type BotScenario } from "../harness/scenario.js";

/** The bot's in-memory timeline bound for this suite: small, so a clinician reaches it within Synapse's limits. */
const TIMELINE_EVENTS = 20;

describe("on-call bot over E2EE (real Synapse)", function () {
  let scenario: BotScenario;
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  let clinician: TestClinician;
  let roomId: string;
  let botUserId: string;
  let schedule: BotScenario["schedule"];

  before(async function () {
    scenario = await startBotScenario("ward-doctor", { ROUNDS_BOT_TIMELINE_EVENTS: String(TIMELINE_EVENTS) });
    ({ hs, rounds, clinician, roomId, botUserId, schedule } = scenario);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") rounds.dumpLogs();
  });

  after(async () => scenario?.stop());

  it("answers !oncall with the primary and backup, and Synapse stores only ciphertext", async function () {
    const cmdId = await clinician.send(roomId, "!oncall cardiology");
    const reply = await clinician.waitForNotice(roomId, botUserId, { after: cmdId });
    expect(reply.body).to.contain(`primary: ${schedule.primary.name} (${schedule.primary.user})`);
    expect(reply.body).to.contain(`backup: ${schedule.backup.name} (${schedule.backup.user})`);

    // Synapse's own database: both messages are m.room.encrypted and no plaintext is anywhere.
    const db = new DatabaseSync(hs.dbFile, { readOnly: true });
    const types = db
      .prepare("SELECT event_id, type FROM events WHERE event_id IN (?, ?)")
      .all(cmdId, reply.event.getId()!) as { event_id: string; type: string }[];
    db.close();
    expect(types).to.have.length(2);
    expect(types.map((t) => t.type)).to.deep.equal(["m.room.encrypted", "m.room.encrypted"]);
    const files = [hs.dbFile, `${hs.dbFile}-wal`].filter(existsSync);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from("Quinn Marlowe")), `${f} holds the on-call name`).to.equal(false);
      expect(bytes.includes(Buffer.from("!oncall cardiology")), `${f} holds the command text`).to.equal(false);
    }
  });

  it("lists the known services for an unknown one, and shows usage for a malformed command", async function () {
    const unknownId = await clinician.send(roomId, "!oncall dermatology");
    const unknown = await clinician.waitForNotice(roomId, botUserId, { after: unknownId });
    expect(unknown.body).to.contain('I don\'t know a service called "dermatology"');
    expect(unknown.body).to.contain("cardiology (Cardiology)");
    expect(unknown.body).to.contain("icu (Intensive Care)");

    const bareId = await clinician.send(roomId, "!oncall");
    expect((await clinician.waitForNotice(roomId, botUserId, { after: bareId })).body).to.match(/^Usage: !oncall <service>/);

    const helpId = await clinician.send(roomId, "!help");
    const help = await clinician.waitForNotice(roomId, botUserId, { after: helpId });
    expect(help.body).to.contain("!oncall <service> [at <time>] — Who is on call");
    expect(help.body).to.contain("!help — Show this help");
  });

  it("answers a command sent while it was stopped, from the same device", async function () {
    const before = rounds.logs.find((l) => l.msg === "bot: started")!;
    expect(before.deviceId).to.be.a("string");
    const devicesBefore = await clinician.botDeviceIds(botUserId);
    expect(devicesBefore).to.include(before.deviceId);
    await rounds.stop();

    const cmdId = await clinician.send(roomId, "!oncall icu");
    const started = rounds.waitForLog((l) => l.msg === "bot: started");
    await rounds.start();
    const after = await started;
    expect(after.deviceId).to.equal(before.deviceId);
    expect(after.restoredStore).to.equal(true);

    const reply = await clinician.waitForNotice(roomId, botUserId, { after: cmdId });
    expect(reply.body).to.contain(`primary: ${schedule.intensivist.name}`);
    expect(await clinician.isSignedByOwner(botUserId, String(after.deviceId)), "device cross-signed by the bot").to.equal(true);
    // No new device was created by the restart.
    expect((await clinician.botDeviceIds(botUserId)).sort()).to.deep.equal(devicesBefore.sort());
  });

  it("keeps its in-memory timeline bounded and goes on answering", async function () {
    const trimmed = rounds.waitForLog((l) => l.msg === "bot: trimmed the client's in-memory timeline" && l.roomId === roomId);
    // Each round trip adds two events; this Rounds keeps at most TIMELINE_EVENTS of them in memory.
    // A clinician may send 10 messages at once, then one every 5 s (Synapse's production limits).
    for (let i = 0; i < TIMELINE_EVENTS / 2 + 1; i++) {
      const id = await clinician.send(roomId, "!oncall icu");
      await clinician.waitForNotice(roomId, botUserId, { after: id });
    }
    await trimmed;
    const id = await clinician.send(roomId, "!oncall cardiology");
    expect((await clinician.waitForNotice(roomId, botUserId, { after: id })).body).to.contain(schedule.primary.name);
  });
});
