import { expect } from "chai";
import ICAL from "ical.js";
import { detectConflicts, newConflicts } from "../../appservice/oncall/conflicts.js";
import { CsvImportError, parseAbsencesCsv, parseOverridesCsv } from "../../appservice/oncall/csvImport.js";
import { fairnessReport } from "../../appservice/oncall/fairness.js";
import { calendarFor } from "../../appservice/oncall/icalExport.js";
import { resolveOnCall, timeline, type Absence, type Rotation, type ServiceSchedule } from "../../appservice/oncall/schedule.js";
import { parseScheduleFile, ScheduleFileError } from "../../appservice/oncall/scheduleFile.js";

const at = (iso: string) => new Date(iso);
const H = 3600_000;

const weekdays: Rotation = {
  level: "primary",
  levelOrder: 0,
  kind: "daily",
  handoverTime: "08:00",
  startDate: "2026-01-05", // a Monday
  members: ["@a:x", "@b:x"],
};
const weekend: Rotation = { ...weekdays, weekdays: ["sat", "sun"], members: ["@w1:x", "@w2:x"] };
const backup: Rotation = { ...weekdays, level: "backup", levelOrder: 1, kind: "weekly", members: ["@bk:x"] };

function svc(over: Partial<ServiceSchedule> = {}): ServiceSchedule {
  return { id: "cardiology", name: "Cardiology", timezone: "Europe/London", rotations: [weekdays, weekend, backup], overrides: [], ...over };
}
const who = (s: ServiceSchedule, iso: string, absences: Absence[] = []) =>
  Object.fromEntries(resolveOnCall(s, at(iso), absences).map((l) => [l.level, l.userId]));

