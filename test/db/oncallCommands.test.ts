import { expect } from "chai";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { SwapService } from "../../appservice/oncall/swapService.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { ONCALL_BOT } from "../../bots/oncallBot.js";
import { scheduleCommands } from "../../bots/scheduleCommands.js";
import { CommandTable } from "../../bots/commands.js";
import { migrateAll } from "../harness/migrateAll.js";

/** The on-call bot's answers, from the command table down to the database (PGlite). */
describe("on-call bot commands over the on-call service", function () {
  let db: Db;
  let service: OnCallService;
  let table: CommandTable;
  const ask = (body: string, sentAt = new Date("2026-11-24T12:00:00Z")) =>
    table.dispatch(body, { sender: "@a:x", roomId: "!r:x", sentAt }, (e) => {
      throw e;
    });

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    service = new OnCallService(new OnCallStore(db));
    const swaps = new SwapService(service, new SwapStore(db), { tellUser: async () => undefined });
    table = CommandTable.forBot(ONCALL_BOT, scheduleCommands(service, swaps).commands);
  });
  after(() => db.destroy());

  it("tells a coordinator how to set up services when there are none", async function () {
    expect((await ask("!oncall cardiology"))!.reply).to.contain("No on-call services are set up yet").and.contain("schedule import");
  });

  it("names the on-call and the backup, with hand-over times in the service's zone", async function () {
    await service.importSchedule(`
clinicians: [{ user: "@a:x.org", name: "Dr A" }]
services:
  - id: cardiology
    name: Cardiology
    timezone: Asia/Tokyo
    levels:
      - level: primary
        rotation: { kind: daily, handover: "09:00", start: "2026-01-01", members: ["@a:x.org"] }
      - level: backup
        rotation: { kind: daily, handover: "09:00", start: "2026-01-01", members: ["@b:x.org"] }
  - id: gaps
    name: Gappy Service
    timezone: UTC
    levels:
      - level: primary
        rotation: { kind: weekly, handover: "08:00", start: "2030-01-07", members: ["@a:x.org"] }
`, { force: true });
    const r = (await ask("!oncall Cardiology"))!;
    expect(r.outcome).to.equal("ok");
    // 12:00 UTC is 21:00 in Tokyo; the shift ends at 09:00 Tokyo the next day.
    expect(r.reply).to.equal(
      "On call for Cardiology now (times Asia/Tokyo):\nprimary: Dr A (@a:x.org) until Wed 25 Nov 09:00\nbackup: @b:x.org until Wed 25 Nov 09:00",
    );
  });

  it("says plainly when the schedule has a gap", async function () {
    expect((await ask("!oncall gaps"))!.reply).to.contain("Nobody is scheduled on call for Gappy Service right now").and.contain("switchboard");
  });

  it("lists the known services for an unknown one", async function () {
    const r = (await ask("!oncall neurology"))!;
    expect(r.outcome).to.equal("user_error");
    expect(r.reply).to.equal('I don\'t know a service called "neurology". Known services: cardiology (Cardiology), gaps (Gappy Service).');
  });
});
