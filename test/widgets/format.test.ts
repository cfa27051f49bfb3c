import { expect } from "chai";
import { splitMinutes } from "../../widgets/lib/DurationField.js";
import { formatDuration, formatMinutes, formatTime } from "../../widgets/lib/format.js";

describe("durations and times in words", function () {
  it("says durations in words, days spelt out", function () {
    expect(formatMinutes(45)).to.equal("45 min");
    expect(formatMinutes(240)).to.equal("4 h");
    expect(formatMinutes(90)).to.equal("1 h 30 min");
    expect(formatMinutes(2880)).to.equal("2 days");
    expect(formatDuration(25 * 3600 * 2)).to.equal("2 days 2 h");
    expect(formatMinutes(60 * 24 * 3)).to.equal("3 days");
  });

  it("enters a duration in its largest whole unit", function () {
    expect(splitMinutes(240)).to.deep.equal({ amount: "4", unit: "hours" });
    expect(splitMinutes(2880)).to.deep.equal({ amount: "2", unit: "days" });
    expect(splitMinutes(45)).to.deep.equal({ amount: "45", unit: "minutes" });
    expect(splitMinutes(90)).to.deep.equal({ amount: "90", unit: "minutes" });
  });

  it("shows times in the unit's zone across the change to summer time, with the zone named", function () {
    // Europe/London goes from GMT to BST at 01:00 UTC on 29 March 2026.
    const before = Date.UTC(2026, 2, 29, 0, 30);
    const after = Date.UTC(2026, 2, 29, 1, 30);
    expect(formatTime(before, before, "Europe/London", "en-GB")).to.match(/^00:30 (GMT|UTC)$/);
    expect(formatTime(after, after, "Europe/London", "en-GB")).to.equal("02:30 BST");
    // The same instant on a New York unit's page, seen at noon the next day there: the date is shown.
    expect(formatTime(after, Date.UTC(2026, 2, 29, 16), "America/New_York", "en-GB")).to.equal("28 Mar 21:30 GMT-4");
  });
});