describe("schedule layers, custom rotations and absences", function () {
  it("lets a later layer win where it is active, and counts its members over its own shifts", function () {
    // Fri 9 Jan: the weekday layer (day 4: @a). Sat 10 and Sun 11: weekend layer @w1 then @w2.
    expect(who(svc(), "2026-01-09T12:00:00Z").primary).to.equal("@a:x");
    expect(who(svc(), "2026-01-10T12:00:00Z").primary).to.equal("@w1:x");
    expect(who(svc(), "2026-01-11T12:00:00Z").primary).to.equal("@w2:x");
    // The Sunday shift runs to Monday 08:00; then the weekday layer is back.
    expect(who(svc(), "2026-01-12T07:59:00Z").primary).to.equal("@w2:x");
    expect(who(svc(), "2026-01-12T08:00:00Z").primary).to.equal("@b:x"); // day 7 of the daily layer
    // Next weekend starts again with @w1.
    expect(who(svc(), "2026-01-17T12:00:00Z").primary).to.equal("@w1:x");
  });

  it("hands a custom rotation over at each time of day, to the next member each time", function () {
    const twelve: Rotation = { ...weekdays, kind: "custom", handoverTime: "08:00", handoverTimes: ["08:00", "20:00"], members: ["@d:x", "@n:x", "@m:x"] };
    const s = svc({ rotations: [twelve] });
    expect(who(s, "2026-01-05T12:00:00Z").primary).to.equal("@d:x");
    expect(who(s, "2026-01-05T21:00:00Z").primary).to.equal("@n:x");
    expect(who(s, "2026-01-06T09:00:00Z").primary).to.equal("@m:x");
    expect(who(s, "2026-01-06T20:00:00Z").primary).to.equal("@d:x");
    const l = resolveOnCall(s, at("2026-01-05T21:00:00Z"))[0]!;
    expect([l.from.toISOString(), l.until.toISOString()]).to.deep.equal(["2026-01-05T20:00:00.000Z", "2026-01-06T08:00:00.000Z"]);
  });

  it("keeps custom hand-overs at local wall-clock time across both DST changes (Europe/London)", function () {
    const twelve: Rotation = { ...weekdays, kind: "custom", startDate: "2026-03-27", handoverTimes: ["08:00", "20:00"], members: ["@d:x", "@n:x"] };
    const spring = timeline(svc({ rotations: [twelve] }), [], at("2026-03-28T20:00:00Z"), at("2026-03-29T19:00:00Z"));
    // Sat 20:00 GMT -> Sun 08:00 BST is 11 hours; then 08:00 BST -> 20:00 BST.
    expect(spring.map((i) => [i.userId, i.from.toISOString(), i.until.toISOString()])).to.deep.equal([
      ["@n:x", "2026-03-28T20:00:00.000Z", "2026-03-29T07:00:00.000Z"],
      ["@d:x", "2026-03-29T07:00:00.000Z", "2026-03-29T19:00:00.000Z"],
    ]);
    const autumn: Rotation = { ...twelve, startDate: "2026-10-23" };
    const night = resolveOnCall(svc({ rotations: [autumn] }), at("2026-10-25T03:00:00Z"))[0]!;
    expect(night.until.getTime() - night.from.getTime()).to.equal(13 * H); // 20:00 BST -> 08:00 GMT
    expect(night.until.toISOString()).to.equal("2026-10-25T08:00:00.000Z");
  });

  it("lets an override beat every layer, and an absence fall through to the layer below", function () {
    const s = svc({ overrides: [{ level: "primary", userId: "@cover:x", startsAt: at("2026-01-10T10:00:00Z"), endsAt: at("2026-01-10T14:00:00Z") }] });
    expect(who(s, "2026-01-10T12:00:00Z").primary).to.equal("@cover:x");
    expect(resolveOnCall(s, at("2026-01-10T12:00:00Z"))[0]).to.include({ source: "override" });
    // @w1 is away on Saturday afternoon: the weekday layer's member for that day (@b) covers.
    const away: Absence[] = [{ userId: "@w1:x", startsAt: at("2026-01-10T15:00:00Z"), endsAt: at("2026-01-10T18:00:00Z") }];
    expect(who(s, "2026-01-10T16:00:00Z", away).primary).to.equal("@b:x");
    const l = resolveOnCall(s, at("2026-01-10T16:00:00Z"), away)[0]!;
    expect([l.from.toISOString(), l.until.toISOString()]).to.deep.equal(["2026-01-10T15:00:00.000Z", "2026-01-10T18:00:00.000Z"]);
    // Nobody below backup: its member away means a gap (the level is left out).
    expect(who(s, "2026-01-10T16:00:00Z", [{ userId: "@bk:x", startsAt: at("2026-01-10T00:00:00Z"), endsAt: at("2026-01-11T00:00:00Z") }])).not.to.have.property("backup");
  });

  it("builds a piecewise timeline from hand-overs, override and absence edges", function () {
    const s = svc({
      rotations: [weekdays],
      overrides: [{ level: "primary", userId: "@cover:x", startsAt: at("2026-01-06T10:00:00Z"), endsAt: at("2026-01-06T12:00:00Z") }],
    });
    const away: Absence[] = [{ userId: "@b:x", startsAt: at("2026-01-06T14:00:00Z"), endsAt: at("2026-01-06T16:00:00Z") }];
    const t = timeline(s, away, at("2026-01-06T08:00:00Z"), at("2026-01-07T12:00:00Z"));
    expect(t.map((i) => [i.userId, i.source, i.from.toISOString().slice(11, 16), i.until.toISOString().slice(0, 16)])).to.deep.equal([
      ["@b:x", "rotation", "08:00", "2026-01-06T10:00"],
      ["@cover:x", "override", "10:00", "2026-01-06T12:00"],
      ["@b:x", "rotation", "12:00", "2026-01-06T14:00"],
      [null, null, "14:00", "2026-01-06T16:00"],
      ["@b:x", "rotation", "16:00", "2026-01-07T08:00"],
      ["@a:x", "rotation", "08:00", "2026-01-07T12:00"],
    ]);
  });
});

