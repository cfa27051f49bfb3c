import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";

export interface TimerRow {
  id: string;
  kind: string;
  ref: string;
  step: string;
  dueAt: Date;
  attempts: number;
}

/**
 * The timer port. A timer is (kind, ref, step), unique: scheduling the same step twice is a
 * no-op, so a handler that crashes half-way can reschedule its follow-ups safely on retry.
 */
export class TimerStore {
  constructor(private readonly db: Db) {}

  async schedule(kind: string, ref: string, step: string, dueAt: Date, trx: Db = this.db): Promise<void> {
    await trx("timers").insert({ kind, ref, step, due_at: dueAt, status: "pending" }).onConflict(["kind", "ref", "step"]).ignore();
  }

  /** Cancels every pending timer of an object, e.g. all escalations of an acknowledged page. */
  async cancelAll(kind: string, ref: string, trx: Db = this.db): Promise<number> {
    return affectedRows(await trx("timers").where({ kind, ref, status: "pending" }).update({ status: "cancelled" }));
  }

  /** Cancels one pending timer, e.g. a safety net whose work was just done directly. */
  async cancel(kind: string, ref: string, step: string): Promise<void> {
    await this.db("timers").where({ kind, ref, step, status: "pending" }).update({ status: "cancelled" });
  }

  async nextDueAt(): Promise<Date | null> {
    const row = await this.db("timers").where({ status: "pending" }).min({ due: "due_at" }).first();
    return row?.due ? new Date(row.due) : null;
  }

  async due(now: Date, limit: number): Promise<TimerRow[]> {
    const rows = await this.db("timers").where({ status: "pending" }).andWhere("due_at", "<=", now).orderBy("due_at").limit(limit);
    return rows.map((r) => ({ id: String(r.id), kind: r.kind, ref: r.ref, step: r.step, dueAt: new Date(r.due_at), attempts: r.attempts }));
  }

  /** Claims a due timer; false when another run already has it. */
  async claim(id: string): Promise<boolean> {
    return affectedRows(await this.db("timers").where({ id, status: "pending" }).update({ status: "running", fired_at: new Date() })) === 1;
  }

  async done(id: string): Promise<void> {
    await this.db("timers").where({ id }).update({ status: "done" });
  }

  async retryLater(id: string, attempts: number, dueAt: Date, error: string): Promise<void> {
    await this.db("timers").where({ id }).update({ status: "pending", attempts, due_at: dueAt, last_error: error.slice(0, 500) });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db("timers").where({ id }).update({ status: "failed", last_error: error.slice(0, 500) });
  }

  /** After a crash, timers caught mid-run are due again; their handlers are guarded against repeats. */
  async releaseRunning(): Promise<number> {
    return affectedRows(await this.db("timers").where({ status: "running" }).update({ status: "pending" }));
  }

  /** When a timer (in any status) was due, or null if there is none. */
  async dueAtOf(kind: string, ref: string, step: string): Promise<Date | null> {
    const row = await this.db("timers").where({ kind, ref, step }).first();
    return row ? new Date(row.due_at) : null;
  }

  async pending(): Promise<TimerRow[]> {
    const rows = await this.db("timers").where({ status: "pending" }).orderBy("due_at").limit(1000);
    return rows.map((r) => ({ id: String(r.id), kind: r.kind, ref: r.ref, step: r.step, dueAt: new Date(r.due_at), attempts: r.attempts }));
  }

  /** Forgets timers that fired or were cancelled before `before`; pending and failed ones stay. */
  async prune(before: Date): Promise<number> {
    return affectedRows(await this.db("timers").whereIn("status", ["done", "cancelled"]).andWhere("due_at", "<", before).delete());
  }

  async pendingCount(): Promise<number> {
    const row = await this.db("timers").where({ status: "pending" }).count({ n: "*" }).first();
    return Number(row?.n ?? 0);
  }
}
