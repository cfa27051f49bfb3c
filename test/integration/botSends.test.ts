import { expect } from "chai";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { BotClient } from "../../appservice/matrix/botClient.js";
import { BotDeviceStore } from "../../appservice/matrix/botDeviceStore.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver, restartHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { tempDir } from "../harness/tempDir.js";
import { waitUntil } from "../harness/waitUntil.js";
import { migrateAll } from "../harness/migrateAll.js";

/**
 * The bots send their rate-limited writes as the appservice. A keyed send must still be one
 * event however often it is retried: in the same process, after a Synapse restart, and beside
 * another bot using the same key in the same room.
 */
describe("bot sends as the appservice: same key, same event (real Synapse)", function () {
  let hs: TestHomeserver;
  let db: Db;
  let first: BotClient;
  let second: BotClient;
  let clinician: TestClinician;
  let roomId: string;

  const dataDirs = new Map<string, string>();
  const bot = (name: string) =>
    new BotClient({
      identity: { name, displayName: `Send check ${name}` },
      homeserverUrl: hs.url,
      serverName: hs.serverName,
      asToken: hs.secrets.asToken,
      // The same directory on a restart: the bot keeps its device, as Rounds' bots do.
      dataDir: dataDirs.get(name) ?? dataDirs.set(name, tempDir(`bot-${name}`)).get(name)!,
      storePassphrase: "send-check-store-passphrase-0123456789",
      devices: new BotDeviceStore(db),
      log: createLogger("silent"),
    });

  /** The bodies of the notices from `sender` in the room, as the clinician decrypted them. */
  async function noticesFrom(sender: string): Promise<string[]> {
    const out: string[] = [];
    for (const ev of clinician.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? []) {
      if (ev.getSender() !== sender) continue;
      await clinician.client.decryptEventIfNeeded(ev);
      if (ev.getContent().msgtype === "m.notice") out.push(String(ev.getContent().body));
    }
    return out;
  }

  before(async function () {
    hs = await getHomeserver();
    db = openMemoryDatabase();
    await migrateAll(db);
    [first, second] = [bot("sendcheck"), bot("sendcheck2")];
    await first.start();
    await second.start();
    clinician = await TestClinician.create(hs, "sendcheck-reader");
    clinician.acceptInvites();
    roomId = await first.createEncryptedRoom({ invite: [clinician.userId, second.userId], direct: false, botOnlyStateTypes: [] });
    await second.matrix.joinRoom(roomId);
    await waitUntil(async () => clinician.client.getRoom(roomId)?.getMyMembership() === "join" || null, "the clinician to join");
  });

  after(async function () {
    clinician?.stop();
    await first?.stop();
    await second?.stop();
    await db?.destroy();
  });

  it("answers a repeated key with the first event, in the same process and after both the bot and Synapse restart", async function () {
    this.timeout(180_000);
    const content = { msgtype: "m.notice", body: "sent once" };
    const id = await first.sendMessage(roomId, content, "dedup-check", { mustEncrypt: true });
    expect(await first.sendMessage(roomId, content, "dedup-check", { mustEncrypt: true }), "a retry in the same process").to.equal(id);
    // Rounds went down after sending, and Synapse restarted before Rounds retried: neither
    // the bot's memory nor Synapse's in-memory txn cache knows the key; Synapse's durable record,
    // kept per device, must answer.
    await first.stop();
    await restartHomeserver();
    first = bot("sendcheck");
    await first.start();
    const after = await first.sendMessage(roomId, content, "dedup-check", { mustEncrypt: true });
    expect(after, "a retry after the bot and Synapse restarted").to.equal(id);
    const marker = await first.sendMessage(roomId, { msgtype: "m.notice", body: "marker" }, "dedup-marker", { mustEncrypt: true });
    await waitUntil(async () => clinician.client.getRoom(roomId)?.findEventById(marker) ?? null, "the marker to reach the clinician", 120_000);
    expect((await noticesFrom(first.userId)).filter((b) => b === "sent once")).to.have.length(1);
  });

  it("keeps two bots' sends with the same key in one room as two events", async function () {
    const a = await first.sendMessage(roomId, { msgtype: "m.notice", body: "from the first" }, "shared-key", { mustEncrypt: true });
    const b = await second.sendMessage(roomId, { msgtype: "m.notice", body: "from the second" }, "shared-key", { mustEncrypt: true });
    expect(b).to.not.equal(a);
    await waitUntil(async () => clinician.client.getRoom(roomId)?.findEventById(b) ?? null, "the second bot's message to reach the clinician");
    expect(await noticesFrom(second.userId)).to.include("from the second");
  });
});