describe("schedule conflicts", function () {
  const from = at("2026-01-05T08:00:00Z");
  const to = at("2026-01-12T08:00:00Z");
  const base = svc({ rotations: [weekdays, backup] });

  it("reports a gap with the service, level and local times", function () {
    const away: Absence[] = [{ userId: "@bk:x", startsAt: at("2026-07-06T07:00:00Z"), endsAt: at("2026-07-06T09:00:00Z") }];
    const c = detectConflicts([base], away, at("2026-07-06T00:00:00Z"), at("2026-07-07T00:00:00Z"));
    expect(c).to.have.length(1);
    expect(c[0]).to.include({ kind: "gap", serviceId: "cardiology", level: "backup", userId: null });
    expect(c[0]!.message).to.equal("Gap: nobody covers Cardiology backup from Mon 6 Jul 2026 08:00 to Mon 6 Jul 2026 10:00 (Europe/London).");
  });

  it("reports double-booking across services and across levels of one service", function () {
    const icu: ServiceSchedule = { id: "icu", name: "ICU", timezone: "Europe/London", rotations: [{ ...weekdays, members: ["@a:x"] }], overrides: [] };
    const c = detectConflicts([base, icu], [], from, to).filter((x) => x.kind === "double-booking");
    expect(c.length).to.be.greaterThan(0);
    expect(c[0]).to.include({ userId: "@a:x", serviceId: "cardiology", level: "primary" });
    expect(c[0]!.other).to.deep.include({ serviceId: "icu", level: "primary" });
    expect(c[0]!.message).to.contain("Double-booked: @a:x is on Cardiology primary and ICU primary at once from Mon 5 Jan 2026 08:00");

    const twoLevels = svc({ rotations: [weekdays, { ...backup, members: ["@a:x"] }] });
    const same = detectConflicts([twoLevels], [], from, at("2026-01-06T08:00:00Z"));
    expect(same.map((x) => [x.kind, x.level, x.other?.level])).to.deep.equal([["double-booking", "primary", "backup"]]);
  });

  it("reports overlapping overrides on one level and an override for someone away", function () {
    const s = svc({
      rotations: [weekdays, backup],
      overrides: [
        { level: "primary", userId: "@c1:x", startsAt: at("2026-01-06T10:00:00Z"), endsAt: at("2026-01-06T14:00:00Z") },
        { level: "primary", userId: "@c2:x", startsAt: at("2026-01-06T12:00:00Z"), endsAt: at("2026-01-06T16:00:00Z") },
      ],
    });
    const away: Absence[] = [{ userId: "@c1:x", startsAt: at("2026-01-06T00:00:00Z"), endsAt: at("2026-01-06T11:00:00Z") }];
    const c = detectConflicts([s], away, from, to);
    const overlap = c.find((x) => x.kind === "overlapping-overrides")!;
    expect([overlap.from.toISOString(), overlap.until.toISOString()]).to.deep.equal(["2026-01-06T12:00:00.000Z", "2026-01-06T14:00:00.000Z"]);
    const absent = c.find((x) => x.kind === "absent")!;
    expect(absent).to.include({ userId: "@c1:x", level: "primary" });
    expect([absent.from.toISOString(), absent.until.toISOString()]).to.deep.equal(["2026-01-06T10:00:00.000Z", "2026-01-06T11:00:00.000Z"]);
    // The override still applies while its holder is away.
    expect(who(s, "2026-01-06T10:30:00Z", away).primary).to.equal("@c1:x");
  });

  it("tells the conflicts a change introduces from those already there", function () {
    const before = detectConflicts([base], [{ userId: "@bk:x", startsAt: at("2026-01-06T00:00:00Z"), endsAt: at("2026-01-07T00:00:00Z") }], from, to);
    const after = detectConflicts(
      [base],
      [
        { userId: "@bk:x", startsAt: at("2026-01-06T00:00:00Z"), endsAt: at("2026-01-07T00:00:00Z") },
        { userId: "@a:x", startsAt: at("2026-01-05T09:00:00Z"), endsAt: at("2026-01-05T10:00:00Z") },
      ],
      from,
      to,
    );
    expect(newConflicts(before, after).map((c) => [c.kind, c.level])).to.deep.equal([["gap", "primary"]]);
  });
});

describe("fairness report", function () {
  it("counts total, night, weekend and holiday hours in the service's time zone", function () {
    // One person all week from Mon 08:00: 7 x 24 h; nights 22-07 = 9 h a night, 7 nights;
    // weekend Sat+Sun 48 h; Christmas Day as the holiday (a Friday in 2026).
    const s = svc({ rotations: [{ ...weekdays, kind: "weekly", startDate: "2026-12-21", members: ["@solo:x"] }] });
    const [row] = fairnessReport([s], [], ["2026-12-25"], at("2026-12-21T08:00:00Z"), at("2026-12-28T08:00:00Z"));
    expect(row).to.deep.equal({ userId: "@solo:x", hours: 168, nightHours: 63, weekendHours: 48, holidayHours: 24, shifts: 1 });
  });

  it("counts a 23-hour DST day as 23 hours", function () {
    const s = svc({ rotations: [{ ...weekdays, startDate: "2026-03-28", members: ["@x:x", "@y:x"] }] });
    const rows = fairnessReport([s], [], [], at("2026-03-28T08:00:00Z"), at("2026-03-30T07:00:00Z"));
    expect(rows.find((r) => r.userId === "@x:x")).to.include({ hours: 23, weekendHours: 23, shifts: 1 });
    // Sun 08:00 BST -> Mon 08:00 BST: 24 h, of which Sunday 16 h; nights 22-07 local = 9 h.
    expect(rows.find((r) => r.userId === "@y:x")).to.include({ hours: 24, weekendHours: 16, nightHours: 9 });
  });
});

