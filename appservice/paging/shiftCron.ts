import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "../logging.js";
import type { ShiftChangeService } from "./shiftChange.js";

/** The cron adapter: ticks the shift-change check; a slow tick is skipped, never stacked. */
export function startShiftCron(expression: string, shifts: ShiftChangeService, log: Logger): ScheduledTask {
  return cron.schedule(
    expression,
    async () => {
      try {
        const { changes } = await shifts.check(new Date());
        log.debug({ changes }, "shift change check done");
      } catch (err) {
        log.error({ err: (err as Error).message }, "shift change check failed; retrying at the next tick");
      }
    },
    { name: "shift-change", noOverlap: true },
  );
}
