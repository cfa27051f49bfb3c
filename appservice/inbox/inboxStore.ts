import { affectedRows, type Db } from "../db/connect.js";
import type { ClientEvent } from "../shared/events.js";

export interface InboxRow {
  id: string;
  eventId: string;
  roomId: string;
  attempts: number;
  event: ClientEvent;
}

export interface DeadLetter {
  eventId: string;
  roomId: string;
  type: string;
  attempts: number;
  error: string;
  failedAt: string;
}

/** The database port for appservice transactions: the inbox and its dead-letter table. */
export class InboxStore {
  constructor(private readonly db: Db) {}

  /**
   * Stores a transaction's events in one DB transaction. Returns false when the txn id was seen
   * before, in which case nothing is stored again. An event already in the inbox (Synapse may
   * resend it under a new txn id) is kept once.
   */
  async acceptTransaction(txnId: string, events: ClientEvent[]): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const inserted = await trx("as_transactions")
        .insert({ txn_id: txnId, event_count: events.length })
        .onConflict("txn_id")
        .ignore()
        .returning("txn_id");
      if (inserted.length === 0) return false;
      if (events.length > 0) {
        await trx("inbox")
          .insert(
            events.map((e) => ({
              event_id: e.event_id,
              room_id: e.room_id,
              event_type: e.type,
              event: JSON.stringify(e),
            })),
          )
          .onConflict("event_id")
          .ignore();
      }
      return true;
    });
  }

  async due(limit: number): Promise<InboxRow[]> {
    const rows = await this.db("inbox")
      .where({ status: "pending" })
      .andWhere("next_attempt_at", "<=", new Date())
      .orderBy("id")
      .limit(limit);
    return rows.map((r) => ({
      id: String(r.id),
      eventId: r.event_id,
      roomId: r.room_id,
      attempts: r.attempts,
      event: (typeof r.event === "string" ? JSON.parse(r.event) : r.event) as ClientEvent,
    }));
  }

  /** Done events keep only their id: the payload is not needed any more, so it is not kept. */
  async markDone(id: string): Promise<void> {
    await this.db("inbox")
      .where({ id })
      .update({ status: "done", processed_at: new Date(), event: JSON.stringify({}), last_error: null });
  }

  /** Schedules a retry, or moves the event to dead_letters once it has used its attempts. */
  async markFailed(row: InboxRow, error: string, opts: { maxAttempts: number; retryBaseMs: number }): Promise<"retry" | "dead"> {
    const attempts = row.attempts + 1;
    if (attempts >= opts.maxAttempts) {
      await this.db.transaction(async (trx) => {
        await trx("dead_letters")
          .insert({
            event_id: row.eventId,
            room_id: row.roomId,
            event_type: row.event.type,
            event: JSON.stringify(row.event),
            attempts,
            error,
          })
          .onConflict("event_id")
          .merge();
        await trx("inbox").where({ id: row.id }).delete();
      });
      return "dead";
    }
    const delay = opts.retryBaseMs * 2 ** (attempts - 1);
    await this.db("inbox")
      .where({ id: row.id })
      .update({ attempts, last_error: error, next_attempt_at: new Date(Date.now() + delay) });
    return "retry";
  }

  /**
   * Forgets handled events and txn ids older than the cutoff. Synapse repeats a txn id only
   * while retrying it, within minutes, so a week of memory is ample.
   */
  async prune(cutoff: Date): Promise<{ events: number; transactions: number }> {
    const events = await this.db("inbox").where({ status: "done" }).andWhere("processed_at", "<", cutoff).delete();
    const transactions = await this.db("as_transactions").where("received_at", "<", cutoff).delete();
    return { events: affectedRows(events), transactions: affectedRows(transactions) };
  }

  /** Dead letters for an operator: ids, type, error and when; never the event content. */
  async listDeadLetters(limit = 100): Promise<DeadLetter[]> {
    const rows = await this.db("dead_letters").orderBy("id", "desc").limit(limit);
    return rows.map((r) => ({
      eventId: r.event_id,
      roomId: r.room_id,
      type: r.event_type,
      attempts: r.attempts,
      error: r.error,
      failedAt: new Date(r.failed_at).toISOString(),
    }));
  }

  /** Puts a dead letter back in the inbox with fresh attempts, in one DB transaction. False if unknown. */
  async replayDeadLetter(eventId: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const [dead] = await trx("dead_letters").where({ event_id: eventId }).forUpdate();
      if (!dead) return false;
      await trx("inbox")
        .insert({
          event_id: dead.event_id,
          room_id: dead.room_id,
          event_type: dead.event_type,
          event: typeof dead.event === "string" ? dead.event : JSON.stringify(dead.event),
        })
        .onConflict("event_id")
        .merge({ status: "pending", attempts: 0, next_attempt_at: new Date(), last_error: null });
      await trx("dead_letters").where({ event_id: eventId }).delete();
      return true;
    });
  }

  async pendingCount(): Promise<number> {
    const [row] = await this.db("inbox").where({ status: "pending" }).count<{ count: string }[]>("id as count");
    return Number(row?.count ?? 0);
  }

  async nextAttemptAt(): Promise<Date | null> {
    const row = await this.db("inbox").where({ status: "pending" }).min<{ next: Date | null }[]>("next_attempt_at as next");
    return row[0]?.next ? new Date(row[0].next) : null;
  }
}