describe("CSV imports", function () {
  const services = [{ id: "cardiology", name: "Cardiology", timezone: "Europe/London", levels: ["primary", "backup"] }];

  it("reads overrides with times local to the service", function () {
    const rows = parseOverridesCsv(
      "service,level,user,start,end,reason\ncardiology,primary,@a:x.org,2026-03-29 08:00,2026-03-29T20:00,cover\nCardiology,backup,@b:x.org,2026-01-05T08:00,2026-01-05T20:00,\n",
      services,
    );
    expect(rows[0]).to.deep.include({ serviceId: "cardiology", level: "primary", userId: "@a:x.org", reason: "cover" });
    expect(rows[0]!.startsAt.toISOString()).to.equal("2026-03-29T07:00:00.000Z");
    expect(rows[1]!.reason).to.equal(null);
  });

  it("names every bad row by its line number and imports nothing", function () {
    const csv = [
      "service,level,user,start,end",
      "cardiology,primary,@a:x.org,2026-01-05T08:00,2026-01-05T20:00",
      "neuro,primary,@a:x.org,2026-01-05T08:00,2026-01-05T20:00",
      "",
      "cardiology,nights,alice,tomorrow,2026-01-05T20:00",
      "cardiology,primary,@a:x.org,2026-01-05T20:00,2026-01-05T08:00",
      "cardiology,primary,@a:x.org,2026-03-29T01:30,2026-03-29T08:00",
    ].join("\n");
    let err: CsvImportError | null = null;
    try {
      parseOverridesCsv(csv, services);
    } catch (e) {
      err = e as CsvImportError;
    }
    expect(err).to.be.instanceOf(CsvImportError);
    expect(err!.problems).to.deep.equal([
      "line 3: unknown service 'neuro' (known: cardiology)",
      "line 5: 'nights' is not a level of cardiology (primary, backup)",
      "line 5: user 'alice' must be a Matrix user id such as @alice:example.org",
      "line 5: start 'tomorrow' must be a date-time such as 2026-03-29T08:00 or 2026-03-29 08:00 (local time), or ISO 8601 with an offset",
      "line 6: end must be after start",
      // 01:30 does not exist in London that morning.
      "line 7: start '2026-03-29T01:30' must be a date-time such as 2026-03-29T08:00 or 2026-03-29 08:00 (local time), or ISO 8601 with an offset",
    ]);
  });

  it("refuses a wrong header, and reads absences as whole days with an inclusive end date", function () {
    expect(() => parseOverridesCsv("who,when\n@a:x.org,2026-01-01\n", services)).to.throw(CsvImportError, "line 1: the header must be service,level,user,start,end,reason");
    const [a] = parseAbsencesCsv("user,start,end,label\n@a:x.org,2026-12-01,2026-12-07,leave\n", "Europe/London");
    expect([a!.startsAt.toISOString(), a!.endsAt.toISOString(), a!.label]).to.deep.equal(["2026-12-01T00:00:00.000Z", "2026-12-08T00:00:00.000Z", "leave"]);
    expect(() => parseAbsencesCsv(`user,start,end,label\n@a:x.org,2026-12-01,2026-12-07,${"x".repeat(61)}\n`, "UTC")).to.throw(CsvImportError, "line 2: label is too long");
  });
});

describe("iCalendar export", function () {
  it("parses back to the timeline, one event per contiguous assignment, across a DST change", function () {
    const s = svc({ rotations: [{ ...weekdays, startDate: "2026-10-23", members: ["@a:x", "@b:x"] }] });
    const t = timeline(s, [], at("2026-10-23T07:00:00Z"), at("2026-10-27T08:00:00Z"));
    const text = calendarFor(
      "On call: Cardiology",
      t.map((i) => ({ serviceId: s.id, serviceName: s.name, level: i.level, userId: i.userId!, from: i.from, until: i.until })),
    );
    const events = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
    expect(events.map((e) => [e.summary, e.startDate.toJSDate().toISOString(), e.endDate.toJSDate().toISOString()])).to.deep.equal(
      t.map((i) => ["On call: Cardiology (primary)", i.from.toISOString(), i.until.toISOString()]),
    );
    // Sat 24 Oct 08:00 BST -> Sun 25 Oct 08:00 GMT is 25 hours.
    const long = events.find((e) => e.startDate.toJSDate().toISOString() === "2026-10-24T07:00:00.000Z")!;
    expect(long.endDate.toJSDate().getTime() - long.startDate.toJSDate().getTime()).to.equal(25 * H);
  });
});

