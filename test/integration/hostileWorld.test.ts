import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import knexFactory, { type Knex } from "knex";
import { TestClinician } from "../harness/clinician.js";
import { restartHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { createThrowawayDatabase } from "../harness/postgres.js";
import type { RoundsProcess } from "../harness/rounds.js";
import { startBotScenario, type BotScenario } from "../harness/scenario.js";
import { waitUntil } from "../harness/waitUntil.js";

/** Synapse's access log lines for requests by a Rounds user (bot or SMS puppet) that it answered 429. */
function throttledRoundsRequests(hs: TestHomeserver): string[] {
  const log = readFileSync(join(hs.dir, "homeserver.log"), "utf8");
  return log.split("\n").filter((l) => / 429 "/.test(l) && /\{@rounds_/.test(l));
}

/**
 * The world users run: production rate limits (the harness's Synapse runs the production
 * template's limits), a restarted homeserver, and hostile events from a room member.
 */
describe("restarts, rate limits and hostile events (real Synapse, Postgres)", function () {
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  let pgDb: { url: string; drop(): Promise<void> };
  let db: Knex;
  let clinician: TestClinician;
  let roomId: string;
  let botUserId: string;
  let scenario: BotScenario;

  /** Sends a command and resolves with the bot's reply to it. */
  async function ask(who: TestClinician, room: string, command: string, timeoutMs?: number): Promise<{ id: string; body: string }> {
    const id = await who.send(room, command);
    const reply = await who.waitForNotice(room, botUserId, { after: id, timeoutMs });
    return { id, body: reply.body };
  }

  /** How many of the bot's notices in the room reply to this event. */
  const repliesTo = (who: TestClinician, room: string, eventId: string) => who.noticesReplyingTo(room, botUserId, eventId);

  before(async function () {
    pgDb = await createThrowawayDatabase();
    db = knexFactory({ client: "pg", connection: pgDb.url });
    scenario = await startBotScenario("hostile", { DATABASE_URL: pgDb.url, ROUNDS_INBOX_MAX_ATTEMPTS: "2", ROUNDS_INBOX_RETRY_BASE_MS: "200" });
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

  it("answers bursts from two clinicians at once, each command once, and Synapse never throttles a bot", async function () {
    const other = await TestClinician.create(hs, "burst");
    const otherRoom = await other.openEncryptedDm(botUserId);
    const burst = async (who: TestClinician, room: string) => {
      const ids: string[] = [];
      // Eight commands as fast as one clinician may send them (Synapse allows a burst of 10).
      for (let i = 0; i < 8; i++) ids.push(await who.send(room, "!oncall cardiology"));
      for (const id of ids) expect((await who.waitForNotice(room, botUserId, { after: id })).body).to.contain("On call for Cardiology");
      return ids;
    };
    const [mine, theirs] = await Promise.all([burst(clinician, roomId), burst(other, otherRoom)]);
    // The bot sent 16 replies within seconds, past a clinician's burst of 10.
    expect(throttledRoundsRequests(hs)).to.deep.equal([]);
    const last = await ask(clinician, roomId, "!oncall icu");
    expect(last.body).to.contain("Intensive Care");
    for (const id of mine) expect(await repliesTo(clinician, roomId, id)).to.equal(1);
    for (const id of theirs) expect(await repliesTo(other, otherRoom, id)).to.equal(1);
    other.stop();
  });

  it("goes on answering after a clinician sends an event whose content holds a NUL byte", async function () {
    // What any member of a shared room, local or federated, can send.
    const url = `${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/org.x.y/nul-${Date.now()}`;
    const put = () =>
      fetch(url, { method: "PUT", headers: { authorization: `Bearer ${clinician.client.getAccessToken()}`, "content-type": "application/json" }, body: '{"k":"a\\u0000b"}' });
    let res = await put();
    // This clinician has just sent a burst: like any client, wait as long as Synapse says.
    for (let i = 0; res.status === 429 && i < 10; i++) {
      const { retry_after_ms } = (await res.json()) as { retry_after_ms?: number };
      await new Promise((r) => setTimeout(r, (retry_after_ms ?? 1000) + 50));
      res = await put();
    }
    expect(res.status).to.equal(200);
    const { event_id: nulEvent } = (await res.json()) as { event_id: string };
    const reply = await ask(clinician, roomId, "!oncall cardiology");
    expect(reply.body).to.contain("On call for Cardiology");
    // It reached Rounds and was stored as sent: handled (the bots ignore such events) or dead-lettered.
    const row = await waitUntil(async () => (await db("inbox").where({ event_id: nulEvent }))[0] ?? (await db("dead_letters").where({ event_id: nulEvent }))[0], "the NUL event to reach Rounds");
    expect(row.event_type).to.equal("org.x.y");
    expect(await rounds.metric("rounds_appservice_transactions_total", 'outcome="error"')).to.equal(0);
  });

  it("accepts a full-size transaction: 100 events of 64 KiB with their previous content", async function () {
    const big = "x".repeat(60_000);
    const events = Array.from({ length: 100 }, (_, i) => ({
      event_id: `$full-${Date.now()}-${i}`,
      room_id: "!not-a-rounds-room:rounds.test",
      sender: clinician.userId,
      type: "org.x.state",
      state_key: "",
      origin_server_ts: Date.now(),
      content: { big },
      unsigned: { prev_content: { big } },
    }));
    const res = await rounds.putTransaction(`full-${Date.now()}`, events);
    expect(res.status, await res.text()).to.equal(200);
    expect(Number((await db("inbox").whereIn("event_id", events.map((e) => e.event_id)).count<{ n: string }[]>("* as n"))[0]!.n)).to.equal(100);
  });

  it("tells nobody without a token, nor a stranger, which users exist", async function () {
    const absent = `@nobody-here-${Date.now()}:${hs.serverName}`;
    const profile = (userId: string, token?: string) =>
      fetch(`${hs.url}/_matrix/client/v3/profile/${encodeURIComponent(userId)}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const [present, missing] = await Promise.all([profile(clinician.userId), profile(absent)]);
    expect([present.status, missing.status]).to.deep.equal([401, 401]);
    // A signed-in stranger (no shared room) gets the same answer for both.
    const stranger = await TestClinician.create(hs, "stranger");
    const token = stranger.client.getAccessToken()!;
    const [p2, m2] = await Promise.all([profile(clinician.userId, token), profile(absent, token)]);
    expect([p2.status, m2.status]).to.deep.equal([403, 403]);
    stranger.stop();
  });

  it("after Synapse restarts mid-conversation, answers the next commands exactly once", async function () {
    expect((await ask(clinician, roomId, "!oncall cardiology")).body).to.contain("Cardiology");
    await restartHomeserver();
    // Synapse on SQLite numbers its transactions from 1 again after a restart: these reuse txn ids
    // Rounds has already seen, with new events in them.
    const first = await ask(clinician, roomId, "!oncall icu");
    expect(first.body).to.contain("Intensive Care");
    const second = await ask(clinician, roomId, "!oncall cardiology");
    expect(second.body).to.contain("Cardiology");
    for (const id of [first.id, second.id]) expect(await repliesTo(clinician, roomId, id)).to.equal(1);
  });

  it("after both Synapse and Rounds restart, answers a command sent while both were coming back", async function () {
    await rounds.stop();
    await restartHomeserver();
    const whileDown = await clinician.send(roomId, "!oncall icu");
    await rounds.start();
    // Nothing else is sent: Rounds' start-up ping makes Synapse deliver what it queued.
    expect((await clinician.waitForNotice(roomId, botUserId, { after: whileDown })).body).to.contain("Intensive Care");
    expect(await repliesTo(clinician, roomId, whileDown)).to.equal(1);
    await waitUntil(async () => (await db("inbox").where({ event_id: whileDown, status: "done" }))[0], "the command to be marked done");
  });
});
