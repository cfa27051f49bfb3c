import { expect } from "chai";
import ICAL from "ical.js";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { ScheduleConflictError, ScheduleNotFoundError, ScheduleRuleError } from "../../appservice/oncall/scheduleErrors.js";
import { SwapService } from "../../appservice/oncall/swapService.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { NOW, RecordingNotifier, SCHEDULE } from "./scheduleFixtures.js";
import { migrateAll } from "../harness/migrateAll.js";

const at = (iso: string) => new Date(iso);

describe("on-call service over the database (PGlite)", function () {
  let db: Db;
  let oncall: OnCallService;
  let swaps: SwapService;
  let notes: RecordingNotifier;

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    oncall = new OnCallService(new OnCallStore(db), { now: () => NOW, conflictWindowDays: 7 });
    notes = new RecordingNotifier();
    swaps = new SwapService(oncall, new SwapStore(db), notes, { now: () => NOW });
  });
  after(() => db.destroy());

  it("refuses an import with conflicts, listing them, and saves it when forced", async function () {
    const clash = SCHEDULE.replace('members: ["@d:x.org", "@e:x.org"]', 'members: ["@a:x.org", "@e:x.org"]');
    let err: ScheduleConflictError | null = null;
    await oncall.importSchedule(clash).catch((e) => (err = e));
    expect(err).to.be.instanceOf(ScheduleConflictError);
    expect(err!.conflicts.every((c) => c.kind === "double-booking" && c.userId === "@a:x.org")).to.equal(true);
    expect(err!.conflicts[0]!.message).to.contain("Double-booked: @a:x.org is on Cardiology primary and ICU primary at once from Mon 5 Jan 2026 09:00");
    expect(await oncall.listServices()).to.deep.equal([]); // nothing saved
    expect((await oncall.checkSchedule(clash)).conflicts.length).to.equal(err!.conflicts.length);

    const forced = await oncall.importSchedule(clash, { force: true });
    expect(forced.warnings.length).to.be.greaterThan(0);
    const clean = await oncall.importSchedule(SCHEDULE);
    expect(clean).to.deep.equal({ services: ["cardiology", "icu"], clinicians: 2, warnings: [] });
  });

  it("answers who is on call, my shifts, hours and the per-service timeline", async function () {
    const now = await oncall.whoIsOnCall("cardiology", NOW);
    expect(now.levels.map((l) => [l.level, l.userId, l.source, l.displayName])).to.deep.equal([
      ["primary", "@a:x.org", "rotation", "Dr A"],
      ["backup", "@c:x.org", "rotation", "@c:x.org"],
    ]);
    const mine = await oncall.shiftsFor("@a:x.org", NOW, at("2026-01-09T08:00:00Z"));
    expect(mine.map((s) => [s.serviceName, s.level, s.from.toISOString(), s.until.toISOString()])).to.deep.equal([
      ["Cardiology", "primary", "2026-01-05T09:00:00.000Z", "2026-01-06T08:00:00.000Z"],
      ["Cardiology", "primary", "2026-01-07T08:00:00.000Z", "2026-01-08T08:00:00.000Z"],
    ]);
    expect(await oncall.onCallHours("@a:x.org", at("2026-01-05T08:00:00Z"), at("2026-01-09T08:00:00Z"))).to.equal(48);
    const t = await oncall.timeline("cardiology", at("2026-01-05T08:00:00Z"), at("2026-01-06T12:00:00Z"));
    expect(t.map((i) => [i.level, i.userId])).to.deep.equal([
      ["primary", "@a:x.org"],
      ["primary", "@b:x.org"],
      ["backup", "@c:x.org"],
    ]);
  });

  it("returns the escalation policy from the file, a default one, and the coordinators", async function () {
    expect(await oncall.escalationPolicy("cardiology")).to.deep.equal({
      steps: [
        { kind: "level", level: "primary" },
        { kind: "chain", name: "seniors", members: ["@s1:x.org", "@s2:x.org"] },
      ],
      loops: 0,
      fallback: { kind: "user", userId: "@switch:x.org" },
      delaysSeconds: { urgent: 120 },
    });
    expect(await oncall.escalationPolicy("icu")).to.deep.equal({ steps: [{ kind: "level", level: "primary" }], loops: 0, fallback: null, delaysSeconds: {} });
    expect(await oncall.coordinators("cardiology")).to.deep.equal(["@coord:x.org", "@chief:x.org"]);
    expect(await oncall.coordinators("icu")).to.deep.equal(["@chief:x.org"]);
  });

  it("adds and removes overrides, refusing one that double-books unless forced", async function () {
    const cover = { serviceId: "cardiology", level: "primary", userId: "@z:x.org", startsAt: at("2026-01-05T12:00:00Z"), endsAt: at("2026-01-05T18:00:00Z"), reason: "clinic" };
    const { id, warnings } = await oncall.addOverride(cover);
    expect(warnings).to.deep.equal([]);
    expect((await oncall.whoIsOnCall("cardiology", at("2026-01-05T13:00:00Z"))).levels[0]).to.include({ userId: "@z:x.org", source: "override" });
    const listed = await oncall.listOverrides({ serviceId: "cardiology" });
    expect(listed.map((o) => [o.id, o.reason, o.origin])).to.deep.equal([[id, "clinic", "admin"]]);

    const clash = { ...cover, serviceId: "icu", userId: "@c:x.org" }; // @c is cardiology backup all week
    let err: ScheduleConflictError | null = null;
    await oncall.addOverride(clash).catch((e) => (err = e));
    expect(err).to.be.instanceOf(ScheduleConflictError);
    expect(err!.conflicts.map((c) => c.kind)).to.deep.equal(["double-booking"]);
    const forced = await oncall.addOverride(clash, { force: true });
    expect(forced.warnings).to.have.length(1);
    await oncall.removeOverride(forced.id);
    await oncall.removeOverride(id);
    await oncall.removeOverride(id).then(
      () => expect.fail("removed twice"),
      (e) => expect(e).to.be.instanceOf(ScheduleNotFoundError),
    );
    await oncall.addOverride({ ...cover, level: "nights" }).then(
      () => expect.fail("unknown level accepted"),
      (e) => expect((e as Error).message).to.equal("'nights' is not a level of Cardiology; its levels are primary, backup."),
    );
  });

  it("imports overrides from CSV all or nothing", async function () {
    let problems: string[] = [];
    await oncall
      .importOverridesCsv("service,level,user,start,end\ncardiology,primary,@z:x.org,2026-01-08T08:00,2026-01-08T12:00\nicu,nope,@z:x.org,x,y\n")
      .catch((e) => (problems = e.problems));
    expect(problems[0]).to.match(/^line 3: 'nope' is not a level of icu/);
    expect(await oncall.listOverrides()).to.deep.equal([]);
    const r = await oncall.importOverridesCsv("service,level,user,start,end,reason\ncardiology,primary,@z:x.org,2026-01-08T08:00,2026-01-08T12:00,teaching\n");
    expect(r.ids).to.have.length(1);
    await oncall.removeOverride(r.ids[0]!);
  });

  it("adds absences: the layer falls through, and a resulting gap is refused unless forced", async function () {
    // @c is the only backup: an absence leaves a gap.
    const away = { userId: "@c:x.org", startsAt: at("2026-01-06T00:00:00Z"), endsAt: at("2026-01-07T00:00:00Z"), label: "leave" };
    let err: ScheduleConflictError | null = null;
    await oncall.addAbsence(away).catch((e) => (err = e));
    expect(err!.conflicts.map((c) => [c.kind, c.level])).to.deep.equal([["gap", "backup"]]);
    const { id } = await oncall.addAbsence(away, { force: true });
    expect((await oncall.whoIsOnCall("cardiology", at("2026-01-06T12:00:00Z"))).levels.map((l) => l.level)).to.deep.equal(["primary"]);
    expect((await oncall.conflicts({ days: 7 })).map((c) => c.kind)).to.deep.equal(["gap"]);
    await oncall.removeAbsence(id);
    const csv = await oncall.importAbsencesCsv("user,start,end,label\n@q:x.org,2026-02-01,2026-02-03,course\n");
    expect((await oncall.listAbsences({ userId: "@q:x.org" }))[0]).to.include({ id: csv.ids[0], label: "course" });
  });

  it("reports fairness over a period, with the file's holidays", async function () {
    const rows = await oncall.fairness(at("2026-01-05T08:00:00Z"), at("2026-01-07T08:00:00Z"));
    expect(rows.find((r) => r.userId === "@b:x.org")).to.deep.equal({ userId: "@b:x.org", hours: 24, nightHours: 9, weekendHours: 0, holidayHours: 16, shifts: 1 });
    expect(rows.find((r) => r.userId === "@c:x.org")).to.include({ hours: 48, shifts: 1 });
  });

  it("exports a clinician's and a service's calendar that parse back to the timeline", async function () {
    const from = at("2026-01-05T08:00:00Z");
    const to = at("2026-01-09T08:00:00Z");
    const parse = (text: string) =>
      new ICAL.Component(ICAL.parse(text))
        .getAllSubcomponents("vevent")
        .map((v) => new ICAL.Event(v))
        .map((e) => [e.summary, e.startDate.toJSDate().toISOString(), e.endDate.toJSDate().toISOString()]);
    const mine = (await oncall.shiftsFor("@b:x.org", from, to)).map((s) => ["On call: Cardiology (primary)", s.from.toISOString(), s.until.toISOString()]);
    expect(parse(await oncall.icalForUser("@b:x.org", from, to))).to.deep.equal(mine);
    const svc = parse(await oncall.icalForService("cardiology", from, to));
    expect(svc).to.have.length(5); // four primary days, one backup week
  });

  describe("swaps", function () {
    const mon = at("2026-01-05T08:00:00Z");
    const tue = at("2026-01-06T08:00:00Z");
    const wed = at("2026-01-07T08:00:00Z");
    const thu = at("2026-01-08T08:00:00Z");

    it("refuses a swap of a slot the requester does not hold, saying what they hold", async function () {
      const err = await swaps.request("@a:x.org", "@b:x.org", "cardiology", "primary", mon, wed).catch((e) => e);
      expect(err).to.be.instanceOf(ScheduleRuleError);
      expect(err.message).to.contain("You are not on call for Cardiology primary for the whole of from Mon 5 Jan 2026 08:00 to Wed 7 Jan 2026 08:00");
      expect(err.message).to.contain("You hold primary from Mon 5 Jan 2026 08:00 to Tue 6 Jan 2026 08:00");
      expect((await swaps.request("@a:x.org", "@a:x.org", "cardiology", undefined, mon, tue).catch((e) => e)).message).to.contain("yourself");
    });

    it("lets only the counterpart accept, once; accepting writes an override and tells everyone", async function () {
      const s = await swaps.request("@a:x.org", "@z:x.org", "cardiology", undefined, mon, tue);
      expect(s).to.include({ level: "primary", status: "requested" });
      expect(notes.to("@z:x.org")[0]).to.contain(`@a:x.org asks you to cover Cardiology primary`).and.contain(`!swap accept ${s.id}`);
      expect((await swaps.listOpen("@z:x.org")).map((x) => x.id)).to.deep.equal([s.id]);

      expect((await swaps.accept(s.id, "@b:x.org").catch((e) => e)).message).to.equal(`Only @z:x.org, who was asked to cover, can accept swap ${s.id}.`);
      const done = await swaps.accept(s.id, "@z:x.org");
      expect(done.overrideIds).to.have.length(1);
      expect((await oncall.whoIsOnCall("cardiology", at("2026-01-05T12:00:00Z"))).levels[0]).to.include({ userId: "@z:x.org", source: "override" });
      expect(notes.to("@a:x.org").at(-1)).to.contain(`Swap ${s.id} accepted`);
      expect(notes.to("@coord:x.org").at(-1)).to.contain(`Swap ${s.id} accepted`);
      expect(notes.to("@chief:x.org").at(-1)).to.contain(`Swap ${s.id} accepted`);
      expect((await swaps.accept(s.id, "@z:x.org").catch((e) => e)).message).to.equal(`Swap ${s.id} is already accepted.`);
      expect((await swaps.decline(s.id, "@z:x.org").catch((e) => e)).message).to.equal(`Swap ${s.id} is already accepted.`);
      await oncall.removeOverride(done.overrideIds[0]!);
    });

    it("trades: each takes the other's slot", async function () {
      const s = await swaps.request("@b:x.org", "@a:x.org", "cardiology", "primary", tue, wed, { returnFrom: wed, returnTo: thu });
      expect(s.returnSlot).to.deep.equal({ level: "primary", from: wed, until: thu });
      const done = await swaps.accept(s.id, "@a:x.org");
      expect(done.overrideIds).to.have.length(2);
      expect((await oncall.whoIsOnCall("cardiology", at("2026-01-06T12:00:00Z"))).levels[0]!.userId).to.equal("@a:x.org");
      expect((await oncall.whoIsOnCall("cardiology", at("2026-01-07T12:00:00Z"))).levels[0]!.userId).to.equal("@b:x.org");
      for (const id of done.overrideIds) await oncall.removeOverride(id);
    });

    it("declines with a reason, cancels, and a decided request cannot be decided again", async function () {
      const s = await swaps.request("@a:x.org", "@z:x.org", "cardiology", "primary", mon, tue);
      const d = await swaps.decline(s.id, "@z:x.org", "on nights that week");
      expect(d).to.include({ status: "declined", declineReason: "on nights that week" });
      expect(notes.to("@a:x.org").at(-1)).to.contain(`Swap ${s.id} declined`).and.contain("on nights that week");
      expect(notes.to("@coord:x.org").at(-1)).to.contain(`Swap ${s.id} declined`);
      expect((await swaps.cancel(s.id, "@a:x.org").catch((e) => e)).message).to.contain("already declined");

      const c = await swaps.request("@a:x.org", "@z:x.org", "cardiology", "primary", mon, tue);
      expect((await swaps.cancel(c.id, "@z:x.org").catch((e) => e)).message).to.contain("Only @a:x.org");
      await swaps.cancel(c.id, "@a:x.org");
      expect(notes.to("@z:x.org").at(-1)).to.contain(`Swap ${c.id} was cancelled`);
      expect(await swaps.listOpen("@a:x.org")).to.deep.equal([]);
    });

    it("refuses an acceptance that would double-book the counterpart, and keeps the request open", async function () {
      // @c is cardiology backup all week: covering primary too is a double-booking.
      const s = await swaps.request("@a:x.org", "@c:x.org", "cardiology", "primary", mon, tue);
      const err = await swaps.accept(s.id, "@c:x.org").catch((e) => e);
      expect(err).to.be.instanceOf(ScheduleConflictError);
      expect((await swaps.get(s.id))!.status).to.equal("requested");
      await swaps.cancel(s.id, "@a:x.org");
    });

    it("lets exactly one of two racing acceptances through", async function () {
      const s = await swaps.request("@a:x.org", "@z:x.org", "cardiology", "primary", mon, tue);
      const results = await Promise.allSettled([swaps.accept(s.id, "@z:x.org"), swaps.accept(s.id, "@z:x.org")]);
      expect(results.filter((r) => r.status === "fulfilled")).to.have.length(1);
      const overrides = (await oncall.listOverrides()).filter((o) => o.origin === "swap");
      expect(overrides).to.have.length(1);
      await oncall.removeOverride(overrides[0]!.id);
    });
  });
});
