import { expect } from "chai";
import { backends } from "../harness/backends.js";
import type { Db } from "../../appservice/db/connect.js";
import { InboxStore } from "../../appservice/inbox/inboxStore.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { parseScheduleFile } from "../../appservice/oncall/scheduleFile.js";
import type { ClientEvent } from "../../appservice/shared/events/index.js";
import { BotDeviceStore } from "../../appservice/matrix/botDeviceStore.js";
import { CommandEffects } from "../../appservice/db/commandEffects.js";
import type { Knex } from "knex";
import { coreMigrations as migrations } from "../../appservice/db/migrations/index.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { ContactError, ContactService } from "../../appservice/paging/contactService.js";
import { ContactStore } from "../../appservice/paging/contactStore.js";
import { PageStore } from "../../appservice/paging/pageStore.js";
import { ShiftWatchStore } from "../../appservice/paging/shiftWatchStore.js";
import { TimerStore } from "../../appservice/timers/timerStore.js";
import { migrateAll } from "../harness/migrateAll.js";

const event = (id: string, room = "!r:x"): ClientEvent => ({
  event_id: `$${id}`,
  room_id: room,
  sender: "@a:x",
  type: "m.room.message",
  origin_server_ts: 1,
  content: { body: "x" },
});

const scheduleYaml = `
clinicians: [{ user: "@a:x.org", name: "Dr A" }]
services:
  - id: icu
    name: ICU
    timezone: America/New_York
    levels:
      - level: primary
        rotation: { kind: daily, handover: "07:00", start: "2026-03-08", members: ["@a:x.org", "@b:x.org"] }
    shifts:
      - { level: primary, user: "@c:x.org", start: "2026-03-10T19:00", end: "2026-03-11T07:00" }
`;

