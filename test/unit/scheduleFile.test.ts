import { expect } from "chai";
import { parseScheduleFile, ScheduleFileError } from "../../appservice/oncall/scheduleFile.js";

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
});
