import { expect } from "chai";
import { resolveOnCall, resolveRotation, type Rotation, type ServiceSchedule } from "../../appservice/oncall/schedule.js";

const weekly: Rotation = {
  level: "primary",
  levelOrder: 0,
  kind: "weekly",
  handoverTime: "08:00",
  startDate: "2026-01-05", // a Monday
  members: ["@a:x", "@b:x", "@c:x"],
};
const backup: Rotation = { ...weekly, level: "backup", levelOrder: 1, kind: "daily", members: ["@d:x", "@e:x"] };

function schedule(over: Partial<ServiceSchedule> = {}): ServiceSchedule {
  return { id: "cardiology", name: "Cardiology", timezone: "Europe/London", rotations: [weekly, backup], overrides: [], ...over };
}
const at = (iso: string) => new Date(iso);

describe("on-call schedule resolution", function () {
  it("resolves who is on call now, for every level in order", function () {
    // Wed 2026-01-07 12:00 London = GMT: week 0 of the weekly rotation, day 2 of the daily one.
    const levels = resolveOnCall(schedule(), at("2026-01-07T12:00:00Z"));
    expect(levels.map((l) => [l.level, l.userId])).to.deep.equal([
      ["primary", "@a:x"],
      ["backup", "@d:x"],
    ]);
    expect(levels[0]!.from.toISOString()).to.equal("2026-01-05T08:00:00.000Z");
    expect(levels[0]!.until.toISOString()).to.equal("2026-01-12T08:00:00.000Z");
  });

  it("hands over exactly at the hand-over time: the incoming clinician owns the boundary", function () {
    expect(resolveRotation(weekly, "Europe/London", at("2026-01-12T07:59:59Z"))!.userId).to.equal("@a:x");
    expect(resolveRotation(weekly, "Europe/London", at("2026-01-12T08:00:00Z"))!.userId).to.equal("@b:x");
    // The rotation wraps around its members.
    expect(resolveRotation(weekly, "Europe/London", at("2026-01-26T08:00:00Z"))!.userId).to.equal("@a:x");
  });

  it("returns nobody before the rotation starts", function () {
    expect(resolveRotation(weekly, "Europe/London", at("2026-01-05T07:59:00Z"))).to.equal(null);
    expect(resolveOnCall(schedule({ rotations: [weekly] }), at("2026-01-01T00:00:00Z"))).to.deep.equal([]);
  });

  it("lets an explicit shift cover a slot of the rotation, and the backup stays", function () {
    const s = schedule({
      overrides: [{ level: "primary", userId: "@cover:x", startsAt: at("2026-01-07T18:00:00Z"), endsAt: at("2026-01-08T08:00:00Z") }],
    });
    const during = resolveOnCall(s, at("2026-01-07T20:00:00Z"));
    expect(during[0]).to.include({ level: "primary", userId: "@cover:x", source: "override" });
    expect(during[1]).to.include({ level: "backup", userId: "@d:x", source: "rotation" });
    expect(resolveOnCall(s, at("2026-01-08T08:00:00Z"))[0]!.userId).to.equal("@a:x");
  });

  it("keeps the local hand-over time across the spring-forward DST change (a 23-hour shift)", function () {
    // Europe/London springs forward on Sun 2026-03-29 at 01:00 GMT.
    const daily: Rotation = { ...backup, level: "primary", startDate: "2026-03-27", members: ["@x:x", "@y:x"] };
    const sat = resolveRotation(daily, "Europe/London", at("2026-03-28T12:00:00Z"))!;
    expect(sat.userId).to.equal("@y:x");
    expect(sat.from.toISOString()).to.equal("2026-03-28T08:00:00.000Z"); // 08:00 GMT
    expect(sat.until.toISOString()).to.equal("2026-03-29T07:00:00.000Z"); // 08:00 BST
    expect(sat.until.getTime() - sat.from.getTime()).to.equal(23 * 3600_000);
    expect(resolveRotation(daily, "Europe/London", at("2026-03-29T06:59:59Z"))!.userId).to.equal("@y:x");
    expect(resolveRotation(daily, "Europe/London", at("2026-03-29T07:00:00Z"))!.userId).to.equal("@x:x");
  });

  it("keeps the local hand-over time across the fall-back DST change (a 25-hour shift)", function () {
    // Europe/London falls back on Sun 2026-10-25 at 01:00 GMT.
    const daily: Rotation = { ...backup, level: "primary", startDate: "2026-10-24", members: ["@x:x", "@y:x"] };
    const sat = resolveRotation(daily, "Europe/London", at("2026-10-24T12:00:00Z"))!;
    expect(sat.userId).to.equal("@x:x");
    expect(sat.from.toISOString()).to.equal("2026-10-24T07:00:00.000Z"); // 08:00 BST
    expect(sat.until.toISOString()).to.equal("2026-10-25T08:00:00.000Z"); // 08:00 GMT
    expect(sat.until.getTime() - sat.from.getTime()).to.equal(25 * 3600_000);
    expect(resolveRotation(daily, "Europe/London", at("2026-10-25T07:59:59Z"))!.userId).to.equal("@x:x");
    expect(resolveRotation(daily, "Europe/London", at("2026-10-25T08:00:00Z"))!.userId).to.equal("@y:x");
  });

  it("resolves in the service's own time zone, not the server's", function () {
    const ny: Rotation = { ...backup, level: "primary", startDate: "2026-01-05", members: ["@p:x", "@q:x"] };
    // 08:00 in New York on 2026-01-06 is 13:00 UTC.
    expect(resolveRotation(ny, "America/New_York", at("2026-01-06T12:59:00Z"))!.userId).to.equal("@p:x");
    expect(resolveRotation(ny, "America/New_York", at("2026-01-06T13:00:00Z"))!.userId).to.equal("@q:x");
  });

  it("moves a hand-over that falls in the spring-forward gap to the first valid instant", function () {
    const gap: Rotation = { ...backup, level: "primary", handoverTime: "01:30", startDate: "2026-03-28", members: ["@x:x", "@y:x"] };
    const r = resolveRotation(gap, "Europe/London", at("2026-03-29T00:45:00Z"))!; // 00:45 GMT, before the gap
    expect(r.userId).to.equal("@x:x");
    expect(r.until.toISOString()).to.equal("2026-03-29T01:30:00.000Z"); // 02:30 BST
  });
});
