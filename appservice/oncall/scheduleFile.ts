import { DateTime } from "luxon";
import { parse } from "yaml";
import { z } from "zod";
import { matrixUserId } from "../shared/events.js";
import { isValidTimeZone, type ServiceSchedule } from "./schedule.js";

/**
 * The coordinator's schedule file (YAML). Parsing collects every problem with its path, so a
 * coordinator fixes the file in one pass; nothing is imported unless the whole file is valid.
 */
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time HH:MM, e.g. 08:00");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD");
const localDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "must be a local date-time YYYY-MM-DDTHH:MM (in the service's time zone)");

const ScheduleFileSchema = z.object({
  clinicians: z
    .array(z.object({ user: matrixUserId, name: z.string().min(1).max(100) }))
    .default([]),
  services: z
    .array(
      z.object({
        id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a short slug such as cardiology or icu-north"),
        name: z.string().min(1).max(80),
        timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/London"),
        levels: z
          .array(
            z.object({
              level: z.string().regex(/^[a-z][a-z0-9-]{0,29}$/, "must be a level name such as primary or backup"),
              rotation: z.object({
                kind: z.enum(["daily", "weekly"], { error: "must be daily or weekly" }),
                handover: hhmm,
                start: isoDate,
                members: z.array(matrixUserId).min(1, "needs at least one member"),
              }),
            }),
          )
          .min(1, "a service needs at least one level"),
        shifts: z
          .array(z.object({ level: z.string(), user: matrixUserId, start: localDateTime, end: localDateTime }))
          .default([]),
      }),
    )
    .min(1, "the file defines no services"),
});

export interface ScheduleImport {
  clinicians: { userId: string; displayName: string }[];
  services: ServiceSchedule[];
}

export class ScheduleFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`The schedule file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ScheduleFileError";
  }
}

export function parseScheduleFile(text: string): ScheduleImport {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ScheduleFileError([`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  const parsed = ScheduleFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ScheduleFileError(parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`));
  }
  const problems: string[] = [];
  const ids = new Set<string>();
  const services: ServiceSchedule[] = parsed.data.services.map((s, si) => {
    if (ids.has(s.id)) problems.push(`services.${si}.id: '${s.id}' is defined twice`);
    ids.add(s.id);
    const levelNames = s.levels.map((l) => l.level);
    if (new Set(levelNames).size !== levelNames.length) problems.push(`services.${si}.levels: a level is listed twice`);
    const shifts = s.shifts.map((sh, i) => {
      const where = `services.${si}.shifts.${i}`;
      if (!levelNames.includes(sh.level)) problems.push(`${where}.level: '${sh.level}' is not a level of ${s.id} (${levelNames.join(", ")})`);
      const startsAt = DateTime.fromISO(sh.start, { zone: s.timezone });
      const endsAt = DateTime.fromISO(sh.end, { zone: s.timezone });
      if (!startsAt.isValid) problems.push(`${where}.start: not a real date-time`);
      if (!endsAt.isValid) problems.push(`${where}.end: not a real date-time`);
      if (startsAt.isValid && endsAt.isValid && endsAt <= startsAt) problems.push(`${where}.end: must be after start`);
      return { level: sh.level, userId: sh.user, startsAt: startsAt.toJSDate(), endsAt: endsAt.toJSDate() };
    });
    s.levels.forEach((l, li) => {
      if (!DateTime.fromISO(l.rotation.start).isValid) problems.push(`services.${si}.levels.${li}.rotation.start: not a real date`);
    });
    return {
      id: s.id,
      name: s.name,
      timezone: s.timezone,
      rotations: s.levels.map((l, i) => ({
        level: l.level,
        levelOrder: i,
        kind: l.rotation.kind,
        handoverTime: l.rotation.handover,
        startDate: l.rotation.start,
        members: l.rotation.members,
      })),
      shifts,
    };
  });
  if (problems.length) throw new ScheduleFileError(problems);
  return {
    clinicians: parsed.data.clinicians.map((c) => ({ userId: c.user, displayName: c.name })),
    services,
  };
}
