import { affectedRows, type Db } from "../db/connect.js";
import type { ClientEvent } from "../shared/events/index.js";

export interface InboxRow {
  id: string;
  eventId: string;
  roomId: string;
  attempts: number;
  event: ClientEvent;
}

export interface AcceptedTransaction {
  /** Events new to the inbox; 0 when Synapse repeated what we already have. */
  stored: number;
  /** Events the database refused, kept in dead_letters instead. */
  deadLettered: number;
}

const ID_COLUMN_MAX = 255;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text Postgres takes (no NUL, no lone surrogate), cut to a length. Errors can quote event content. */
function storable(value: string, max: number): string {
  const clean = value.replaceAll("\0", "").replace(LONE_SURROGATE, "\uFFFD");
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}
const clip = (value: string) => storable(value, ID_COLUMN_MAX);
const ERROR_MAX = 2000;

/**
 * A value the database refuses for what it is (SQLSTATE class 22, data exceptions: too long, bad
 * byte; class 54, limits exceeded) or one that cannot be serialised at all (nesting too deep).
 */
function isDataError(err: unknown): boolean {
  if (err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("54"));
}

type Row = { event_id: string; room_id: string; event_type: string; event: string };

/** The inbox row for an event, or why it cannot be one (JSON.stringify overflows on deep nesting). */
function inboxRow(e: ClientEvent): Row | Error {
  try {
    // JSON.stringify escapes NUL and lone surrogates, so the text column takes any event.
    return { event_id: e.event_id, room_id: e.room_id, event_type: e.type, event: JSON.stringify(e) };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * A dead letter for an event the inbox refused. Its ids are cut to fit (an over-long id cut to
 * 255 could collide with another such id; the first one is kept, which is what dead letters are
 * for: a record to look at, not a queue).
 */
function unstorableDeadLetter(e: ClientEvent, payload: string | null, err: unknown) {
  return {
    event_id: clip(e.event_id),
    room_id: clip(e.room_id),
    event_type: clip(e.type),
    event: payload ?? JSON.stringify({ unstorable: true }),
    attempts: 0,
    error: storable(`could not be stored in the inbox: ${(err as Error).message ?? String(err)}`, ERROR_MAX),
  };
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
   * Stores a transaction's events in one DB transaction and returns how many were new. Identity
   * is the event id, never the txn id: Synapse on SQLite numbers transactions afresh after a
   * restart, so a txn id seen before may carry new events. An event the database refuses (an id
   * too long for its column, a byte it cannot hold) goes to dead letters, alone, so that it can
   * never block the events behind it. Only a database that is down makes this throw.
   */
  async acceptTransaction(txnId: string, events: ClientEvent[]): Promise<AcceptedTransaction> {
    return this.db.transaction(async (trx) => {
      await trx("as_transactions")
        .insert({ txn_id: clip(txnId), event_count: events.length })
        .onConflict("txn_id")
        .merge({ event_count: events.length, received_at: new Date() });
      // An event already given up on stays in dead letters: Synapse resending the transaction
      // (its 200 was lost) must not run it, and its side effects, all over again.
      const lookup = events.map((e) => e.event_id).filter((id) => clip(id) === id);
      const given = new Set(lookup.length ? (await trx("dead_letters").whereIn("event_id", lookup).select("event_id")).map((r) => r.event_id as string) : []);
      events = events.filter((e) => !given.has(e.event_id));
      if (events.length === 0) return { stored: 0, deadLettered: 0 };
      const rows = events.map(inboxRow);
      if (rows.every((r): r is Row => !(r instanceof Error))) {
        try {
          // One statement for the usual case; a savepoint keeps the outer transaction usable.
          const inserted = await trx.transaction((sp) => sp("inbox").insert(rows).onConflict("event_id").ignore().returning("id"));
          return { stored: inserted.length, deadLettered: 0 };
        } catch (err) {
          if (!isDataError(err)) throw err;
          // Some event was refused: find it by storing them one at a time.
        }
      }
      let stored = 0;
      let deadLettered = 0;
      for (const [i, row] of rows.entries()) {
        try {
          if (row instanceof Error) throw row;
          const inserted = await trx.transaction((sp) => sp("inbox").insert(row).onConflict("event_id").ignore().returning("id"));
          stored += inserted.length;
        } catch (err) {
          // The event's fault only for a value the database cannot hold; anything else (a
          // deadlock, a lost connection) is the database's, and Synapse must retry the whole.
          if (!isDataError(err)) throw err;
          const payload = row instanceof Error ? null : row.event;
          await trx.transaction((sp) => sp("dead_letters").insert(unstorableDeadLetter(events[i]!, payload, err)).onConflict("event_id").ignore());
          deadLettered++;
        }
      }
      return { stored, deadLettered };
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
  async markFailed(row: InboxRow, rawError: string, opts: { maxAttempts: number; retryBaseMs: number }): Promise<"retry" | "dead"> {
    const attempts = row.attempts + 1;
    const error = storable(rawError, ERROR_MAX);
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
