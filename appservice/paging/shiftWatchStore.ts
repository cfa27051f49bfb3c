import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";

export interface WatchedLevel {
  level: string;
  userId: string | null;
  since: Date;
}

/** Who held each level at the last shift check, and which fatigue warnings went out. */
export class ShiftWatchStore {
  constructor(private readonly db: Db) {}

  async levels(serviceId: string): Promise<WatchedLevel[]> {
    const rows = await this.db("shift_watch").where({ service_id: serviceId });
    return rows.map((r) => ({ level: r.level as string, userId: (r.user_id as string | null) ?? null, since: new Date(r.since as string) }));
  }

  /** First sight of a level: remembered, not announced. */
  async remember(serviceId: string, level: string, userId: string | null, now: Date): Promise<void> {
    await this.db("shift_watch").insert({ service_id: serviceId, level, user_id: userId, since: now }).onConflict(["service_id", "level"]).ignore();
  }

  /** Records a change from `previous`; false if someone else recorded it first. */
  async record(serviceId: string, level: string, previous: string | null, current: string | null, now: Date): Promise<boolean> {
    const changed = await this.db("shift_watch")
      .where({ service_id: serviceId, level })
      .andWhere((q) => (previous === null ? q.whereNull("user_id") : q.where("user_id", previous)))
      .update({ user_id: current, since: now });
    return affectedRows(changed) === 1;
  }

  /** Claims the one fatigue warning for this clinician's shift; false if it was already sent. */
  async claimFatigueAlert(userId: string, shiftKey: string, hours: number): Promise<boolean> {
    const inserted = await this.db("fatigue_alerts").insert({ user_id: userId, shift_key: shiftKey, hours }).onConflict(["user_id", "shift_key"]).ignore().returning("user_id");
    return inserted.length === 1;
  }
}