for (const backend of backends) {
  describe(`datastore contract: ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;

    before(async function () {
      ({ db, close } = await backend.open());
      await migrateAll(db);
    });
    after(async () => close?.());

    it("runs the numbered migrations once", async function () {
      expect(await migrateAll(db)).to.deep.equal([]);
      const names = (await db("rounds_migrations").orderBy("id")).map((r) => r.name);
      expect(names.slice(0, 4)).to.deep.equal(["001_appservice_inbox", "002_oncall_schedule", "003_bot_devices", "004_schedule_layers"]);
    });

    it("stores each event once by its event id, and a txn id reused after a homeserver restart still delivers", async function () {
      const inbox = new InboxStore(db);
      expect(await inbox.acceptTransaction("t1", [event("e1"), event("e2")])).to.deep.equal({ stored: 2, deadLettered: 0 });
      // Synapse retrying the same transaction: nothing new.
      expect(await inbox.acceptTransaction("t1", [event("e1"), event("e2")])).to.deep.equal({ stored: 0, deadLettered: 0 });
      // Synapse on SQLite after a restart numbers its transactions from 1 again: same id, new events.
      expect(await inbox.acceptTransaction("t1", [event("e3")])).to.deep.equal({ stored: 1, deadLettered: 0 });
      // The same event under a new txn id is kept once.
      expect(await inbox.acceptTransaction("t2", [event("e1")])).to.deep.equal({ stored: 0, deadLettered: 0 });
      const due = await inbox.due(10);
      expect(due.map((r) => r.eventId)).to.deep.equal(["$e1", "$e2", "$e3"]);
      expect(due[0]!.event.content).to.deep.equal({ body: "x" });
      for (const r of due.filter((d) => d.eventId === "$e3")) await inbox.markDone(r.id);
    });

    it("accepts whatever an event holds: odd content is stored as sent, what the database refuses is dead-lettered, the rest flows", async function () {
      const inbox = new InboxStore(db);
      let deep: unknown = "leaf";
      for (let i = 0; i < 20_000; i++) deep = [deep];
      const odd = (id: string, content: Record<string, unknown>, extra: Partial<ClientEvent> = {}): ClientEvent => ({ ...event(id, "!odd:x"), content, ...extra });
      const nul = odd("nul", { k: "a\u0000b" });
      const surrogate = odd("surrogate", { k: "a\ud800b", ["\udc00"]: 1 });
      const huge = odd("huge", { k: "x".repeat(2_000_000) });
      const longType = odd("longtype", { k: 1 }, { type: `org.x.${"y".repeat(400)}` });
      const longId = odd(`long${"i".repeat(400)}\u0000`, { k: 1 });
      const tooDeep = odd("deep", { k: deep });
      const normal = event("after-odd", "!odd:x");
      const accepted = await inbox.acceptTransaction("t-odd", [nul, surrogate, huge, longType, longId, tooDeep, normal]);
      expect(accepted).to.deep.equal({ stored: 4, deadLettered: 3 });

      const due = (await inbox.due(50)).filter((r) => r.roomId === "!odd:x");
      expect(due.map((r) => r.eventId)).to.deep.equal(["$nul", "$surrogate", "$huge", "$after-odd"]);
      expect(due[0]!.event.content).to.deep.equal({ k: "a\u0000b" });
      expect(due[1]!.event.content).to.deep.equal({ k: "a\ud800b", ["\udc00"]: 1 });
      expect((due[2]!.event.content.k as string).length).to.equal(2_000_000);

      const dead = await db("dead_letters").where("error", "like", "could not be stored%").orderBy("id");
      expect(dead).to.have.length(3);
      expect(dead.map((d) => d.event_id)).to.include("$longtype").and.include("$deep");
      for (const d of dead) expect(d.event_id.length).to.be.at.most(255);
      // A failure on one of them can still be recorded for an event read back from the inbox.
      expect(await inbox.markFailed(due[0]!, "nul \u0000 in the error", { maxAttempts: 1, retryBaseMs: 1 })).to.equal("dead");
      for (const r of due.slice(1)) await inbox.markDone(r.id);
    });

    it("keeps a dead-lettered event out when Synapse resends its transaction", async function () {
      const inbox = new InboxStore(db);
      await inbox.acceptTransaction("t-given-up", [event("given-up")]);
      const [row] = (await inbox.due(50)).filter((r) => r.eventId === "$given-up");
      expect(await inbox.markFailed(row!, "poison", { maxAttempts: 1, retryBaseMs: 1 })).to.equal("dead");
      // The 200 was lost: Synapse sends the same transaction again.
      expect(await inbox.acceptTransaction("t-given-up", [event("given-up"), event("beside-it")])).to.deep.equal({ stored: 1, deadLettered: 0 });
      expect(await db("inbox").where({ event_id: "$given-up" })).to.have.length(0);
      for (const r of (await inbox.due(50)).filter((d) => d.eventId === "$beside-it")) await inbox.markDone(r.id);
    });

    it("fails the whole transaction, for Synapse to retry, when the database fails for its own reasons", async function () {
      const inbox = new InboxStore(db);
      // A deadlock on one event's insert: the database's trouble, not the event's.
      await db.raw(`CREATE FUNCTION fail_one() RETURNS trigger AS $$ BEGIN
        IF NEW.event_id = '$unlucky' THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await db.raw("CREATE TRIGGER fail_one BEFORE INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION fail_one()");
      try {
        let failure: unknown = null;
        await inbox.acceptTransaction("t-unlucky", [event("lucky"), event("unlucky")]).catch((e: unknown) => (failure = e));
        expect((failure as { code?: string } | null)?.code).to.equal("40P01");
        expect(await db("dead_letters").whereIn("event_id", ["$lucky", "$unlucky"])).to.have.length(0);
        expect(await db("inbox").whereIn("event_id", ["$lucky", "$unlucky"])).to.have.length(0);
      } finally {
        await db.raw("DROP TRIGGER fail_one ON inbox");
        await db.raw("DROP FUNCTION fail_one()");
      }
    });

    it("retries with backoff, then dead-letters, and done events drop their payload", async function () {
      const inbox = new InboxStore(db);
      await inbox.acceptTransaction("t3", [event("p1")]);
      const [row] = (await inbox.due(10)).filter((r) => r.eventId === "$p1");
      const opts = { maxAttempts: 2, retryBaseMs: 60_000 };
      expect(await inbox.markFailed(row!, "first", opts)).to.equal("retry");
      expect((await inbox.due(10)).map((r) => r.eventId)).not.to.include("$p1"); // waiting for its retry
      expect(await inbox.markFailed({ ...row!, attempts: 1 }, "second", opts)).to.equal("dead");
      const [dead] = await db("dead_letters").where({ event_id: "$p1" });
      expect(dead).to.include({ attempts: 2, error: "second", room_id: "!r:x" });
      expect(await db("inbox").where({ event_id: "$p1" })).to.have.length(0);

      const [e1] = (await inbox.due(10)).filter((r) => r.eventId === "$e1");
      await inbox.markDone(e1!.id);
      const [done] = await db("inbox").where({ event_id: "$e1" });
      expect(done.status).to.equal("done");
      expect(typeof done.event === "string" ? JSON.parse(done.event) : done.event).to.deep.equal({});
    });

    it("lists dead letters without content and replays one back into the inbox", async function () {
      const inbox = new InboxStore(db);
      const [dead] = await inbox.listDeadLetters();
      expect(dead).to.include({ eventId: "$p1", roomId: "!r:x", type: "m.room.message", attempts: 2, error: "second" });
      expect(Object.keys(dead!)).not.to.include("event");
      expect(await inbox.replayDeadLetter("$nope")).to.equal(false);
      expect(await inbox.replayDeadLetter("$p1")).to.equal(true);
      expect(await db("dead_letters").where({ event_id: "$p1" })).to.have.length(0);
      const [row] = (await inbox.due(50)).filter((r) => r.eventId === "$p1");
      expect(row).to.include({ attempts: 0 });
      expect(row!.event.content).to.deep.equal({ body: "x" });
    });

    it("prunes handled events and old txn ids, never pending ones", async function () {
      const inbox = new InboxStore(db);
      await inbox.acceptTransaction("t-old", [event("old-done"), event("old-pending")]);
      const [done] = (await inbox.due(50)).filter((r) => r.eventId === "$old-done");
      await inbox.markDone(done!.id);
      // Nothing is old enough yet.
      expect(await inbox.prune(new Date(Date.now() - 3600_000))).to.deep.equal({ events: 0, transactions: 0 });
      const pruned = await inbox.prune(new Date(Date.now() + 1000));
      expect(pruned.events).to.be.greaterThan(0);
      expect(await db("inbox").where({ event_id: "$old-done" })).to.have.length(0);
      expect(await db("inbox").where({ event_id: "$old-pending" })).to.have.length(1);
      expect(await db("as_transactions").where({ txn_id: "t-old" })).to.have.length(0);
    });

    it("round-trips a schedule import, with dates and instants intact", async function () {
      const store = new OnCallStore(db);
      await store.importSchedule(parseScheduleFile(scheduleYaml));
      const s = (await store.loadSchedule("icu"))!;
      expect(s.timezone).to.equal("America/New_York");
      expect(s.rotations[0]).to.deep.equal({
        level: "primary",
        levelOrder: 0,
        kind: "daily",
        handoverTime: "07:00",
        startDate: "2026-03-08",
        members: ["@a:x.org", "@b:x.org"],
      });
      expect(s.overrides[0]!.startsAt.toISOString()).to.equal("2026-03-10T23:00:00.000Z");
      expect((await store.displayNames(["@a:x.org", "@z:x.org"])).get("@a:x.org")).to.equal("Dr A");
      // Re-importing replaces the service whole rather than adding to it.
      await store.importSchedule(parseScheduleFile(scheduleYaml));
      expect((await store.loadSchedule("icu"))!.overrides).to.have.length(1);
      expect(await store.listServices()).to.deep.equal([{ id: "icu", name: "ICU", timezone: "America/New_York" }]);
    });

    it("migrates v1 schedules: a rotation becomes layer 0 of its level, a shift becomes an override", async function () {
      const old = await backend.open();
      try {
        const v1 = Object.keys(migrations).filter((n) => n < "004").sort();
        const source: Knex.MigrationSource<string> = {
          getMigrations: async () => v1,
          getMigrationName: (n) => n,
          getMigration: async (n) => migrations[n]!,
        };
        await old.db.migrate.latest({ migrationSource: source, tableName: "rounds_migrations" });
        await old.db("oncall_services").insert({ id: "icu", name: "ICU", timezone: "UTC" });
        await old.db("oncall_rotations").insert({ service_id: "icu", level: "primary", level_order: 0, kind: "daily", handover_time: "07:00", start_date: "2026-01-01", members: JSON.stringify(["@a:x"]) });
        await old.db("oncall_shifts").insert({ service_id: "icu", level: "primary", user_id: "@c:x", starts_at: new Date("2026-01-02T00:00:00Z"), ends_at: new Date("2026-01-02T12:00:00Z") });
        await migrateAll(old.db);
        const s = (await new OnCallStore(old.db).loadSchedule("icu"))!;
        expect(s.rotations).to.deep.equal([{ level: "primary", levelOrder: 0, kind: "daily", handoverTime: "07:00", startDate: "2026-01-01", members: ["@a:x"] }]);
        expect(s.overrides.map((o) => [o.userId, o.startsAt.toISOString(), (o as { origin?: string }).origin])).to.deep.equal([["@c:x", "2026-01-02T00:00:00.000Z", "file"]]);
      } finally {
        await old.close();
      }
    });

    it("keeps overrides, absences and swaps with ids, and decides a swap once", async function () {
      const store = new OnCallStore(db);
      const [o1, o2] = await store.addOverrides(
        [
          { serviceId: "icu", level: "primary", userId: "@z:x", startsAt: new Date("2026-03-10T00:00:00Z"), endsAt: new Date("2026-03-10T06:00:00Z"), reason: "cover" },
          { serviceId: "icu", level: "primary", userId: "@y:x", startsAt: new Date("2026-03-11T00:00:00Z"), endsAt: new Date("2026-03-11T06:00:00Z") },
        ],
        "admin",
      );
      expect(o2).to.equal(o1! + 1);
      expect((await store.listOverrides({ serviceIds: ["icu"], from: new Date("2026-03-10T03:00:00Z"), to: new Date("2026-03-10T04:00:00Z") })).map((o) => o.id)).to.deep.equal([o1]);
      expect(await store.removeOverride(o1!)).to.equal(true);
      expect(await store.removeOverride(o1!)).to.equal(false);
      const [a1] = await store.addAbsences([{ userId: "@y:x", startsAt: new Date("2026-03-01T00:00:00Z"), endsAt: new Date("2026-03-02T00:00:00Z"), label: "leave" }], "admin");
      expect((await store.listAbsences({ userId: "@y:x" }))[0]).to.include({ id: a1, label: "leave" });
      expect(await store.removeAbsence(a1!)).to.equal(true);

      const swaps = new SwapStore(db);
      const s = await swaps.create({ serviceId: "icu", level: "primary", requester: "@a:x", counterpart: "@b:x", from: new Date("2026-03-12T07:00:00Z"), until: new Date("2026-03-13T07:00:00Z"), returnSlot: null });
      expect(s).to.include({ status: "requested", returnSlot: null });
      expect((await swaps.listOpen("@b:x")).map((x) => x.id)).to.deep.equal([s.id]);
      expect(await swaps.transition(s.id, "requested", "accepted")).to.equal(true);
      expect(await swaps.transition(s.id, "requested", "declined")).to.equal(false);
      await swaps.setOverrideIds(s.id, [o2!]);
      expect(await swaps.get(s.id)).to.include({ status: "accepted" }).and.have.deep.property("overrideIds", [o2]);
    });

    const newPage = (store: PageStore, id: string, targets = ["@l1:x"]) =>
      store.create({ id, serviceId: "cardiology", kind: "page", urgency: "urgent", requester: "@req:x", originRoomId: "!o:x", originEventId: `$origin-${id}`, step: 0, targets });

    it("numbers pages and finds one by number, by its command and by its message", async function () {
      const pages = new PageStore(db);
      const a = await newPage(pages, "P-A");
      const b = await newPage(pages, "P-B");
      expect(b.number).to.equal(a.number + 1);
      expect((await pages.byNumber(a.number))!.id).to.equal("P-A");
      expect((await pages.byOriginEvent("$origin-P-B"))!.id).to.equal("P-B");
      expect(await pages.claimNotification("P-A", 0, "@l1:x", "matrix")).to.equal(true);
      await pages.setNotification("P-A", 0, "@l1:x", "matrix", "sent", "$msg-A");
      expect((await pages.byMessage("$msg-A"))!.id).to.equal("P-A");
      expect(await pages.byMessage("$other")).to.equal(null);
    });

    it("lets exactly one of two racing acknowledgements win", async function () {
      const pages = new PageStore(db);
      await newPage(pages, "P-ACK", ["@l1:x", "@l2:x"]);
      expect(await pages.markNotified("P-ACK", new Date(Date.now() + 60_000))).to.equal(true);
      expect(await pages.markNotified("P-ACK", new Date())).to.equal(false);
      const wins = await Promise.all([
        pages.acknowledge("P-ACK", "@l1:x", "sms", new Date()),
        pages.acknowledge("P-ACK", "@l2:x", "reaction", new Date()),
      ]);
      expect(wins.filter(Boolean)).to.have.length(1);
      const p = (await pages.get("P-ACK"))!;
      expect(p.status).to.equal("acknowledged");
      expect(p.ackedBy).to.equal(wins[0] ? "@l1:x" : "@l2:x");
      expect(p.deadlineAt).to.equal(null);
    });

    it("an acknowledgement racing an escalation ends in one consistent state", async function () {
      const pages = new PageStore(db);
      await newPage(pages, "P-RACE");
      await pages.markNotified("P-RACE", new Date());
      const [advanced, acked] = await Promise.all([
        pages.advance("P-RACE", 0, { step: 1, targets: ["@l2:x"], notified: ["@l1:x", "@l2:x"], deadlineAt: new Date() }),
        pages.acknowledge("P-RACE", "@l1:x", "command", new Date()),
      ]);
      const p = (await pages.get("P-RACE"))!;
      expect(acked, "an open page can always be acknowledged").to.equal(true);
      expect(p.status).to.equal("acknowledged");
      // Whichever ran first, the escalation cannot happen after the acknowledgement, nor twice.
      expect(p.step).to.equal(advanced ? 1 : 0);
      expect(await pages.advance("P-RACE", p.step, { step: p.step + 1, targets: [], notified: [], deadlineAt: null })).to.equal(false);
      expect(await pages.markExhausted("P-RACE", p.step)).to.equal(false);
    });

    it("moves a step once: a second escalation from the same step is refused", async function () {
      const pages = new PageStore(db);
      await newPage(pages, "P-STEP");
      await pages.markNotified("P-STEP", new Date());
      const next = { step: 1, targets: ["@l2:x"], notified: ["@l1:x", "@l2:x"], deadlineAt: new Date() };
      const results = await Promise.all([pages.advance("P-STEP", 0, next), pages.advance("P-STEP", 0, next)]);
      expect(results.filter(Boolean)).to.have.length(1);
      expect((await pages.get("P-STEP"))!).to.include({ step: 1, status: "escalated" });
    });

    it("records each notification once per step, person and channel, and finds it by delivery id", async function () {
      const pages = new PageStore(db);
      await newPage(pages, "P-N");
      expect(await pages.claimNotification("P-N", 0, "@l1:x", "sms")).to.equal(true);
      expect(await pages.claimNotification("P-N", 0, "@l1:x", "sms")).to.equal(false);
      expect(await pages.claimNotification("P-N", 1, "@l1:x", "sms")).to.equal(true);
      await pages.setNotification("P-N", 0, "@l1:x", "sms", "queued", "SM123");
      expect(await pages.updateByExternalId("SM123", "delivered")).to.equal("P-N");
      expect(await pages.updateByExternalId("SM-unknown", "delivered")).to.equal(null);
      expect((await pages.notification("P-N", 0, "@l1:x", "sms"))!.status).to.equal("delivered");
      // A late "sent" callback does not undo "delivered".
      await pages.updateByExternalId("SM123", "sent");
      expect((await pages.notification("P-N", 0, "@l1:x", "sms"))!.status).to.equal("delivered");
      // A claim given back after a retryable failure can be claimed again.
      await pages.releaseNotification("P-N", 1, "@l1:x", "sms");
      expect(await pages.claimNotification("P-N", 1, "@l1:x", "sms")).to.equal(true);
    });

    it("keeps timers unique per step, claims each once, and re-arms the ones a crash interrupted", async function () {
      const timers = new TimerStore(db);
      const due = new Date(Date.now() - 1000);
      await timers.schedule("page.escalate", "T1", "0", due);
      await timers.schedule("page.escalate", "T1", "0", new Date(Date.now() + 99_000));
      await timers.schedule("page.sms", "T1", "0:@l1:x", due);
      const rows = (await timers.due(new Date(), 10)).filter((t) => t.ref === "T1");
      expect(rows.map((r) => r.kind).sort()).to.deep.equal(["page.escalate", "page.sms"]);
      expect(rows.find((r) => r.kind === "page.escalate")!.dueAt.getTime()).to.equal(due.getTime());
      const esc = rows.find((r) => r.kind === "page.escalate")!;
      const claims = await Promise.all([timers.claim(esc.id), timers.claim(esc.id)]);
      expect(claims.filter(Boolean)).to.have.length(1);
      expect(await timers.releaseRunning()).to.be.at.least(1);
      expect(await timers.claim(esc.id)).to.equal(true);
      await timers.done(esc.id);
      expect(await timers.cancelAll("page.sms", "T1")).to.equal(1);
      expect((await timers.due(new Date(), 10)).filter((t) => t.ref === "T1")).to.have.length(0);
    });

    it("keeps phone numbers and SMS rules, with defaults for what a clinician has not set", async function () {
      const contacts = new ContactStore(db, { emergent: 30, urgent: 120, routine: null });
      expect(await contacts.get("@c:x")).to.deep.equal({ userId: "@c:x", phone: null, smsAfter: { emergent: 30, urgent: 120, routine: null } });
      await contacts.set("@c:x", { phone: "+15550001234", smsAfter: { urgent: 45 } });
      await contacts.set("@c:x", { smsAfter: { routine: 600 } });
      expect(await contacts.get("@c:x")).to.deep.equal({ userId: "@c:x", phone: "+15550001234", smsAfter: { emergent: 30, urgent: 45, routine: 600 } });
      expect((await contacts.byPhone("+15550001234"))!.userId).to.equal("@c:x");
      expect(await contacts.byPhone("+15550009999")).to.equal(null);
    });

    it("gives each phone number to one clinician and validates every change, changing nothing on error", async function () {
      const contacts = new ContactService(new ContactStore(db, { emergent: 30, urgent: 120, routine: null }));
      await contacts.update("@one:x", { phone: "+15550007777" });
      const refuse = async (userId: string, change: Parameters<ContactService["update"]>[1], message: RegExp) => {
        const err = await contacts.update(userId, change).then(() => null, (e: unknown) => e);
        expect(err).to.be.instanceOf(ContactError);
        expect((err as Error).message).to.match(message);
      };
      await refuse("@two:x", { phone: "+15550007777" }, /already on file for another clinician/);
      await refuse("@two:x", { phone: "07700 900123" }, /international format/);
      await refuse("@two:x", { smsAfter: { urgent: -1 } }, /whole seconds from 0/);
      await refuse("@two:x", { smsAfter: { sometimes: 5 } }, /'sometimes' is not an urgency/);
      await refuse("not-a-user", { phone: "+15550008888" }, /not a Matrix user id/);
      expect((await contacts.get("@two:x")).phone).to.equal(null);
      expect((await contacts.update("@one:x", { phone: "+15550007777", smsAfter: { routine: 0 } })).smsAfter.routine).to.equal(0);
    });

    it("records each shift change once, and each fatigue warning once", async function () {
      const watch = new ShiftWatchStore(db);
      const t0 = new Date("2026-11-23T08:00:00Z");
      await watch.remember("icu", "primary", "@a:x", t0);
      await watch.remember("icu", "primary", "@z:x", t0);
      expect(await watch.levels("icu")).to.deep.equal([{ level: "primary", userId: "@a:x", since: t0 }]);
      const t1 = new Date("2026-11-24T08:00:00Z");
      const both = await Promise.all([watch.record("icu", "primary", "@a:x", "@b:x", t1), watch.record("icu", "primary", "@a:x", "@b:x", t1)]);
      expect(both.filter(Boolean)).to.have.length(1);
      expect(await watch.record("icu", "primary", "@b:x", null, t1)).to.equal(true);
      expect(await watch.record("icu", "primary", null, "@c:x", t1)).to.equal(true);
      expect(await watch.claimFatigueAlert("@c:x", "icu:2026-11-24", 90)).to.equal(true);
      expect(await watch.claimFatigueAlert("@c:x", "icu:2026-11-24", 90)).to.equal(false);
    });

    it("prunes the commands' effects older than the cutoff, keeping the recent ones", async function () {
      const effects = new CommandEffects(db);
      const day = 24 * 60 * 60_000;
      const now = Date.now();
      for (const [id, age] of [["$old", 40], ["$just-old", 31], ["$recent", 2]] as const) {
        await effects.record(id, `obj${id}`, "done");
        await db("command_effects").where({ request_id: id }).update({ created_at: new Date(now - age * day) });
      }
      expect(await effects.prune(new Date(now - 30 * day))).to.equal(2);
      expect(await effects.made("$old", "obj$old", "done")).to.equal(false);
      expect(await effects.made("$just-old", "obj$just-old", "done")).to.equal(false);
      expect(await effects.made("$recent", "obj$recent", "done")).to.equal(true);
      expect(await effects.prune(new Date(now - 30 * day))).to.equal(0);
    });

    it("remembers a bot's device id", async function () {
      const devices = new BotDeviceStore(db);
      expect(await devices.get("@rounds_oncall:x")).to.equal(null);
      await devices.set("@rounds_oncall:x", "DEV1");
      await devices.set("@rounds_oncall:x", "DEV2");
      expect(await devices.get("@rounds_oncall:x")).to.equal("DEV2");
    });
  });
}
