import { expect } from "chai";
import { qualityOf, type HandoffQualityRow } from "../../appservice/handoff/handoffQuality.js";

const SINCE = new Date("2026-07-01T00:00:00Z");
const MIN = 60_000;

/** A handoff started `startMin` minutes after SINCE that took `minutes` (not completed when null). */
function row(unitId: string, startMin: number, minutes: number | null, over: Partial<HandoffQualityRow> = {}): HandoffQualityRow {
  const createdAt = new Date(SINCE.getTime() + startMin * MIN);
  const done = minutes !== null;
  return {
    unitId,
    createdAt,
    completedAt: done ? new Date(createdAt.getTime() + minutes * MIN) : null,
    status: done ? "completed" : "presenting",
    patients: done ? 1 : null,
    readBack: done ? 1 : null,
    questions: done ? 0 : null,
    overridden: false,
    overdue: false,
    ...over,
  };
}

// 4west: five completed handoffs of 10, 20, 30, 40 and 100 minutes, one still open, one cancelled.
const WEST: HandoffQualityRow[] = [
  row("4west", 0, 30, { patients: 4, readBack: 4, questions: 2 }),
  row("4west", 60, 10, { patients: 3, readBack: 3, questions: 1 }),
  row("4west", 120, 100, { patients: 0, readBack: 0, questions: 4, overridden: true, overdue: true }),
  row("4west", 180, 20, { patients: 2, readBack: 1, questions: 0, overridden: true }),
  row("4west", 240, 40, { patients: 1, readBack: 1, questions: 3 }),
  row("4west", 300, null),
  row("4west", 360, null, { status: "cancelled", overridden: true, overdue: true }),
];
const EAST: HandoffQualityRow[] = [row("3east", 30, 15, { patients: 2, readBack: 2, questions: 0 })];

describe("handoff quality", function () {
  it("computes duration p50 and p90 over completed handoffs, interpolated as the consult response times", function () {
    const west = qualityOf(WEST, SINCE).units.find((u) => u.unit === "4west")!;
    // 600, 1200, 1800, 2400, 6000 s: p50 is the middle one; p90 sits at rank 3.6, 2400 + 0.6 × 3600.
    expect(west.handoffs).to.equal(5);
    expect(west.duration_p50_s).to.equal(1800);
    expect(west.duration_p90_s).to.equal(4560);
    const east = qualityOf(EAST, SINCE).units[0]!;
    expect([east.duration_p50_s, east.duration_p90_s]).to.deep.equal([900, 900]);
  });

  it("gives the read-back share over all patients handed over, null when none were", function () {
    const west = qualityOf(WEST, SINCE).units[0]!;
    // Read back 4 + 3 + 0 + 1 + 1 = 9 of 4 + 3 + 0 + 2 + 1 = 10 patients.
    expect(west.read_back_share).to.equal(0.9);
    const empty = qualityOf([row("icu", 0, 5, { patients: 0, readBack: 0 })], SINCE).units[0]!;
    expect(empty.read_back_share).to.equal(null);
  });

  it("gives the mean number of questions per completed handoff", function () {
    // 2 + 1 + 4 + 0 + 3 = 10 questions over 5 handoffs.
    expect(qualityOf(WEST, SINCE).units[0]!.questions_per_handoff).to.equal(2);
    expect(qualityOf(EAST, SINCE).units[0]!.questions_per_handoff).to.equal(0);
  });

  it("counts overridden and overdue completed handoffs, not cancelled ones", function () {
    const west = qualityOf(WEST, SINCE).units[0]!;
    expect(west.overrides).to.equal(2);
    expect(west.overdue).to.equal(1);
  });

  it("lists units sorted by id, echoes since and keeps one unit when asked", function () {
    const rows = [...WEST, ...EAST, row("icu", 0, null, { status: "cancelled" })];
    const all = qualityOf(rows, SINCE);
    expect(all.since).to.equal("2026-07-01T00:00:00.000Z");
    expect(all.units.map((u) => u.unit)).to.deep.equal(["3east", "4west", "icu"]);
    expect(all.units[2]).to.deep.equal({
      unit: "icu",
      handoffs: 0,
      duration_p50_s: null,
      duration_p90_s: null,
      read_back_share: null,
      questions_per_handoff: null,
      overrides: 0,
      overdue: 0,
    });
    const east = qualityOf(rows, SINCE, "3east");
    expect(east.units).to.deep.equal([
      { unit: "3east", handoffs: 1, duration_p50_s: 900, duration_p90_s: 900, read_back_share: 1, questions_per_handoff: 0, overrides: 0, overdue: 0 },
    ]);
    expect(qualityOf(rows, SINCE, "5north").units).to.deep.equal([]);
  });

  it("leaves out handoffs started before since", function () {
    const west = qualityOf([...WEST, row("4west", -60, 500, { overridden: true })], SINCE).units[0]!;
    expect(west.handoffs).to.equal(5);
    expect(west.overrides).to.equal(2);
  });

  it("answers an empty input with no units", function () {
    expect(qualityOf([], SINCE)).to.deep.equal({ since: SINCE.toISOString(), units: [] });
    expect(qualityOf([], SINCE, "4west")).to.deep.equal({ since: SINCE.toISOString(), units: [] });
  });
});
