import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics.js";
import type { ClientEvent } from "../shared/events.js";
import type { InboxRow, InboxStore } from "./inboxStore.js";

export type EventHandler = (event: ClientEvent) => Promise<void>;

/**
 * Drains the inbox. Rooms are worked in parallel and each room's events in order. A failing event
 * is retried with backoff and finally dead-lettered; it never holds up the events behind it,
 * because a retry waits in the database, not in this loop.
 */
export class InboxWorker {
  private running = false;
  private wakeRequested = false;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: InboxStore,
    private readonly handle: EventHandler,
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
    if (!this.loop) this.loop = this.drain().finally(() => (this.loop = null));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
  }

  private async drain(): Promise<void> {
    while (this.running && this.wakeRequested) {
      this.wakeRequested = false;
      try {
        const rows = await this.store.due(200);
        if (rows.length > 0) {
          this.wakeRequested = true;
          await this.processRooms(rows);
        }
        this.metrics.inboxPending.set(await this.store.pendingCount());
      } catch (err) {
        this.log.error({ err }, "inbox: could not read the inbox; retrying at the next poll");
      }
    }
    this.scheduleNextPoll();
  }

  private scheduleNextPoll(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
  }

  private async processRooms(rows: InboxRow[]): Promise<void> {
    const byRoom = new Map<string, InboxRow[]>();
    for (const r of rows) byRoom.set(r.roomId, [...(byRoom.get(r.roomId) ?? []), r]);
    await Promise.all(
      [...byRoom.values()].map(async (roomRows) => {
        for (const row of roomRows) await this.processOne(row);
      }),
    );
  }

  private async processOne(row: InboxRow): Promise<void> {
    try {
      await this.handle(row.event);
      await this.store.markDone(row.id);
      this.metrics.inboxProcessed.inc({ outcome: "done" });
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const outcome = await this.store.markFailed(row, message, this.opts);
      this.metrics.inboxProcessed.inc({ outcome });
      const fields = { eventId: row.eventId, roomId: row.roomId, type: row.event.type, attempt: row.attempts + 1, error: message };
      if (outcome === "dead") this.log.error(fields, "inbox: event moved to dead_letters after repeated failures");
      else this.log.warn(fields, "inbox: event failed; will retry");
    }
  }
}
