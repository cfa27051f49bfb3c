import { expect } from "chai";
import { isQuiet, quietEnd } from "../../appservice/alert/quietHours.js";

describe("quiet hours", function () {
  const night = { from: "22:00", to: "07:00", zone: "Europe/London" };

  it("holds across midnight, in the window's own zone, from inclusive and to exclusive", function () {
    expect(isQuiet(night, new Date("2026-12-03T21:59:00Z"))).to.equal(false);
    expect(isQuiet(night, new Date("2026-12-03T22:00:00Z"))).to.equal(true);
    expect(isQuiet(night, new Date("2026-12-04T06:59:00Z"))).to.equal(true);
    expect(isQuiet(night, new Date("2026-12-04T07:00:00Z"))).to.equal(false);
    // In summer London is UTC+1: 22:00 local is 21:00 UTC.
    expect(isQuiet(night, new Date("2026-07-01T21:30:00Z"))).to.equal(true);
    expect(isQuiet({ from: "12:00", to: "13:00", zone: "UTC" }, new Date("2026-12-03T12:30:00Z"))).to.equal(true);
    expect(isQuiet({ from: "12:00", to: "12:00", zone: "UTC" }, new Date("2026-12-03T12:00:00Z"))).to.equal(false);
  });

  it("ends at the next 'to' in its zone, across a DST change", function () {
    expect(quietEnd(night, new Date("2026-12-03T23:00:00Z")).toISOString()).to.equal("2026-12-04T07:00:00.000Z");
    expect(quietEnd(night, new Date("2026-12-04T03:00:00Z")).toISOString()).to.equal("2026-12-04T07:00:00.000Z");
    // The night the clocks go back in London (25 October 2026): 07:00 local is 07:00 UTC again.
    expect(quietEnd(night, new Date("2026-10-24T23:30:00Z")).toISOString()).to.equal("2026-10-25T07:00:00.000Z");
    const noon = new Date("2026-12-03T12:00:00Z");
    expect(quietEnd(night, noon)).to.equal(noon);
  });
});
