import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { parseScheduleFile, ScheduleFileError } from "../../appservice/oncall/scheduleFile.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { editDistance, nearestWord, unknownKeys } from "../../appservice/shared/unknownKeys.js";
import { HandoffUnitSchema } from "../../appservice/handoff/handoffUnitSchema.js";

const good = `
clinicians: [{ user: "@a:x.org", name: "Dr A" }]
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: weekly, handover: "08:00", start: "2026-01-05", members: ["@a:x.org"] }
    shifts:
      - { level: primary, user: "@a:x.org", start: "2026-03-29T00:00", end: "2026-03-29T12:00" }
`;

function problems(text: string): string[] {
  try {
    parseScheduleFile(text);
  } catch (e) {
    if (e instanceof ScheduleFileError) return e.problems;
    throw e;
  }
  throw new Error("expected the file to be refused");
}

describe("schedule file", function () {
  it("parses a valid file, with shift times local to the service", function () {
    const s = parseScheduleFile(good);
    expect(s.clinicians).to.deep.equal([{ userId: "@a:x.org", displayName: "Dr A" }]);
    const svc = s.services[0]!;
    expect(svc.rotations[0]).to.include({ level: "primary", kind: "weekly", handoverTime: "08:00", levelOrder: 0 });
    // 12:00 on the DST day in London is 11:00 UTC (BST).
    expect(svc.overrides[0]!.endsAt.toISOString()).to.equal("2026-03-29T11:00:00.000Z");
  });

  it("names every problem with its path", function () {
    const p = problems(`
services:
  - id: Cardiology!
    name: Cardiology
    timezone: Mars/Olympus
    levels:
      - level: primary
        rotation: { kind: fortnightly, handover: "25:00", start: "2026-01-05", members: [] }
`);
    expect(p).to.include.members([
      "services.0.id: must be a short slug such as cardiology or icu-north",
      "services.0.timezone: must be an IANA time zone such as Europe/London",
      "services.0.levels.0.rotation.kind: must be daily, weekly or custom",
      "services.0.levels.0.rotation.handover: must be a time HH:MM, e.g. 08:00",
      "services.0.levels.0.rotation.members: needs at least one member",
    ]);
  });

  it("refuses shifts that end before they start or name an unknown level", function () {
    const bad = good.replace('end: "2026-03-29T12:00"', 'end: "2026-03-28T12:00"').replace("{ level: primary, user", "{ level: nights, user");
    const p = problems(bad);
    expect(p.some((x) => x.includes("shifts.0.level: 'nights' is not a level of cardiology"))).to.equal(true);
    expect(p.some((x) => x.includes("shifts.0.end: must be after start"))).to.equal(true);
  });

  it("refuses YAML that does not parse, and duplicate service ids", function () {
    expect(problems("services: [")[0]).to.match(/^not valid YAML/);
    const service = good.slice(good.indexOf("  - id: cardiology"));
    expect(problems(`${good}${service}`).some((x) => x.includes("'cardiology' is defined twice"))).to.equal(true);
  });

  it("refuses unknown keys at every level, naming the key, its path and the nearest known key", function () {
    expect(problems(`holidayz: ["2026-12-25"]\n${good}`)).to.deep.equal(["unknown key 'holidayz' at top level; did you mean 'holidays'?"]);
    const overides = good.replace("    shifts:", "    overides:");
    expect(problems(overides)).to.deep.equal(["unknown key 'overides' at services.0; did you mean 'overrides'?"]);
    const weekday = good.replace('members: ["@a:x.org"] }', 'members: ["@a:x.org"], weekday: [sat] }');
    expect(problems(weekday)).to.deep.equal(["unknown key 'weekday' at services.0.levels.0.rotation; did you mean 'weekdays'?"]);
    const escalation = `${good}    escalation:\n      steps: [{ levle: primary }]\n      delays: { emergnt: 60 }\n`;
    expect(problems(escalation)).to.include.members([
      "unknown key 'levle' at services.0.escalation.steps.0; did you mean 'level'?",
      "unknown key 'emergnt' at services.0.escalation.delays; did you mean 'emergent'?",
    ]);
    const far = problems(good.replace("clinicians:", "xyzzy: 1\nclinicians:"));
    expect(far[0]).to.match(/^unknown key 'xyzzy' at top level; known keys here: timezone, holidays, /);
    expect(problems(good.replace('name: "Dr A"', 'name: "Dr A", phone: "+4470"'))).to.deep.equal([
      "unknown key 'phone' at clinicians.0; known keys here: user, name",
    ]);
  });

  it("loads the example schedule and the example unit, which use every kind of key", function () {
    const schedule = readFileSync(join(repoRoot, "appservice", "oncall", "example-schedule.yaml"), "utf8");
    expect(parseScheduleFile(schedule).services.length).to.be.greaterThan(1);
    const unit = parse(readFileSync(join(repoRoot, "appservice", "handoff", "example-unit.yaml"), "utf8")) as unknown;
    expect(unknownKeys(HandoffUnitSchema, unit)).to.deep.equal([]);
    expect(HandoffUnitSchema.safeParse(unit).success).to.equal(true);
  });

  it("finds unknown keys in a unit file, nested ones too", function () {
    const unit = { id: "4west", name: "4 West", shift_time: ["07:30"], charge: { user: ["@c:x.org"] }, roster: { service: "icu", levle: "primary" } };
    expect(unknownKeys(HandoffUnitSchema, unit)).to.deep.equal([
      "unknown key 'shift_time' at top level; did you mean 'shift_times'?",
      "unknown key 'user' at charge; did you mean 'users'?",
      "unknown key 'levle' at roster; did you mean 'level'?",
    ]);
  });

  it("measures edit distance, and suggests only plausible typos", function () {
    expect(editDistance("overides", "overrides")).to.equal(1);
    expect(editDistance("", "abc")).to.equal(3);
    expect(editDistance("kitten", "sitting")).to.equal(3);
    expect(nearestWord("weekday", ["handover", "weekdays", "members"])).to.equal("weekdays");
    expect(nearestWord("banana", ["level", "user", "chain"])).to.equal(undefined);
  });
});
