import { expect } from "chai";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { BotClient } from "../../appservice/matrix/botClient.js";
import { BotDeviceStore } from "../../appservice/matrix/botDeviceStore.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { migrateAll } from "../harness/migrateAll.js";
import { tempDir } from "../harness/tempDir.js";
import { waitUntil } from "../harness/waitUntil.js";

/**
 * Synapse shows a profile only to people who share a room with its user, as hospitals configure
 * it. A bot that shares no room with a clinician must still know that they exist and their name.
 */
describe("bot profile lookups where profiles are closed (real Synapse)", function () {
  let hs: TestHomeserver;
  let db: Db;
  let bot: BotClient;
  let stranger: TestClinician;

  before(async function () {
    hs = await getHomeserver();
    db = openMemoryDatabase();
    await migrateAll(db);
    bot = new BotClient({
      identity: { name: "profilecheck", displayName: "Profile check" },
      homeserverUrl: hs.url,
      serverName: hs.serverName,
      asToken: hs.secrets.asToken,
      dataDir: tempDir("bot-profilecheck"),
      storePassphrase: "profile-check-store-passphrase-0123456789",
      devices: new BotDeviceStore(db),
      log: createLogger("silent"),
    });
    await bot.start();
    stranger = await TestClinician.create(hs, "profile-stranger");
    await stranger.client.setDisplayName("Dr Priya Raman");
  });

  after(async function () {
    stranger?.stop();
    await bot?.stop();
    await db?.destroy();
  });

  it("names a clinician who shares no room with the bot, and knows they exist, from the staff directory", async function () {
    // The path under test: the profile itself is refused to the bot.
    const refused = await bot.matrix.getProfileInfo(stranger.userId).then(
      () => null,
      (err: { errcode?: string }) => err.errcode,
    );
    expect(refused).to.equal("M_FORBIDDEN");
    // The directory indexes the new name in the background.
    const name = await waitUntil(async () => (await bot.displayName(stranger.userId)) ?? undefined, "the directory to list the new name", 60_000);
    expect(name).to.equal("Dr Priya Raman");
    expect(await bot.userExists(stranger.userId)).to.equal(true);
  });

  it("knows no one by an id nobody has", async function () {
    const nobody = `@no-such-clinician-7f3a:${hs.serverName}`;
    expect(await bot.userExists(nobody)).to.equal(false);
    expect(await bot.displayName(nobody)).to.equal(null);
  });
});
