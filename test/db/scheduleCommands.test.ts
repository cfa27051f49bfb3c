import { expect } from "chai";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { SwapService } from "../../appservice/oncall/swapService.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { CommandTable } from "../../bots/commands.js";
import { scheduleCommands } from "../../bots/scheduleCommands.js";
import { backends } from "../harness/backends.js";
import { RecordingNotifier as KeyedNotifier } from "../harness/recordingRooms.js";
import { NOW, RecordingNotifier, SCHEDULE } from "./scheduleFixtures.js";
import { migrateAll } from "../harness/migrateAll.js";

/** The schedule commands (!oncall, !myshifts, !swap) from the command table down to the database. */
describe("schedule bot commands over the on-call service", function () {
  let db: Db;
  let table: CommandTable;
  let notes: RecordingNotifier;
  const ask = (body: string, sender = "@a:x.org", sentAt = NOW) =>
    table.dispatch(body, { sender, roomId: "!r:x", sentAt }, (e) => {
      throw e;
    });

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    const oncall = new OnCallService(new OnCallStore(db), { now: () => NOW, conflictWindowDays: 7 });
    notes = new RecordingNotifier();
    table = new CommandTable("oncall", "On-call bot.", scheduleCommands(oncall, new SwapService(oncall, new SwapStore(db), notes, { now: () => NOW })).commands);
    expect((await ask("!oncall cardiology"))!.reply).to.contain("No on-call services are set up yet");
    await oncall.importSchedule(SCHEDULE);
  });
  after(() => db.destroy());

  it("answers !oncall now and at a time, keeping the reply format", async function () {
    expect((await ask("!oncall Cardiology"))!.reply).to.equal(
      "On call for Cardiology now (times Europe/London):\nprimary: Dr A (@a:x.org) until Tue 6 Jan 08:00\nbackup: @c:x.org until Mon 12 Jan 08:00",
    );
    expect((await ask("!oncall cardiology at tomorrow 09:00"))!.reply).to.contain("On call for Cardiology at Tue 6 Jan 09:00").and.contain("primary: Dr B (@b:x.org)");
    // 08:30 has passed on Monday (it is 09:00), so it means Tuesday 08:30.
    expect((await ask("!oncall cardiology at 08:30"))!.reply).to.contain("at Tue 6 Jan 08:30");
    expect((await ask("!oncall cardiology at 2026-01-07 12:00"))!.reply).to.contain("primary: Dr A (@a:x.org) until Thu 8 Jan 08:00");
    const bad = (await ask("!oncall cardiology at teatime"))!;
    expect(bad.outcome).to.equal("user_error");
    expect(bad.reply).to.contain('I couldn\'t read the time "teatime"').and.contain("Usage: !oncall <service> [at <time>]");
    expect((await ask("!oncall neurology"))!.reply).to.equal('I don\'t know a service called "neurology". Known services: cardiology (Cardiology), icu (ICU).');
  });

  it("lists my shifts", async function () {
    const r = (await ask("!myshifts 3"))!.reply;
    expect(r).to.equal(
      "Your on-call shifts in the next 3 days:\nCardiology primary: Mon 5 Jan 09:00 to Tue 6 Jan 08:00 (Europe/London)\nCardiology primary: Wed 7 Jan 08:00 to Thu 8 Jan 08:00 (Europe/London)",
    );
    expect((await ask("!myshifts", "@nobody:x.org"))!.reply).to.equal("You have no on-call shifts in the next 14 days.");
    expect((await ask("!myshifts lots"))!.outcome).to.equal("user_error");
  });

  it("requests, lists and accepts a trade with short ids", async function () {
    // A return slot the counterpart does not hold (Wednesday is @a's own day) is refused plainly.
    const req = (await ask("!swap request @b:x.org cardiology primary 2026-01-07 08:00 2026-01-08T08:00 return 2026-01-07 08:00 20:00", "@a:x.org"))!;
    expect(req.outcome).to.equal("user_error");
    expect(req.reply).to.contain("@b:x.org is not on call for Cardiology for the whole of from Wed 7 Jan 2026 08:00 to Wed 7 Jan 2026 20:00");

    const ok = (await ask("!swap request @b:x.org cardiology primary 2026-01-07 08:00 2026-01-08T08:00 return 2026-01-08 08:00 2026-01-09 08:00", "@a:x.org"))!;
    expect(ok.outcome).to.equal("ok");
    const id = /Swap id (\d+)/.exec(ok.reply)![1]!;
    expect(notes.to("@b:x.org").at(-1)).to.contain(`!swap accept ${id}`);
    expect((await ask("!swap list", "@b:x.org"))!.reply).to.contain(`#${id}: @a:x.org asks you to cover Cardiology primary Wed 7 Jan 08:00 to Thu 8 Jan 08:00`);
    expect((await ask(`!swap accept ${id}`, "@a:x.org"))!.reply).to.equal(`Only @b:x.org, who was asked to cover, can accept swap ${id}.`);
    expect((await ask(`!swap accept ${id}`, "@b:x.org"))!.reply).to.contain(`Accepted swap ${id}: you now cover Cardiology primary from Wed 7 Jan 08:00`);
    expect((await ask(`!swap decline ${id}`, "@b:x.org"))!.reply).to.equal(`Swap ${id} is already accepted.`);
    expect((await ask("!myshifts 4", "@b:x.org"))!.reply).to.contain("Wed 7 Jan 08:00 to Thu 8 Jan 08:00 (Europe/London), covering");
  });

  it("declines and cancels, and explains malformed swap commands", async function () {
    const r = (await ask("!swap request @b:x.org cardiology 2026-01-09 08:00 2026-01-10 08:00", "@a:x.org"))!;
    const id = /Swap id (\d+)/.exec(r.reply)![1]!;
    expect((await ask(`!swap decline ${id} on leave`, "@b:x.org"))!.reply).to.equal(`Declined swap ${id}; @a:x.org has been told.`);
    const r2 = (await ask("!swap request @b:x.org cardiology 2026-01-09 08:00 2026-01-10 08:00", "@a:x.org"))!;
    const id2 = /Swap id (\d+)/.exec(r2.reply)![1]!;
    expect((await ask(`!swap cancel ${id2}`, "@a:x.org"))!.reply).to.equal(`Cancelled swap ${id2}; @b:x.org has been told.`);
    expect((await ask("!swap list", "@a:x.org"))!.reply).to.equal("You have no open swap requests.");
    expect((await ask("!swap accept twelve", "@b:x.org"))!.reply).to.contain("Usage: !swap accept <id>");
    expect((await ask("!swap accept 999", "@b:x.org"))!.reply).to.contain("There is no swap 999");
    expect((await ask("!swap request bob cardiology", "@a:x.org"))!.reply).to.contain("Usage:");
    expect((await ask("!swap", "@a:x.org"))!.reply).to.contain("!swap request @user <service> [level] <start> <end>");
  });

  it("quotes at most a short, cleaned prefix of a 20,000-character argument", async function () {
    const long = `${"x".repeat(20_000)}`;
    const bodies = [
      `!oncall ${long}`,
      `!oncall cardiology at \u0007${long}`,
      `!swap request @${long} cardiology 2026-01-09 08:00 2026-01-10 08:00`,
      `!swap request @b:x.org cardiology ${long} 2026-01-09 08:00 2026-01-10 08:00`,
      `!swap request @b:x.org cardiology 2026-01-09 08:00 2026-01-10 08:00 ${long}`,
      `!swap ${long}`,
      `!${long}`,
    ];
    for (const body of bodies) {
      const r = (await ask(body))!;
      expect(r.outcome, body.slice(0, 40)).to.equal("user_error");
      expect(r.reply.length, body.slice(0, 40)).to.be.below(600);
      expect(r.reply).not.to.contain("x".repeat(40));
      expect(r.reply).not.to.match(/[\u0000-\u0009\u000b-\u001f]/);
    }
  });

  it("answers a !swap or !calendar sub-command named like a property of Object with the usage", async function () {
    for (const word of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      const r = (await ask(`!swap ${word} 1`))!;
      expect(r.outcome, word).to.equal("user_error");
      expect(r.reply, word).to.contain("Usage:\n!swap request @user");
    }
  });
});

