import { expect } from "chai";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { Metrics } from "../../appservice/metrics.js";
import { pagingMetrics } from "../../appservice/paging/pagingMetrics.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { ContactService } from "../../appservice/paging/contactService.js";
import { ContactStore } from "../../appservice/paging/contactStore.js";
import { PageService } from "../../appservice/paging/pageService.js";
import { PageStore } from "../../appservice/paging/pageStore.js";
import type { RoomWriter } from "../../appservice/ports/roomWriter.js";
import { TimerStore } from "../../appservice/timers/timerStore.js";
import { CommandTable, type CommandContext, type ReactionHandler } from "../../bots/commands.js";
import { pagingCommands } from "../../bots/pagingCommands.js";
import { StateType } from "../../appservice/shared/events/index.js";
import { backends } from "../harness/backends.js";
import { RecordingNotifier, RecordingRooms } from "../harness/recordingRooms.js";
import { migrateAll } from "../harness/migrateAll.js";

/**
 * The paging commands' own checks, down to the database: input they refuse never reaches Matrix.
 * Matrix itself is not involved (the integration tests cover it), so the room writer here fails
 * the test if anything tries to use it.
 */
const untouchable = new Proxy({} as RoomWriter, {
  get: (_t, prop) => () => {
    throw new Error(`refused input reached Matrix (${String(prop)})`);
  },
});

/** The paging commands over real services on `db`: cardiology, with @cardio:x.org on call. */
async function pagingOver(db: Db, rooms: RoomWriter): Promise<{ table: CommandTable; onReaction: ReactionHandler }> {
  const oncall = new OnCallService(new OnCallStore(db));
  await oncall.importSchedule(`
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["@cardio:x.org"] }
`);
  const contacts = new ContactStore(db, { emergent: 30, urgent: 120, routine: null });
  const pages = new PageService({
    store: new PageStore(db),
    oncall,
    timers: new TimerStore(db),
    wakeTimers: () => undefined,
    rooms,
    notifier: rooms === untouchable ? (untouchable as unknown as { tellUser(): Promise<void> }) : new RecordingNotifier(),
    contacts,
    sms: null,
    options: { delaysSeconds: { emergent: 60, urgent: 300, routine: 1800 }, serverName: "x.org" },
    log: createLogger("silent"),
    metrics: pagingMetrics(new Metrics().registry),
  });
  const paging = pagingCommands(pages, new ContactService(contacts));
  return { table: new CommandTable("oncall", "On-call bot.", paging.commands), onReaction: paging.reactionHandler! };
}

describe("paging commands refuse bad input before anything is sent", function () {
  let db: Db;
  let table: CommandTable;
  const ask = async (body: string, opts: { encrypted?: boolean; sender?: string } = {}) =>
    (await table.dispatch(body, { sender: opts.sender ?? "@ward:x.org", roomId: "!r:x.org", sentAt: new Date(), eventId: `$${Math.random()}`, encrypted: opts.encrypted ?? true }, (e) => {
      throw e;
    }))!.reply;

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    ({ table } = await pagingOver(db, untouchable));
  });
  after(() => db.destroy());

  it("refuses a note typed in an unencrypted room, and says how to page safely", async function () {
    expect(await ask("!page cardiology urgent bed 4 chest pain", { encrypted: false })).to.equal(
      "I have not paged: this room is not end-to-end encrypted, so clinical text here is not private. Page from an encrypted room or a direct message with me, or without a note (!page cardiology urgent).",
    );
    expect(await db("pages").count({ n: "*" }).first()).to.deep.include({ n: 0 });
  });

  it("refuses a misspelt urgency rather than paging at the wrong speed", async function () {
    expect(await ask("!page cardiology emergnet chest pain")).to.match(/^"emergnet" looks like an urgency but is not one\. Use emergent, urgent or routine/);
    expect(await ask("!page cardiology urgnet")).to.match(/^"urgnet" looks like an urgency/);
  });

  it("refuses pages from users of other homeservers", async function () {
    expect(await ask("!page cardiology urgent", { sender: "@visitor:clinic.example" })).to.match(/^Paging is open to clinicians with an account on this hospital's server/);
    expect(await db("pages").count({ n: "*" }).first()).to.deep.include({ n: 0 });
  });

  it("validates !notify and keeps a number for one clinician only", async function () {
    expect(await ask("!notify phone +15550001111", { sender: "@a:x.org" })).to.match(/^Your phone number is saved/);
    expect(await ask("!notify phone +15550001111", { sender: "@b:x.org" })).to.match(/^That number is already on file for another clinician/);
    expect(await ask("!notify sms urgent 99999999", { sender: "@b:x.org" })).to.match(/^Usage: !notify sms/);
    expect(await ask("!notify sms urgent 90", { sender: "@b:x.org" })).to.contain("urgent: SMS after 90 s");
    expect(await ask("!notify sms routine 5m", { sender: "@b:x.org" })).to.contain("routine: SMS after 5 min");
    expect(await ask("!notify", { sender: "@b:x.org" })).to.contain("Phone: none");
  });

  it("quotes at most a short, cleaned prefix of a 20,000-character argument", async function () {
    const long = `${"x".repeat(20_000)}`;
    for (const body of [`!page ${long}`, `!page cardiology\u202e${long}`, `!ack ${long}`, `!resolve ${long}`, `!broadcast ${long}`, `!notify phone ${long}`]) {
      const reply = await ask(body);
      expect(reply.length, body.slice(0, 20)).to.be.below(400);
      expect(reply, body.slice(0, 20)).not.to.contain("x".repeat(40));
      expect(reply).not.to.match(/[\u0000-\u001f\u202e]/);
    }
    expect(await db("pages").count({ n: "*" }).first()).to.deep.include({ n: 0 });
  });

  it("answers a command named like a property of Object as unknown", async function () {
    for (const word of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      expect(await ask(`!${word}`)).to.equal(`I don't know the command "!${word.toLowerCase()}". Send !help to see what I can do.`);
    }
  });
});

