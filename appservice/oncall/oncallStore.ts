import type { Knex } from "knex";
import { affectedRows, type Db } from "../db/connect.js";
import type { EscalationPolicy } from "./escalationPolicy.js";
import type { ScheduleImport } from "./scheduleFile.js";
import type { Absence, Override, Rotation, ServiceSchedule, Weekday } from "./schedule.js";

export type OverrideOrigin = "file" | "admin" | "swap";

export interface StoredOverride extends Override {
  id: number;
  serviceId: string;
  origin: OverrideOrigin;
}

export interface StoredAbsence extends Absence {
  id: number;
}

export interface NewOverride {
  serviceId: string;
  level: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  reason?: string | null;
}

export interface ServiceMeta {
  coordinators: string[];
  escalation: EscalationPolicy | null;
}

const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;

/** The database port for schedules: services, layers, overrides, absences, settings and clinician names. */
export class OnCallStore {
  constructor(private readonly db: Db) {}

  async listServices(): Promise<{ id: string; name: string; timezone: string }[]> {
    return this.db("oncall_services").select("id", "name", "timezone").orderBy("id");
  }

  async loadSchedule(serviceId: string): Promise<ServiceSchedule | null> {
    return (await this.loadSchedules([serviceId]))[0] ?? null;
  }

  /** Every service's schedule (or the listed ones), in id order. */
  async loadSchedules(ids?: string[]): Promise<ServiceSchedule[]> {
    const q = this.db("oncall_services").orderBy("id");
    const services = await (ids ? q.whereIn("id", ids) : q);
    if (services.length === 0) return [];
    const serviceIds = services.map((s) => s.id as string);
    const rotations = await this.db("oncall_rotations").whereIn("service_id", serviceIds).orderBy(["level_order", "layer_order"]);
    const overrides = await this.listOverrides({ serviceIds });
    return services.map((svc) => ({
      id: svc.id,
      name: svc.name,
      timezone: svc.timezone,
      rotations: rotations.filter((r) => r.service_id === svc.id).map(rotationFromRow),
      overrides: overrides.filter((o) => o.serviceId === svc.id),
    }));
  }

  async serviceMeta(serviceId: string): Promise<ServiceMeta | null> {
    const svc = await this.db("oncall_services").where({ id: serviceId }).first("coordinators", "escalation");
    if (!svc) return null;
    return { coordinators: json<string[]>(svc.coordinators) ?? [], escalation: svc.escalation ? json<EscalationPolicy>(svc.escalation) : null };
  }

  async setting<T>(key: string, fallback: T): Promise<T> {
    const row = await this.db("oncall_settings").where({ key }).first("value");
    return row ? json<T>(row.value) : fallback;
  }

  async displayNames(userIds: string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db("clinicians").whereIn("user_id", [...new Set(userIds)]);
    return new Map(rows.map((r) => [r.user_id as string, r.display_name as string]));
  }

  async listOverrides(filter: { serviceIds?: string[]; from?: Date; to?: Date } = {}): Promise<StoredOverride[]> {
    const q = this.db("oncall_overrides").orderBy("starts_at").orderBy("id");
    if (filter.serviceIds) q.whereIn("service_id", filter.serviceIds);
    if (filter.to) q.where("starts_at", "<", filter.to);
    if (filter.from) q.where("ends_at", ">", filter.from);
    return (await q).map((o) => ({
      id: Number(o.id),
      serviceId: o.service_id,
      level: o.level,
      userId: o.user_id,
      startsAt: new Date(o.starts_at),
      endsAt: new Date(o.ends_at),
      reason: o.reason ?? null,
      origin: o.origin,
    }));
  }

  /** Adds overrides in one transaction; returns their ids in order. */
  async addOverrides(list: NewOverride[], origin: OverrideOrigin, trx?: Knex.Transaction): Promise<number[]> {
    const run = async (t: Knex.Transaction) => {
      const ids: number[] = [];
      for (const o of list) {
        const [row] = await t("oncall_overrides")
          .insert({ service_id: o.serviceId, level: o.level, user_id: o.userId, starts_at: o.startsAt, ends_at: o.endsAt, reason: o.reason ?? null, origin })
          .returning("id");
        ids.push(Number(row.id));
      }
      return ids;
    };
    return trx ? run(trx) : this.db.transaction(run);
  }

  async removeOverride(id: number): Promise<boolean> {
    return affectedRows(await this.db("oncall_overrides").where({ id }).delete()) > 0;
  }

