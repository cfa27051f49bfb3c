import { DateTime, IANAZone } from "luxon";

/**
 * Pure on-call resolution: who holds each level of a service at an instant. Rotations hand over
 * at a local wall-clock time in the service's time zone, so a shift spanning a DST change is
 * 23 or 25 hours long and the hand-over stays at, say, 08:00 local. Intervals are
 * [start, end): at the hand-over instant the incoming clinician is on call.
 */
export type RotationKind = "daily" | "weekly";

export interface Rotation {
  level: string;
  levelOrder: number;
  kind: RotationKind;
  /** HH:MM local to the service. */
  handoverTime: string;
  /** YYYY-MM-DD: the first hand-over happens on this local date at handoverTime. */
  startDate: string;
  members: string[];
}

export interface Shift {
  level: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
}

export interface ServiceSchedule {
  id: string;
  name: string;
  timezone: string;
  rotations: Rotation[];
  shifts: Shift[];
}

export interface LevelAssignment {
  level: string;
  userId: string;
  source: "rotation" | "shift";
  from: Date;
  until: Date;
}

const PERIOD_DAYS: Record<RotationKind, number> = { daily: 1, weekly: 7 };

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

function handoverAt(date: DateTime, hhmm: string): DateTime {
  const [h, m] = hhmm.split(":").map(Number);
  // A hand-over inside a spring-forward gap moves to the first valid instant after it.
  return date.set({ hour: h!, minute: m!, second: 0, millisecond: 0 });
}

/** The rotation member holding the level at `at`, or null before the rotation starts. */
export function resolveRotation(rotation: Rotation, timezone: string, at: Date): LevelAssignment | null {
  if (rotation.members.length === 0) return null;
  const local = DateTime.fromJSDate(at, { zone: timezone });
  const start = DateTime.fromISO(rotation.startDate, { zone: timezone }).startOf("day");
  // Latest daily hand-over at or before `at`.
  let boundaryDay = local.startOf("day");
  if (handoverAt(boundaryDay, rotation.handoverTime) > local) boundaryDay = boundaryDay.minus({ days: 1 });
  const daysSinceStart = Math.round(boundaryDay.diff(start, "days").days);
  if (daysSinceStart < 0) return null;
  const period = PERIOD_DAYS[rotation.kind];
  const index = Math.floor(daysSinceStart / period);
  const from = handoverAt(start.plus({ days: index * period }), rotation.handoverTime);
  const until = handoverAt(start.plus({ days: (index + 1) * period }), rotation.handoverTime);
  return {
    level: rotation.level,
    userId: rotation.members[index % rotation.members.length]!,
    source: "rotation",
    from: from.toJSDate(),
    until: until.toJSDate(),
  };
}

/** Every level of the service at `at`, in level order; an explicit shift beats the rotation. */
export function resolveOnCall(schedule: ServiceSchedule, at: Date): LevelAssignment[] {
  const t = at.getTime();
  const levels = [...schedule.rotations].sort((a, b) => a.levelOrder - b.levelOrder);
  const seen = new Set(levels.map((r) => r.level));
  const shiftOnlyLevels = [...new Set(schedule.shifts.map((s) => s.level))].filter((l) => !seen.has(l));
  const result: LevelAssignment[] = [];
  for (const level of [...levels.map((r) => r.level), ...shiftOnlyLevels]) {
    const shift = schedule.shifts
      .filter((s) => s.level === level && s.startsAt.getTime() <= t && t < s.endsAt.getTime())
      .sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime())[0];
    if (shift) {
      result.push({ level, userId: shift.userId, source: "shift", from: shift.startsAt, until: shift.endsAt });
      continue;
    }
    const rotation = levels.find((r) => r.level === level);
    const assigned = rotation ? resolveRotation(rotation, schedule.timezone, at) : null;
    if (assigned) result.push(assigned);
  }
  return result;
}