describe("schedule file v2", function () {
  const file = (extra: string) => `
holidays: ["2026-12-25"]
coordinators: "@boss:x.org"
chains: { seniors: ["@s1:x.org", "@s2:x.org"] }
absences:
  - { user: "@a:x.org", start: "2026-12-01", end: "2026-12-07", label: leave }
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    coordinator: ["@coord:x.org"]
    levels:
      - level: primary
        layers:
          - { kind: daily, handover: "08:00", start: "2026-01-05", members: ["@a:x.org", "@b:x.org"] }
          - { kind: custom, handovers: ["08:00", "20:00"], start: "2026-01-10", members: ["@c:x.org"], weekdays: [sat, sun] }
      - level: backup
        rotation: { kind: weekly, handover: "08:00", start: "2026-01-05", members: ["@d:x.org"] }
    overrides:
      - { level: primary, user: "@e:x.org", start: "2026-12-24T18:00", end: "2026-12-26T08:00", reason: "holiday cover" }
${extra}`;

  it("parses layers, escalation, coordinators, holidays and absences", function () {
    const s = parseScheduleFile(
      file(`    escalation:
      steps: [{ level: primary }, { level: backup }, { chain: seniors }, { user: "@lead:x.org" }]
      loops: 1
      fallback: { user: "@switch:x.org" }
      delays: { emergent: 60 }`),
    );
    const c = s.services[0]!;
    expect(c.rotations.map((r) => [r.level, r.kind, r.handoverTimes ?? null, r.weekdays ?? null])).to.deep.equal([
      ["primary", "daily", null, null],
      ["primary", "custom", ["08:00", "20:00"], ["sat", "sun"]],
      ["backup", "weekly", null, null],
    ]);
    expect(c.escalation).to.deep.equal({
      steps: [
        { kind: "level", level: "primary" },
        { kind: "level", level: "backup" },
        { kind: "chain", name: "seniors", members: ["@s1:x.org", "@s2:x.org"] },
        { kind: "user", userId: "@lead:x.org" },
      ],
      loops: 1,
      fallback: { kind: "user", userId: "@switch:x.org" },
      delaysSeconds: { emergent: 60 },
    });
    expect(c.coordinators).to.deep.equal(["@coord:x.org"]);
    expect(s.coordinators).to.deep.equal(["@boss:x.org"]);
    expect(s.holidays).to.deep.equal(["2026-12-25"]);
    expect(s.absences[0]!.endsAt.toISOString()).to.equal("2026-12-08T00:00:00.000Z");
    expect(c.overrides[0]).to.include({ reason: "holiday cover", userId: "@e:x.org" });
  });

  it("names unknown escalation levels and chains, and malformed layers", function () {
    let problems: string[] = [];
    try {
      parseScheduleFile(
        file(`    escalation:
      steps: [{ level: attending }, { chain: juniors }]
      fallback: { level: nights }`).replace('{ kind: daily, handover: "08:00"', "{ kind: daily"),
      );
    } catch (e) {
      problems = (e as ScheduleFileError).problems;
    }
    expect(problems).to.include.members([
      "services.0.escalation.steps.0.level: 'attending' is not a level of cardiology (primary, backup)",
      "services.0.escalation.steps.1.chain: 'juniors' is not defined under chains: (defined: seniors)",
      "services.0.escalation.fallback.level: 'nights' is not a level of cardiology (primary, backup)",
      'services.0.levels.0.layers.0.handover: a daily rotation needs a hand-over time, e.g. "08:00"',
    ]);
  });
});

describe("example schedule file", function () {
  it("parses, and imports without conflicts over the coming months", async function () {
    const { readFileSync } = await import("node:fs");
    const data = parseScheduleFile(readFileSync(new URL("../../appservice/oncall/example-schedule.yaml", import.meta.url), "utf8"));
    expect(data.services.map((s) => s.id)).to.deep.equal(["cardiology", "icu"]);
    expect(detectConflicts(data.services, data.absences, at("2026-11-01T00:00:00Z"), at("2027-03-01T00:00:00Z"))).to.deep.equal([]);
  });
});
