import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics.js";
import type { TimerRow, TimerStore } from "./timerStore.js";

export type TimerHandler = (timer: TimerRow) => Promise<void>;

const MAX_BACKOFF_MS = 30_000;
const LOUD_AFTER_ATTEMPTS = 6;
const PRUNE_EVERY_MS = 3600_000;
const KEEP_FIRED_MS = 7 * 24 * 3600_000;

/**
 * Fires due timers. It sleeps until the earliest deadline (re-read whenever a timer is
 * scheduled) with a poll as a safety net, so a timer fires within milliseconds of its deadline
 * and an overdue one fires as soon as the process is back. Handlers must be idempotent: a crash
 * after the work and before `done` runs them again.
 */
export class TimerWorker {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly priorities = new Map<string, number>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private lastPrune = 0;

  constructor(
    private readonly store: TimerStore,
    private readonly opts: { pollMs: number },
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * `priority`: among timers due together (a backlog after a restart), higher goes first, so an
   * overdue escalation is not queued behind the same page's SMS bookkeeping.
   */
  on(kind: string, handler: TimerHandler, opts: { priority?: number } = {}): void {
    this.handlers.set(kind, handler);
    this.priorities.set(kind, opts.priority ?? 0);
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
    while (this.running) {
      this.again = false;
      try {
        const due = (await this.store.due(new Date(), 100)).sort((a, b) => (this.priorities.get(b.kind) ?? 0) - (this.priorities.get(a.kind) ?? 0));
        for (const t of due) {
          if (!(await this.store.claim(t.id))) continue;
          const p = this.fire(t)
            .catch((err: unknown) => this.log.error({ err, timer: t.id, kind: t.kind }, "timers: could not record a timer's outcome; it is re-armed at the next start"))
            .finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
        }
        await this.housekeeping();
      } catch (err) {
        this.log.error({ err }, "timers: could not read due timers; retrying at the next poll");
      }
      let wait = this.opts.pollMs;
      try {
        const next = await this.store.nextDueAt();
        if (next) wait = Math.max(0, Math.min(wait, next.getTime() - Date.now()));
      } catch {
        // the poll retries
      }
      // A timer scheduled while we looked (wake() during the awaits) may be due sooner: look again.
      if (this.again || wait === 0) continue;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.wake(), wait);
      return;
    }
  }

  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const pruned = await this.store.prune(new Date(Date.now() - KEEP_FIRED_MS));
    if (pruned) this.log.info({ pruned }, "timers: pruned old fired and cancelled timers");
    this.metrics.timersPending.set(await this.store.pendingCount());
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
      // A timer never gives up: an escalation must happen even after a long outage of the
      // homeserver or the SMS provider. Backoff is capped, and persistent failure is loud.
      const attempts = t.attempts + 1;
      const message = (err as Error).message ?? String(err);
      const retryIn = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (attempts - 1));
      const level = attempts >= LOUD_AFTER_ATTEMPTS ? "error" : "warn";
      this.log[level]({ kind: t.kind, timer: t.id, ref: t.ref, attempts, retryIn, err: message }, "timers: handler failed; will retry");
      this.metrics.timersFired.inc({ kind: t.kind, outcome: "retry" });
      await this.store.retryLater(t.id, attempts, new Date(Date.now() + retryIn), message);
    } finally {
      this.wake();
    }
  }
}
