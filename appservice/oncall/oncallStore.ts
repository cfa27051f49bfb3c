import type { Db } from "../db/connect.js";
import type { ScheduleImport } from "./scheduleFile.js";
import type { Rotation, ServiceSchedule } from "./schedule.js";

/** The database port for schedules: services, rotations, explicit shifts and clinician names. */
export class OnCallStore {
  constructor(private readonly db: Db) {}

  async listServices(): Promise<{ id: string; name: string }[]> {
    return this.db("oncall_services").select("id", "name").orderBy("id");
  }

  async loadSchedule(serviceId: string): Promise<ServiceSchedule | null> {
    const svc = await this.db("oncall_services").where({ id: serviceId }).first();
    if (!svc) return null;
    const rotations = await this.db("oncall_rotations").where({ service_id: serviceId }).orderBy("level_order");
    const shifts = await this.db("oncall_shifts").where({ service_id: serviceId });
    return {
      id: svc.id,
      name: svc.name,
      timezone: svc.timezone,
      rotations: rotations.map(
        (r): Rotation => ({
          level: r.level,
          levelOrder: r.level_order,
          kind: r.kind,
          handoverTime: r.handover_time,
          startDate: typeof r.start_date === "string" ? r.start_date.slice(0, 10) : toIsoDate(r.start_date),
          members: typeof r.members === "string" ? JSON.parse(r.members) : r.members,
        }),
      ),
      shifts: shifts.map((s) => ({
        level: s.level,
        userId: s.user_id,
        startsAt: new Date(s.starts_at),
        endsAt: new Date(s.ends_at),
      })),
    };
  }

  async displayNames(userIds: string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db("clinicians").whereIn("user_id", userIds);
    return new Map(rows.map((r) => [r.user_id as string, r.display_name as string]));
  }

  /** Replaces each imported service whole, in one transaction: a failed import changes nothing. */
  async importSchedule(data: ScheduleImport): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const c of data.clinicians) {
        await trx("clinicians").insert({ user_id: c.userId, display_name: c.displayName }).onConflict("user_id").merge();
      }
      for (const s of data.services) {
        await trx("oncall_services")
          .insert({ id: s.id, name: s.name, timezone: s.timezone, updated_at: new Date() })
          .onConflict("id")
          .merge();
        await trx("oncall_rotations").where({ service_id: s.id }).delete();
        await trx("oncall_shifts").where({ service_id: s.id }).delete();
        for (const r of s.rotations) {
          await trx("oncall_rotations").insert({
            service_id: s.id,
            level: r.level,
            level_order: r.levelOrder,
            kind: r.kind,
            handover_time: r.handoverTime,
            start_date: r.startDate,
            members: JSON.stringify(r.members),
          });
        }
        for (const sh of s.shifts) {
          await trx("oncall_shifts").insert({
            service_id: s.id,
            level: sh.level,
            user_id: sh.userId,
            starts_at: sh.startsAt,
            ends_at: sh.endsAt,
          });
        }
      }
    });
  }
}

/** Postgres DATE comes back as a JS Date at local midnight; keep the calendar date. */
function toIsoDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
