import type { Logger } from "../logging.js";
import type { AlertIntake } from "./alertIntake.js";
import type { AlertService } from "./alertService.js";

/**
 * Runs the intake whenever a message is recorded (woken by the listeners), and on a poll for
 * what a crash left behind: recorded messages not yet processed, alerts not yet delivered.
 */
export function startIntakeRunner(opts: { intake: AlertIntake; alerts: AlertService; pollMs: number; log: Logger }): { wake(): void; stop(): Promise<void> } {
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let again = false;
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, opts.pollMs);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });
  const loop = (async () => {
    let sinceRedelivery = Number.POSITIVE_INFINITY;
    while (!stopped) {
      again = false;
      try {
        const effects = await opts.intake.processPending();
        if (effects.length) await opts.alerts.deliver(effects);
        // Undelivered alerts (nobody was on call, Matrix was down) are tried again every 30 s.
        if (Date.now() - sinceRedelivery > 30_000 || sinceRedelivery === Number.POSITIVE_INFINITY) {
          sinceRedelivery = Date.now();
          await opts.alerts.redeliver();
        }
      } catch (err) {
        opts.log.error({ err: err instanceof Error ? err.message : String(err) }, "alert intake pass failed; retrying");
      }
      if (!stopped && !again) await sleep();
    }
  })();
  return {
    wake() {
      again = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
