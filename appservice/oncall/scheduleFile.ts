import { DateTime } from "luxon";
import { z } from "zod";
import { matrixUserId } from "../shared/events/index.js";
import { readYamlFile } from "../shared/yamlFile.js";
import type { EscalationPolicy, EscalationTarget } from "./escalationPolicy.js";
import { isValidTimeZone, WEEKDAYS, type Absence, type Rotation, type ServiceSchedule } from "./schedule.js";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time HH:MM, e.g. 08:00");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD");
const localDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "must be a local date-time YYYY-MM-DDTHH:MM (in the service's time zone)");
const dateOrDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, "must be a date YYYY-MM-DD or a local date-time YYYY-MM-DDTHH:MM");
const levelName = z.string().regex(/^[a-z][a-z0-9-]{0,29}$/, "must be a level name such as primary or backup");
const oneOrMany = z.union([matrixUserId, z.array(matrixUserId)]).transform((v) => (Array.isArray(v) ? v : [v]));

const RotationSchema = z.strictObject({
  kind: z.enum(["daily", "weekly", "custom"], { error: "must be daily, weekly or custom" }),
  handover: hhmm.optional(),
  handovers: z.array(hhmm).min(1, "needs at least one hand-over time").optional(),
  start: isoDate,
  members: z.array(matrixUserId).min(1, "needs at least one member"),
  weekdays: z.array(z.enum(WEEKDAYS, { error: `must be days such as ${WEEKDAYS.join(", ")}` })).min(1).optional(),
});

const TargetSchema = z.union([
  z.object({ level: z.string() }).strict(),
  z.object({ user: matrixUserId }).strict(),
  z.object({ chain: z.string() }).strict(),
]);

const EscalationSchema = z.strictObject({
  steps: z.array(TargetSchema).min(1, "needs at least one step"),
  loops: z.number().int().min(0).max(10).default(0),
  fallback: TargetSchema.nullable().default(null),
  delays: z
    .object({
      emergent: z.number().int().positive().optional(),
      urgent: z.number().int().positive().optional(),
      routine: z.number().int().positive().optional(),
    })
    .strict()
    .default({}),
});

const OverrideSchema = z.strictObject({
  level: z.string(),
  user: matrixUserId,
  start: localDateTime,
  end: localDateTime,
  reason: z.string().max(200).optional(),
});

const ScheduleFileSchema = z.strictObject({
  timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/London").optional(),
  holidays: z.array(isoDate).optional(),
  coordinators: oneOrMany.optional(),
  chains: z.record(z.string(), z.array(matrixUserId).min(1, "a chain needs at least one member")).default({}),
  clinicians: z.array(z.strictObject({ user: matrixUserId, name: z.string().min(1).max(100) })).default([]),
  absences: z
    .array(z.strictObject({ user: matrixUserId, start: dateOrDateTime, end: dateOrDateTime, label: z.string().max(60).optional() }))
    .default([]),
  services: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a short slug such as cardiology or icu-north"),
        name: z.string().min(1).max(80),
        timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/London"),
        coordinator: oneOrMany.optional(),
        levels: z
          .array(z.strictObject({ level: levelName, rotation: RotationSchema.optional(), layers: z.array(RotationSchema).min(1).optional() }))
          .min(1, "a service needs at least one level"),
        shifts: z.array(OverrideSchema).default([]),
        overrides: z.array(OverrideSchema).default([]),
        escalation: EscalationSchema.optional(),
      }),
    )
    .min(1, "the file defines no services"),
});

export interface ImportedService extends ServiceSchedule {
  coordinators: string[];
  /** null: the default policy (each level in order). */
  escalation: EscalationPolicy | null;
}

export interface ScheduleImport {
  clinicians: { userId: string; displayName: string }[];
  services: ImportedService[];
  /** Present only when the file has the key; an absent key leaves the stored list alone. */
  holidays?: string[];
  coordinators?: string[];
  absences: Absence[];
}

