import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics.js";
import type { ClientEvent } from "../shared/events/index.js";
import type { InboxRow, InboxStore } from "./inboxStore.js";

const PRUNE_EVERY_MS = 3600_000;
const KEEP_HANDLED_MS = 7 * 24 * 3600_000;

/** What the inbox hands each stored event to (the bots, through dispatchTo). */
export type InboxHandler = (event: ClientEvent) => Promise<void>;

/**
 * Drains the inbox. Each room has its own lane: a room's events are handled in order, rooms run
 * in parallel, and a slow or failing event holds up only its own room, and only for one attempt.
 * A failed event waits for its retry in the database, not in this loop, so the events behind it
 * go ahead.
 */
export class InboxWorker {
  private running = false;
  private wakeRequested = false;
  private timer: NodeJS.Timeout | null = null;
  private fetching: Promise<void> | null = null;
  private readonly inFlight = new Set<string>();
  private readonly lanes = new Map<string, Promise<void>>();
  private lastPrune = 0;
  private lastGauge = 0;

  constructor(
    private readonly store: InboxStore,
    private readonly handle: InboxHandler,
    private readonly opts: { maxAttempts: number; retryBaseMs: number; pollMs: number },
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  start(): void {
    this.running = true;
    this.wake();
  }

  /** Called after a transaction commits, so new events are handled at once rather than at the next poll. */
  wake(): void {
    if (!this.running) return;
    this.wakeRequested = true;
    if (!this.fetching) this.fetching = this.fetchDue().finally(() => (this.fetching = null));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.fetching;
    await Promise.all(this.lanes.values());
  }

  private async fetchDue(): Promise<void> {
    while (this.running && this.wakeRequested) {
      this.wakeRequested = false;
      try {
        const rows = (await this.store.due(200)).filter((r) => !this.inFlight.has(r.id));
        if (rows.length > 0) this.log.debug({ events: rows.length }, "inbox: handling due events");
        for (const row of rows) this.enqueue(row);
        await this.housekeeping();
      } catch (err) {
        this.log.error({ err }, "inbox: could not read the inbox; retrying at the next poll");
      }
    }
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
  }

  /** Gauge and pruning run on the poll's rhythm, not once per transaction on the hot path. */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastGauge >= this.opts.pollMs) {
      this.lastGauge = Date.now();
      this.metrics.inboxPending.set(await this.store.pendingCount());
    }
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const pruned = await this.store.prune(new Date(Date.now() - KEEP_HANDLED_MS));
    if (pruned.events || pruned.transactions) this.log.info(pruned, "inbox: pruned handled events and old txn ids");
  }

  private enqueue(row: InboxRow): void {
    this.inFlight.add(row.id);
    const lane = (this.lanes.get(row.roomId) ?? Promise.resolve())
      .then(() => this.processOne(row))
      .finally(() => {
        this.inFlight.delete(row.id);
        if (this.lanes.get(row.roomId) === lane) this.lanes.delete(row.roomId);
      });
    this.lanes.set(row.roomId, lane);
  }

  private async processOne(row: InboxRow): Promise<void> {
    try {
      await this.handle(row.event);
      await this.store.markDone(row.id);
      this.metrics.inboxProcessed.inc({ outcome: "done" });
      this.log.debug({ eventId: row.eventId, type: row.event.type }, "inbox: event handled");
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      try {
        const outcome = await this.store.markFailed(row, message, this.opts);
        this.metrics.inboxProcessed.inc({ outcome });
        const fields = { eventId: row.eventId, roomId: row.roomId, type: row.event.type, attempt: row.attempts + 1, error: message };
        if (outcome === "dead") this.log.error(fields, "inbox: event moved to dead_letters after repeated failures");
        else this.log.warn(fields, "inbox: event failed; will retry");
      } catch (storeErr) {
        this.log.error({ err: storeErr, eventId: row.eventId }, "inbox: could not record a failure; the event stays pending");
      }
    }
  }
}
