import cron, { type ScheduledTask } from "node-cron";
import type { HandoffService } from "./handoffService.js";
import type { Logger } from "../logging.js";

/**
 * The cron adapter for scheduled handoffs: each tick asks the handoff service to act on shift
 * changes that passed and were not handled yet, so a restart or a missed tick catches up.
 */
export function startHandoffCron(expression: string, handoffs: HandoffService, log: Logger): ScheduledTask {
  const tick = async () => {
    try {
      const started = await handoffs.checkShiftChanges(new Date());
      if (started.length) log.info({ shiftChanges: started.map((s) => ({ unit: s.unit, at: s.shiftAt.toISOString(), outcome: s.outcome })) }, "handoff: shift changes handled");
    } catch (err) {
      log.error({ err: (err as Error).message }, "handoff: shift change check failed; retrying at the next tick");
    }
  };
  // Once at start-up too: a shift change that passed while Rounds was down is not left waiting for the first tick.
  void tick();
  return cron.schedule(expression, tick, { name: "handoff-shift-change", noOverlap: true });
}