export class ScheduleFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`The schedule file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ScheduleFileError";
  }
}

/** The policy when a service defines none: each level in order, once, no fallback. */
export function defaultEscalationPolicy(levels: string[]): EscalationPolicy {
  return { steps: levels.map((level) => ({ kind: "level", level })), loops: 0, fallback: null, delaysSeconds: {} };
}

/**
 * Absence bounds: a bare date is a whole local day, and an end date is inclusive, so
 * 2026-12-01..2026-12-07 is the whole week.
 */
export function absenceBound(text: string, zone: string, edge: "start" | "end"): DateTime {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const d = DateTime.fromISO(text, { zone }).startOf("day");
    return edge === "end" ? d.plus({ days: 1 }) : d;
  }
  return DateTime.fromISO(text, { zone });
}

/**
 * The coordinator's schedule file (YAML). Parsing collects every problem with its path, so a
 * coordinator fixes the file in one pass; nothing is imported unless the whole file is valid.
 * A level has either one `rotation:` or a list of `layers:` (a later layer wins where active).
 */
export function parseScheduleFile(text: string): ScheduleImport {
  const read = readYamlFile(ScheduleFileSchema, text);
  if (!read.ok) throw new ScheduleFileError(read.problems);
  const file = read.value;
  const problems: string[] = [];
  const ids = new Set<string>();
  const services = file.services.map((s, si): ImportedService => {
    if (ids.has(s.id)) problems.push(`services.${si}.id: '${s.id}' is defined twice`);
    ids.add(s.id);
    const levelNames = s.levels.map((l) => l.level);
    if (new Set(levelNames).size !== levelNames.length) problems.push(`services.${si}.levels: a level is listed twice`);
    const rotations: Rotation[] = [];
    s.levels.forEach((l, li) => {
      const where = `services.${si}.levels.${li}`;
      if (!!l.rotation === !!l.layers) problems.push(`${where}: give either one rotation or a list of layers`);
      const layers = l.layers ?? (l.rotation ? [l.rotation] : []);
      layers.forEach((r, ri) => {
        const at = l.layers ? `${where}.layers.${ri}` : `${where}.rotation`;
        if (!DateTime.fromISO(r.start).isValid) problems.push(`${at}.start: not a real date`);
        let times: string[];
        if (r.kind === "custom") {
          times = r.handovers ?? (r.handover ? [r.handover] : []);
          if (times.length === 0) problems.push(`${at}.handovers: a custom rotation needs hand-over times, e.g. ["08:00", "20:00"]`);
          if (times.some((t, i) => i > 0 && t <= times[i - 1]!)) problems.push(`${at}.handovers: list the times in order, each once`);
        } else {
          times = r.handover ? [r.handover] : [];
          if (!r.handover) problems.push(`${at}.handover: a ${r.kind} rotation needs a hand-over time, e.g. "08:00"`);
          if (r.handovers) problems.push(`${at}.handovers: only a custom rotation has several hand-over times; use handover`);
        }
        rotations.push({
          level: l.level,
          levelOrder: li,
          kind: r.kind,
          handoverTime: times[0] ?? "00:00",
          ...(r.kind === "custom" ? { handoverTimes: times } : {}),
          startDate: r.start,
          members: r.members,
          ...(r.weekdays ? { weekdays: r.weekdays } : {}),
        });
      });
    });
    const overrides = [...s.shifts.map((o, i) => ({ o, where: `services.${si}.shifts.${i}` })), ...s.overrides.map((o, i) => ({ o, where: `services.${si}.overrides.${i}` }))].map(
      ({ o, where }) => {
        if (!levelNames.includes(o.level)) problems.push(`${where}.level: '${o.level}' is not a level of ${s.id} (${levelNames.join(", ")})`);
        const startsAt = DateTime.fromISO(o.start, { zone: s.timezone });
        const endsAt = DateTime.fromISO(o.end, { zone: s.timezone });
        if (!startsAt.isValid) problems.push(`${where}.start: not a real date-time`);
        if (!endsAt.isValid) problems.push(`${where}.end: not a real date-time`);
        if (startsAt.isValid && endsAt.isValid && endsAt <= startsAt) problems.push(`${where}.end: must be after start`);
        return { level: o.level, userId: o.user, startsAt: startsAt.toJSDate(), endsAt: endsAt.toJSDate(), reason: o.reason ?? null };
      },
    );
    let escalation: EscalationPolicy | null = null;
    if (s.escalation) {
      const target = (t: z.infer<typeof TargetSchema>, where: string): EscalationTarget => {
        if ("level" in t) {
          if (!levelNames.includes(t.level)) problems.push(`${where}.level: '${t.level}' is not a level of ${s.id} (${levelNames.join(", ")})`);
          return { kind: "level", level: t.level };
        }
        if ("user" in t) return { kind: "user", userId: t.user };
        const members = file.chains[t.chain];
        if (!members) {
          const known = Object.keys(file.chains);
          problems.push(`${where}.chain: '${t.chain}' is not defined under chains:${known.length ? ` (defined: ${known.join(", ")})` : ""}`);
        }
        return { kind: "chain", name: t.chain, members: members ?? [] };
      };
      const e = s.escalation;
      escalation = {
        steps: e.steps.map((t, i) => target(t, `services.${si}.escalation.steps.${i}`)),
        loops: e.loops,
        fallback: e.fallback ? target(e.fallback, `services.${si}.escalation.fallback`) : null,
        delaysSeconds: e.delays,
      };
    }
    return { id: s.id, name: s.name, timezone: s.timezone, rotations, overrides, coordinators: s.coordinator ?? [], escalation };
  });
  const absenceZone = file.timezone ?? file.services[0]!.timezone;
  const absences: Absence[] = file.absences.map((a, i) => {
    const startsAt = absenceBound(a.start, absenceZone, "start");
    const endsAt = absenceBound(a.end, absenceZone, "end");
    if (!startsAt.isValid || !endsAt.isValid) problems.push(`absences.${i}: not a real date`);
    else if (endsAt <= startsAt) problems.push(`absences.${i}.end: must be after start`);
    return { userId: a.user, startsAt: startsAt.toJSDate(), endsAt: endsAt.toJSDate(), label: a.label ?? null };
  });
  file.holidays?.forEach((h, i) => {
    if (!DateTime.fromISO(h).isValid) problems.push(`holidays.${i}: not a real date`);
  });
  if (problems.length) throw new ScheduleFileError(problems);
  return {
    clinicians: file.clinicians.map((c) => ({ userId: c.user, displayName: c.name })),
    services,
    absences,
    ...(file.holidays ? { holidays: file.holidays } : {}),
    ...(file.coordinators ? { coordinators: file.coordinators } : {}),
  };
}

/** Every Matrix user a schedule names, once each, in the order the file first names them. */
export function scheduleUsers(s: ScheduleImport): string[] {
  const targets = (p: EscalationPolicy | null) =>
    p ? [...p.steps, ...(p.fallback ? [p.fallback] : [])].flatMap((t) => (t.kind === "user" ? [t.userId] : t.kind === "chain" ? t.members : [])) : [];
  return [
    ...new Set([
      ...s.clinicians.map((c) => c.userId),
      ...(s.coordinators ?? []),
      ...s.services.flatMap((svc) => [...svc.coordinators, ...svc.rotations.flatMap((r) => r.members), ...svc.overrides.map((o) => o.userId), ...targets(svc.escalation)]),
      ...s.absences.map((a) => a.userId),
    ]),
  ];
}