  async listAbsences(filter: { userId?: string; from?: Date; to?: Date; exceptOrigin?: "file" | "admin" } = {}): Promise<StoredAbsence[]> {
    const q = this.db("oncall_absences").orderBy("starts_at").orderBy("id");
    if (filter.userId) q.where({ user_id: filter.userId });
    if (filter.exceptOrigin) q.whereNot({ origin: filter.exceptOrigin });
    if (filter.to) q.where("starts_at", "<", filter.to);
    if (filter.from) q.where("ends_at", ">", filter.from);
    return (await q).map((a) => ({ id: Number(a.id), userId: a.user_id, startsAt: new Date(a.starts_at), endsAt: new Date(a.ends_at), label: a.label ?? null }));
  }

  async addAbsences(list: Absence[], origin: "file" | "admin"): Promise<number[]> {
    return this.db.transaction(async (t) => {
      const ids: number[] = [];
      for (const a of list) {
        const [row] = await t("oncall_absences")
          .insert({ user_id: a.userId, starts_at: a.startsAt, ends_at: a.endsAt, label: a.label ?? null, origin })
          .returning("id");
        ids.push(Number(row.id));
      }
      return ids;
    });
  }

  async removeAbsence(id: number): Promise<boolean> {
    return affectedRows(await this.db("oncall_absences").where({ id }).delete()) > 0;
  }

  /**
   * Replaces each imported service's levels and file overrides, and the file's absences, in one
   * transaction: a failed import changes nothing. Overrides added by hand or by a swap are kept
   * unless their level is gone.
   */
  async importSchedule(data: ScheduleImport): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const c of data.clinicians) {
        await trx("clinicians").insert({ user_id: c.userId, display_name: c.displayName }).onConflict("user_id").merge();
      }
      for (const s of data.services) {
        await trx("oncall_services")
          .insert({
            id: s.id,
            name: s.name,
            timezone: s.timezone,
            coordinators: JSON.stringify(s.coordinators),
            escalation: s.escalation ? JSON.stringify(s.escalation) : null,
            updated_at: new Date(),
          })
          .onConflict("id")
          .merge();
        await trx("oncall_rotations").where({ service_id: s.id }).delete();
        await trx("oncall_overrides").where({ service_id: s.id, origin: "file" }).delete();
        const levels = [...new Set(s.rotations.map((r) => r.level))];
        await trx("oncall_overrides").where({ service_id: s.id }).whereNotIn("level", levels).delete();
        const layerCount = new Map<string, number>();
        for (const r of s.rotations) {
          const layer = layerCount.get(r.level) ?? 0;
          layerCount.set(r.level, layer + 1);
          await trx("oncall_rotations").insert({
            service_id: s.id,
            level: r.level,
            level_order: r.levelOrder,
            layer_order: layer,
            kind: r.kind,
            handover_time: r.handoverTime,
            handover_times: r.handoverTimes ? JSON.stringify(r.handoverTimes) : null,
            weekdays: r.weekdays ? JSON.stringify(r.weekdays) : null,
            start_date: r.startDate,
            members: JSON.stringify(r.members),
          });
        }
        for (const o of s.overrides) {
          await trx("oncall_overrides").insert({
            service_id: s.id,
            level: o.level,
            user_id: o.userId,
            starts_at: o.startsAt,
            ends_at: o.endsAt,
            reason: o.reason ?? null,
            origin: "file",
          });
        }
      }
      await trx("oncall_absences").where({ origin: "file" }).delete();
      for (const a of data.absences) {
        await trx("oncall_absences").insert({ user_id: a.userId, starts_at: a.startsAt, ends_at: a.endsAt, label: a.label ?? null, origin: "file" });
      }
      const settings: [string, unknown][] = [];
      if (data.holidays) settings.push(["holidays", data.holidays]);
      if (data.coordinators) settings.push(["coordinators", data.coordinators]);
      for (const [key, value] of settings) {
        await trx("oncall_settings").insert({ key, value: JSON.stringify(value) }).onConflict("key").merge();
      }
    });
  }
}

function rotationFromRow(r: Record<string, unknown>): Rotation {
  const handoverTimes = r.handover_times ? json<string[]>(r.handover_times) : null;
  const weekdays = r.weekdays ? json<Weekday[]>(r.weekdays) : null;
  return {
    level: r.level as string,
    levelOrder: r.level_order as number,
    kind: r.kind as Rotation["kind"],
    handoverTime: r.handover_time as string,
    ...(handoverTimes ? { handoverTimes } : {}),
    startDate: typeof r.start_date === "string" ? r.start_date.slice(0, 10) : toIsoDate(r.start_date as Date),
    members: json<string[]>(r.members),
    ...(weekdays ? { weekdays } : {}),
  };
}

/** Postgres DATE comes back as a JS Date at local midnight; keep the calendar date. */
function toIsoDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