for (const backend of backends) {
  describe(`paging commands retried after their state write failed (${backend.name})`, function () {
    const CARDIO = "@cardio:x.org";
    const WARD = "@ward:x.org";
    let db: Db;
    let close: () => Promise<void>;
    let rooms: RecordingRooms;
    let table: CommandTable;
    let onReaction: ReactionHandler;
    const ctx = (sender: string, roomId: string, eventId: string): CommandContext => ({ sender, roomId, sentAt: new Date(), eventId, encrypted: true });
    const command = async (body: string, sender: string, roomId: string, eventId: string) =>
      (await table.dispatch(body, ctx(sender, roomId, eventId), (e) => {
        throw e;
      }))!;
    /** The first attempt's state write fails, so the inbox retries the same event; returns the retry's reply. */
    const retried = async (run: () => Promise<{ outcome: string; reply: string } | null>) => {
      rooms.failNext("setState");
      const first = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(first)).to.contain("simulated crash in setState");
      const again = (await run())!;
      expect(again.outcome, again.reply).to.equal("ok");
      return again.reply;
    };
    const page = async (eventId: string) => {
      const r = await command("!page cardiology urgent chest pain bed 12", WARD, "!ward:x.org", eventId);
      expect(r.outcome, r.reply).to.equal("ok");
      const row = await db("pages").where({ origin_event_id: eventId }).first();
      return { number: row.number as number, id: row.id as string, roomId: row.room_id as string, reply: r.reply };
    };
    const stateOf = (p: { id: string; roomId: string }) => rooms.state.get(`${p.roomId}|${StateType.Page}|${p.id}`) as Record<string, unknown>;
    const says = (roomId: string, start: string) => rooms.messages(roomId).filter((m) => m.body.startsWith(start));

    beforeEach(async function () {
      ({ db, close } = await backend.open());
      await migrateAll(db);
      rooms = new RecordingRooms("@rounds_oncall:x.org");
      ({ table, onReaction } = await pagingOver(db, rooms));
    });
    afterEach(() => close());

    it("a retried !page raises one page and answers as its first success", async function () {
      const first = await retried(() => command("!page cardiology urgent chest pain bed 12", WARD, "!ward:x.org", "$page"));
      const rows = await db("pages").select("id", "number", "room_id");
      expect(rows).to.have.length(1);
      const p = { id: rows[0].id as string, roomId: rows[0].room_id as string };
      expect(first).to.equal(`Paged Cardiology (urgent): ${CARDIO}. Page #${rows[0].number} is open in an encrypted room with you and them. If nobody acknowledges within 5 min, I escalate to the next level.`);
      expect(stateOf(p)).to.include({ status: "notified" });
      expect(says(p.roomId, "❗ URGENT page")).to.have.length(1);
    });

    for (const form of ["!ack", "!ack N"]) {
      it(`a retried ${form} answers as its first success, mirrors once the write works, and tells the requester once`, async function () {
        const p = await page("$page");
        const body = form.replace("N", String(p.number));
        expect(await retried(() => command(body, CARDIO, p.roomId, "$ack"))).to.equal("Acknowledged. The requester has been told.");
        expect(stateOf(p)).to.include({ status: "acknowledged", acknowledged_by: CARDIO });
        expect(says(p.roomId, `✅ Page #${p.number} acknowledged`)).to.have.length(1);
        expect(says("!ward:x.org", `✅ Page #${p.number} acknowledged`)).to.have.length(1);
        // Another command's repeat is still refused.
        expect((await command(body, CARDIO, p.roomId, "$ack-again")).reply).to.match(new RegExp(`^(Page #${p.number} was already acknowledged|There is no open page)`));
      });
    }

    for (const form of ["!resolve", "!resolve N"]) {
      it(`a retried ${form} answers as its first success and says it once`, async function () {
        const p = await page("$page");
        const body = form.replace("N", String(p.number));
        expect(await retried(() => command(body, WARD, p.roomId, "$resolve"))).to.equal(`Page #${p.number} is resolved.`);
        expect(stateOf(p)).to.include({ status: "resolved" });
        expect(says(p.roomId, `Page #${p.number} resolved by ${WARD}`)).to.have.length(1);
        expect(Number((await db("timers").where({ ref: p.id, status: "pending" }).count({ n: "*" }).first())?.n)).to.equal(0);
        expect((await command(body, WARD, p.roomId, "$resolve-again")).outcome).to.equal("user_error");
      });
    }

    it("a retried ✅ acknowledges once and mirrors the state", async function () {
      const p = await page("$page");
      const request = says(p.roomId, "❗ URGENT page")[0]!.eventId;
      rooms.failNext("setState");
      const first = await onReaction(ctx(CARDIO, p.roomId, "$react"), request, "✅").then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(first)).to.contain("simulated crash in setState");
      expect(await onReaction(ctx(CARDIO, p.roomId, "$react"), request, "✅")).to.equal(null);
      expect(stateOf(p)).to.include({ status: "acknowledged", acknowledged_via: "reaction" });
      expect(says(p.roomId, `✅ Page #${p.number} acknowledged by ${CARDIO} with ✅`)).to.have.length(1);
    });
  });
}
