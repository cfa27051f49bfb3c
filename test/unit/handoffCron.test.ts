import { expect } from "chai";
import pino from "pino";
import type { HandoffService } from "../../appservice/handoff/handoffService.js";
import { startHandoffCron } from "../../appservice/handoff/handoffCron.js";
import { waitUntil } from "../harness/waitUntil.js";

describe("handoff shift-change cron", function () {
  it("checks the units' shift changes at start-up and then on every tick, and survives a failing check", async function () {
    const calls: Date[] = [];
    const fake = {
      async checkShiftChanges(at: Date) {
        calls.push(at);
        if (calls.length === 2) throw new Error("database briefly unavailable");
        return [];
      },
    } as unknown as HandoffService;
    // Six fields: every second, so the test sees ticks without waiting a minute.
    const task = startHandoffCron("* * * * * *", fake, pino({ level: "silent" }));
    try {
      expect(calls, "the start-up check runs at once").to.have.length(1);
      await waitUntil(async () => calls.length >= 3, "two more ticks, one of them failing", 10_000);
    } finally {
      await task.stop();
    }
  });
});
