import { DateTime } from "luxon";
import { timeline, type Absence, type ServiceSchedule, type TimelineInterval } from "./schedule.js";

/**
 * Conflicts found in a schedule over a window, derived from the timeline: two assignments for one
 * person at once, overlapping overrides on one level, a level nobody covers, and someone put on
 * call (by an override) while they are away.
 */
export type ConflictKind = "double-booking" | "overlapping-overrides" | "gap" | "absent";

export interface Conflict {
  kind: ConflictKind;
  serviceId: string;
  level: string;
  userId: string | null;
  from: Date;
  until: Date;
  timezone: string;
  /** For a double-booking or overlapping overrides: the other slot. */
  other?: { serviceId: string; level: string; userId?: string };
  message: string;
}

export const DEFAULT_CONFLICT_WINDOW_DAYS = 28;

export function formatLocal(d: Date, timezone: string): string {
  return DateTime.fromJSDate(d, { zone: timezone }).toFormat("ccc d LLL yyyy HH:mm");
}

function span(from: Date, until: Date, timezone: string): string {
  return `from ${formatLocal(from, timezone)} to ${formatLocal(until, timezone)} (${timezone})`;
}

const maxDate = (a: Date, b: Date) => (a > b ? a : b);
const minDate = (a: Date, b: Date) => (a < b ? a : b);

export function detectConflicts(schedules: ServiceSchedule[], absences: Absence[], from: Date, to: Date): Conflict[] {
  const out: Conflict[] = [];
  const byId = new Map(schedules.map((s) => [s.id, s]));
  const held: TimelineInterval[] = [];
  for (const s of schedules) {
    for (const iv of timeline(s, absences, from, to)) {
      if (iv.userId === null) {
        out.push({
          kind: "gap",
          serviceId: s.id,
          level: iv.level,
          userId: null,
          from: iv.from,
          until: iv.until,
          timezone: s.timezone,
          message: `Gap: nobody covers ${s.name} ${iv.level} ${span(iv.from, iv.until, s.timezone)}.`,
        });
      } else held.push(iv);
    }
    // Overlapping overrides on one level: only the later-starting one would apply.
    const ovs = s.overrides.filter((o) => o.startsAt < to && from < o.endsAt);
    for (let i = 0; i < ovs.length; i++) {
      for (let j = i + 1; j < ovs.length; j++) {
        const a = ovs[i]!;
        const b = ovs[j]!;
        if (a.level !== b.level || !(a.startsAt < b.endsAt && b.startsAt < a.endsAt)) continue;
        const f = maxDate(maxDate(a.startsAt, b.startsAt), from);
        const u = minDate(minDate(a.endsAt, b.endsAt), to);
        out.push({
          kind: "overlapping-overrides",
          serviceId: s.id,
          level: a.level,
          userId: a.userId,
          from: f,
          until: u,
          timezone: s.timezone,
          other: { serviceId: s.id, level: b.level, userId: b.userId },
          message: `Overlapping overrides on ${s.name} ${a.level}: ${a.userId} and ${b.userId} ${span(f, u, s.timezone)}.`,
        });
      }
      // An override for someone who is away still applies, so say so.
      const o = ovs[i]!;
      for (const ab of absences) {
        if (ab.userId !== o.userId || !(ab.startsAt < o.endsAt && o.startsAt < ab.endsAt)) continue;
        const f = maxDate(maxDate(ab.startsAt, o.startsAt), from);
        const u = minDate(minDate(ab.endsAt, o.endsAt), to);
        if (f >= u) continue;
        out.push({
          kind: "absent",
          serviceId: s.id,
          level: o.level,
          userId: o.userId,
          from: f,
          until: u,
          timezone: s.timezone,
          message: `${o.userId} is away but has an override on ${s.name} ${o.level} ${span(f, u, s.timezone)}.`,
        });
      }
    }
  }
  // Double-booking: one person holding two slots at once, on two services or two levels.
  held.sort((a, b) => a.from.getTime() - b.from.getTime());
  for (let i = 0; i < held.length; i++) {
    const a = held[i]!;
    for (let j = i + 1; j < held.length && held[j]!.from < a.until; j++) {
      const b = held[j]!;
      if (b.userId !== a.userId || (a.serviceId === b.serviceId && a.level === b.level)) continue;
      const f = maxDate(a.from, b.from);
      const u = minDate(a.until, b.until);
      const sa = byId.get(a.serviceId)!;
      const sb = byId.get(b.serviceId)!;
      out.push({
        kind: "double-booking",
        serviceId: a.serviceId,
        level: a.level,
        userId: a.userId,
        from: f,
        until: u,
        timezone: sa.timezone,
        other: { serviceId: b.serviceId, level: b.level },
        message: `Double-booked: ${a.userId} is on ${sa.name} ${a.level} and ${sb.name} ${b.level} at once ${span(f, u, sa.timezone)}.`,
      });
    }
  }
  return out.sort((a, b) => a.from.getTime() - b.from.getTime() || a.kind.localeCompare(b.kind));
}

const sameSlot = (a: Conflict, b: Conflict) =>
  a.kind === b.kind &&
  a.serviceId === b.serviceId &&
  a.level === b.level &&
  a.userId === b.userId &&
  a.other?.serviceId === b.other?.serviceId &&
  a.other?.level === b.other?.level &&
  a.other?.userId === b.other?.userId;

/** Conflicts in `after` that were not already there (wholly inside one of `before`): what a change introduces. */
export function newConflicts(before: Conflict[], after: Conflict[]): Conflict[] {
  return after.filter((c) => !before.some((b) => sameSlot(b, c) && b.from <= c.from && c.until <= b.until));
}