for (const backend of backends) {
  describe(`!swap retried after a failure part-way (${backend.name})`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let notes: KeyedNotifier;
    let table: CommandTable;
    const command = async (body: string, sender: string, eventId: string) =>
      (await table.dispatch(body, { sender, roomId: "!dm:x.org", sentAt: NOW, eventId }, (e) => {
        throw e;
      }))!;
    /** The first attempt's message fails after the change was made, so the inbox retries the same event. */
    const retried = async (body: string, sender: string, eventId: string) => {
      notes.failNext();
      const first = await command(body, sender, eventId).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(first), body).to.contain("simulated crash in tellUser");
      const again = await command(body, sender, eventId);
      expect(again.outcome, again.reply).to.equal("ok");
      return again.reply;
    };
    const told = (userId: string, start: string) => notes.told.filter((t) => t.userId === userId && t.text.startsWith(start));
    const REQUEST = "!swap request @b:x.org cardiology 2026-01-09 08:00 2026-01-10 08:00";

    beforeEach(async function () {
      ({ db, close } = await backend.open());
      await migrateAll(db);
      const oncall = new OnCallService(new OnCallStore(db), { now: () => NOW, conflictWindowDays: 7 });
      await oncall.importSchedule(SCHEDULE);
      notes = new KeyedNotifier();
      table = new CommandTable("oncall", "On-call bot.", scheduleCommands(oncall, new SwapService(oncall, new SwapStore(db), notes, { now: () => NOW })).commands);
    });
    afterEach(() => close());

    it("a retried request opens one swap, tells the colleague once and answers as its first success", async function () {
      const reply = await retried(REQUEST, "@a:x.org", "$request");
      expect(reply).to.match(/^Asked @b:x\.org to cover Cardiology primary from .*\. Swap id 1; cancel with !swap cancel 1\.$/);
      expect(await db("swap_requests").select("id")).to.have.length(1);
      expect(told("@b:x.org", "@a:x.org asks you to cover")).to.have.length(1);
    });

    it("a retried accept answers as its first success, writes the overrides once and tells each person once", async function () {
      await command(REQUEST, "@a:x.org", "$request");
      expect(await retried("!swap accept 1", "@b:x.org", "$accept")).to.match(/^Accepted swap 1: you now cover Cardiology primary from .* Check with !myshifts\.$/);
      expect(await db("oncall_overrides").where({ reason: "swap 1" })).to.have.length(1);
      expect(told("@a:x.org", "Swap 1 accepted")).to.have.length(1);
      expect(told("@chief:x.org", "Swap 1 accepted")).to.have.length(1);
      // Another command's repeat is still refused.
      expect((await command("!swap accept 1", "@b:x.org", "$accept-again")).reply).to.equal("Swap 1 is already accepted.");
    });

    it("a retried decline or cancel answers as its first success and tells once", async function () {
      await command(REQUEST, "@a:x.org", "$request");
      expect(await retried("!swap decline 1 on leave", "@b:x.org", "$decline")).to.equal("Declined swap 1; @a:x.org has been told.");
      expect(told("@a:x.org", "Swap 1 declined")).to.have.length(1);
      await command(REQUEST, "@a:x.org", "$request-2");
      expect(await retried("!swap cancel 2", "@a:x.org", "$cancel")).to.equal("Cancelled swap 2; @b:x.org has been told.");
      expect(told("@b:x.org", "Swap 2 was cancelled")).to.have.length(1);
      expect((await command("!swap cancel 2", "@a:x.org", "$cancel-again")).reply).to.equal("Swap 2 is already cancelled; it cannot be cancelled.");
    });
  });
}
