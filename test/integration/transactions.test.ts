import { randomUUID } from "node:crypto";
import { expect } from "chai";
import knexFactory, { type Knex } from "knex";
import type { TestClinician } from "../harness/clinician.js";
import type { TestHomeserver } from "../harness/homeserver.js";
import { createThrowawayDatabase } from "../harness/postgres.js";
import type { RoundsProcess } from "../harness/rounds.js";
import { startBotScenario, type BotScenario } from "../harness/scenario.js";
import { waitUntil } from "../harness/waitUntil.js";

describe("durable appservice transactions (real Synapse, Postgres)", function () {
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  let pgDb: { url: string; drop(): Promise<void> };
  let db: Knex;
  let clinician: TestClinician;
  let roomId: string;
  let botUserId: string;
  let scenario: BotScenario;

  function syntheticEvent(overrides: Record<string, unknown> = {}) {
    return {
      event_id: `$test-${randomUUID()}`,
      room_id: "!not-a-rounds-room:rounds.test",
      sender: clinician.userId,
      type: "m.room.message",
      origin_server_ts: Date.now(),
      content: { msgtype: "m.text", body: "hello" },
      ...overrides,
    };
  }

  before(async function () {
    pgDb = await createThrowawayDatabase();
    db = knexFactory({ client: "pg", connection: pgDb.url });
    scenario = await startBotScenario("registrar", {
      DATABASE_URL: pgDb.url,
      ROUNDS_INBOX_MAX_ATTEMPTS: "3",
      // Retries 1 s then 2 s apart: a poison event is dead-lettered at least 3 s after its first failure.
      ROUNDS_INBOX_RETRY_BASE_MS: "1000",
    });
    ({ hs, rounds, clinician, roomId, botUserId } = scenario);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") rounds.dumpLogs();
  });

  after(async function () {
    await scenario?.stop();
    await db?.destroy();
    await pgDb?.drop();
  });

  it("refuses a wrong hs_token with 403 M_FORBIDDEN and stores nothing", async function () {
    const txnId = `forged-${randomUUID()}`;
    const res = await rounds.putTransaction(txnId, [syntheticEvent()], "not-the-hs-token");
    expect(res.status).to.equal(403);
    expect(await res.json()).to.deep.include({ errcode: "M_FORBIDDEN" });
    expect(await db("as_transactions").where({ txn_id: txnId })).to.have.length(0);
  });

  it("refuses a malformed transaction body with 400 and stores nothing", async function () {
    const txnId = `bad-${randomUUID()}`;
    const res = await fetch(`${rounds.url}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${hs.secrets.hsToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).to.equal(400);
    expect(await res.json()).to.deep.include({ errcode: "M_NOT_JSON" });
    expect(await db("as_transactions").where({ txn_id: txnId })).to.have.length(0);
  });

  it("does not join rooms it is invited to from another homeserver", async function () {
    const invite = syntheticEvent({
      room_id: "!federated-room:clinic.example",
      sender: "@gp:clinic.example",
      type: "m.room.member",
      state_key: botUserId,
      content: { membership: "invite" },
    });
    expect((await rounds.putTransaction(`invite-${randomUUID()}`, [invite])).status).to.equal(200);
    const line = await rounds.waitForLog((l) => l.msg === "bot: ignored an invite from another homeserver");
    expect(line).to.include({ roomId: "!federated-room:clinic.example", senderServer: "clinic.example" });
    await waitUntil(async () => (await db("inbox").where({ event_id: invite.event_id, status: "done" }))[0], "the invite to be handled");
  });

  it("processes the same transaction PUT twice only once", async function () {
    const txnId = `dup-${randomUUID()}`;
    const event = syntheticEvent();
    const handled = () => rounds.logs.filter((l) => l.msg === "inbox: event handled" && l.eventId === event.event_id).length;

    expect((await rounds.putTransaction(txnId, [event])).status).to.equal(200);
    await waitUntil(async () => handled() === 1, "the event to be handled");
    expect((await rounds.putTransaction(txnId, [event])).status).to.equal(200);
    await waitUntil(
      async () => rounds.logs.some((l) => l.msg === "appservice: transaction committed" && l.txnId === txnId && l.duplicate === true),
      "the repeat to be recognised",
    );

    expect(await db("as_transactions").where({ txn_id: txnId })).to.have.length(1);
    const rows = await db("inbox").where({ event_id: event.event_id });
    expect(rows).to.have.length(1);
    expect(rows[0].status).to.equal("done");
    // The inbox is worked in order: once a later event is handled, a second handling of the
    // repeated one would already have happened.
    const later = syntheticEvent();
    expect((await rounds.putTransaction(`later-${randomUUID()}`, [later])).status).to.equal(200);
    await waitUntil(async () => rounds.logs.some((l) => l.msg === "inbox: event handled" && l.eventId === later.event_id), "a later event to be handled");
    expect(handled()).to.equal(1);
  });

  it("dead-letters a poison event while the next event is still processed", async function () {
    // An encrypted event whose megolm session no one will ever send: it can never be decrypted.
    const poison = syntheticEvent({
      room_id: roomId,
      type: "m.room.encrypted",
      content: {
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28",
        session_id: "bm8tc3VjaC1zZXNzaW9uLW5vLXN1Y2gtc2Vzc2lvbjA",
        ciphertext: "AwgAEiBub3QgYSByZWFsIGNpcGhlcnRleHQ",
        device_id: "NOSUCHDEVICE",
      },
    });
    expect((await rounds.putTransaction(`poison-${randomUUID()}`, [poison])).status).to.equal(200);

    const cmdId = await clinician.send(roomId, "!oncall cardiology");
    const reply = await clinician.waitForNotice(roomId, botUserId, { after: cmdId });
    expect(reply.body).to.contain("On call for Cardiology");
    expect(await db("dead_letters").where({ event_id: poison.event_id }), "the reply came while the poison was still retrying").to.have.length(0);

    const dead = await waitUntil(async () => (await db("dead_letters").where({ event_id: poison.event_id }))[0], "the poison event to be dead-lettered");
    expect(dead.attempts).to.equal(3);
    expect(dead.error).to.match(/cannot decrypt/);
    expect(await db("inbox").where({ event_id: poison.event_id })).to.have.length(0);

    // An operator sees it, without content, and can put it back to be tried again.
    const admin = (path: string, method = "GET") =>
      fetch(`${rounds.url}/_rounds/admin/v1${path}`, { method, headers: { authorization: `Bearer ${rounds.adminToken}` } });
    const listed = (await (await admin("/dead-letters")).json()) as { deadLetters: { eventId: string }[] };
    expect(listed.deadLetters.map((d) => d.eventId)).to.include(poison.event_id);
    expect(JSON.stringify(listed)).not.to.contain("ciphertext");
    expect((await admin(`/dead-letters/${encodeURIComponent(poison.event_id)}/replay`, "POST")).status).to.equal(200);
    expect((await admin(`/dead-letters/${encodeURIComponent("$unknown")}/replay`, "POST")).status).to.equal(404);
    await waitUntil(
      async () => (await db("dead_letters").where({ event_id: poison.event_id }))[0],
      "the replayed poison event to be retried and dead-lettered again",
    );
  });

  it("processes events committed before a kill -9, after the restart", async function () {
    await rounds.stop();
    await rounds.start({ ROUNDS_INBOX_PAUSED: "1" });
    const cmdId = await clinician.send(roomId, "!oncall icu");
    await waitUntil(async () => (await db("inbox").where({ event_id: cmdId }))[0], "the command to be committed to the inbox");
    await rounds.kill();
    expect((await db("inbox").where({ event_id: cmdId }))[0].status).to.equal("pending");

    await rounds.start();
    const reply = await clinician.waitForNotice(roomId, botUserId, { after: cmdId });
    expect(reply.body).to.contain("On call for Intensive Care");
    await waitUntil(async () => (await db("inbox").where({ event_id: cmdId, status: "done" }))[0], "the inbox row to be marked done");
  });

  it("keeps talking encrypted after a kill -9 straight after a reply (no reused ratchet steps)", async function () {
    const first = await clinician.send(roomId, "!oncall cardiology");
    await clinician.waitForNotice(roomId, botUserId, { after: first });
    await rounds.kill();
    await rounds.start();
    const second = await clinician.send(roomId, "!oncall icu");
    // waitForNotice resolves only on a notice the clinician could decrypt.
    expect((await clinician.waitForNotice(roomId, botUserId, { after: second })).body).to.contain("Intensive Care");
  });
});
