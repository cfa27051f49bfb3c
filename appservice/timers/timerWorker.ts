import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics.js";
import type { TimerRow, TimerStore } from "./timerStore.js";

export type TimerHandler = (timer: TimerRow) => Promise<void>;

const MAX_ATTEMPTS = 6;

/**
 * Fires due timers. It sleeps until the earliest deadline (re-read whenever a timer is
 * scheduled) with a poll as a safety net, so a timer fires within milliseconds of its deadline
 * and an overdue one fires as soon as the process is back. Handlers must be idempotent: a crash
 * after the work and before `done` runs them again.
 */
export class TimerWorker {
  private readonly handlers = new Map<string, TimerHandler>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: TimerStore,
    private readonly opts: { pollMs: number },
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  on(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  async start(): Promise<void> {
    const released = await this.store.releaseRunning();
    if (released) this.log.warn({ released }, "timers: re-armed timers interrupted by a crash");
    this.running = true;
    this.wake();
  }

  /** Called after scheduling, so a near deadline is not missed while sleeping on a later one. */
  wake(): void {
    if (!this.running) return;
    this.again = true;
    if (!this.loop) this.loop = this.run().finally(() => (this.loop = null));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (this.running && this.again) {
      this.again = false;
      try {
        for (const t of await this.store.due(new Date(), 100)) {
          if (!(await this.store.claim(t.id))) continue;
          const p = this.fire(t).finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
        }
      } catch (err) {
        this.log.error({ err }, "timers: could not read due timers; retrying at the next poll");
      }
    }
    if (!this.running) return;
    let wait = this.opts.pollMs;
    try {
      const next = await this.store.nextDueAt();
      if (next) wait = Math.max(0, Math.min(wait, next.getTime() - Date.now()));
    } catch {
      // the poll retries
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), wait);
  }

  private async fire(t: TimerRow): Promise<void> {
    const handler = this.handlers.get(t.kind);
    this.metrics.timerLateness.observe({ kind: t.kind }, Math.max(0, Date.now() - t.dueAt.getTime()) / 1000);
    if (!handler) {
      this.log.error({ kind: t.kind, timer: t.id }, "timers: no handler for this kind");
      return this.store.fail(t.id, `no handler for ${t.kind}`);
    }
    try {
      await handler(t);
      await this.store.done(t.id);
      this.metrics.timersFired.inc({ kind: t.kind, outcome: "done" });
    } catch (err) {
      const attempts = t.attempts + 1;
      const message = (err as Error).message ?? String(err);
      if (attempts >= MAX_ATTEMPTS) {
        this.log.error({ kind: t.kind, timer: t.id, ref: t.ref, err: message }, "timers: handler kept failing; giving up");
        this.metrics.timersFired.inc({ kind: t.kind, outcome: "failed" });
        return this.store.fail(t.id, message);
      }
      const retryIn = 500 * 2 ** (attempts - 1);
      this.log.warn({ kind: t.kind, timer: t.id, ref: t.ref, attempts, retryIn, err: message }, "timers: handler failed; will retry");
      this.metrics.timersFired.inc({ kind: t.kind, outcome: "retry" });
      await this.store.retryLater(t.id, attempts, new Date(Date.now() + retryIn), message);
    } finally {
      this.wake();
    }
  }
}
