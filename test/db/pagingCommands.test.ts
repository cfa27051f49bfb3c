import { expect } from "chai";
import { migrate, openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { Metrics } from "../../appservice/metrics.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { ContactService } from "../../appservice/paging/contactService.js";
import { ContactStore } from "../../appservice/paging/contactStore.js";
import { PageService } from "../../appservice/paging/pageService.js";
import { PageStore } from "../../appservice/paging/pageStore.js";
import type { RoomWriter } from "../../appservice/ports/roomWriter.js";
import { TimerStore } from "../../appservice/timers/timerStore.js";
import { CommandTable } from "../../bots/commands.js";
import { pagingCommands } from "../../bots/pagingCommands.js";

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

describe("paging commands refuse bad input before anything is sent", function () {
  let db: Db;
  let table: CommandTable;
  const ask = async (body: string, opts: { encrypted?: boolean; sender?: string } = {}) =>
    (await table.dispatch(body, { sender: opts.sender ?? "@ward:x.org", roomId: "!r:x.org", sentAt: new Date(), eventId: `$${Math.random()}`, encrypted: opts.encrypted ?? true }, (e) => {
      throw e;
    }))!.reply;

  before(async function () {
    db = openMemoryDatabase();
    await migrate(db);
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
      rooms: untouchable,
      notifier: untouchable as unknown as { tellUser(): Promise<void> },
      contacts,
      sms: null,
      options: { delaysSeconds: { emergent: 60, urgent: 300, routine: 1800 }, serverName: "x.org" },
      log: createLogger("silent"),
      metrics: new Metrics(),
    });
    const paging = pagingCommands(pages, new ContactService(contacts));
    table = new CommandTable("oncall", "On-call bot.", paging.commands);
  });
  after(() => db.destroy());

  it("refuses a note typed in an unencrypted room, and says how to page safely", async function () {
    expect(await ask("!page cardiology urgent bed 4 chest pain", { encrypted: false })).to.equal(
      "I have not paged: this room is not end-to-end encrypted, so a note here is not private. Page from an encrypted room or a direct message with me, or without a note (!page cardiology urgent).",
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
