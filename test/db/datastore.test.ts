import { expect } from "chai";
import { migrate, openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { InboxStore } from "../../appservice/inbox/inboxStore.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { parseScheduleFile } from "../../appservice/oncall/scheduleFile.js";
import type { ClientEvent } from "../../appservice/shared/events.js";
import { BotDeviceStore } from "../../bots/botDeviceStore.js";
import knexFactory, { type Knex } from "knex";
import { migrations } from "../../appservice/db/migrations/index.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { createThrowawayDatabase } from "../harness/postgres.js";

/** One contract suite, run against every backend Rounds supports. */
const backends: { name: string; open(): Promise<{ db: Db; close(): Promise<void> }> }[] = [
  {
    name: "PGlite (embedded default)",
    async open() {
      const db = openMemoryDatabase();
      return { db, close: () => db.destroy() };
    },
  },
  {
    name: "Postgres (127.0.0.1:5432, throwaway database)",
    async open() {
      const pg = await createThrowawayDatabase();
      const db = knexFactory({ client: "pg", connection: pg.url });
      return {
        db,
        async close() {
          await db.destroy();
          await pg.drop();
        },
      };
    },
  },
];

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
      await migrate(db);
    });
    after(async () => close?.());

    it("runs the numbered migrations once", async function () {
      expect(await migrate(db)).to.deep.equal([]);
      const names = (await db("rounds_migrations").orderBy("id")).map((r) => r.name);
      expect(names.slice(0, 4)).to.deep.equal(["001_appservice_inbox", "002_oncall_schedule", "003_bot_devices", "004_schedule_layers"]);
    });

    it("stores a transaction once and ignores a repeated txn id", async function () {
      const inbox = new InboxStore(db);
      expect(await inbox.acceptTransaction("t1", [event("e1"), event("e2")])).to.equal(true);
      expect(await inbox.acceptTransaction("t1", [event("e1"), event("e2"), event("e3")])).to.equal(false);
      // The same event under a new txn id is kept once.
      expect(await inbox.acceptTransaction("t2", [event("e1")])).to.equal(true);
      const due = await inbox.due(10);
      expect(due.map((r) => r.eventId)).to.deep.equal(["$e1", "$e2"]);
      expect(due[0]!.event.content).to.deep.equal({ body: "x" });
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
      expect(await store.listServices()).to.deep.equal([{ id: "icu", name: "ICU" }]);
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
        await migrate(old.db);
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

    it("remembers a bot's device id", async function () {
      const devices = new BotDeviceStore(db);
      expect(await devices.get("@rounds_oncall:x")).to.equal(null);
      await devices.set("@rounds_oncall:x", "DEV1");
      await devices.set("@rounds_oncall:x", "DEV2");
      expect(await devices.get("@rounds_oncall:x")).to.equal("DEV2");
    });
  });
}
