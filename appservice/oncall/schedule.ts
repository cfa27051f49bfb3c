import { DateTime, IANAZone } from "luxon";

/**
 * Pure on-call resolution: who holds each level of a service at an instant, and over a window.
 * Rotations hand over at a local wall-clock time in the service's time zone, so a shift spanning
 * a DST change is 23 or 25 hours long and the hand-over stays at, say, 08:00 local. Intervals
 * are [start, end): at the hand-over instant the incoming clinician is on call.
 *
 * A level has one or more layers (each a Rotation with the same level); a later layer beats an
 * earlier one where it is active. An override beats every layer. A layer's member who is absent
 * falls through to the next lower layer; if nothing covers, the level has a gap.
 */
export type RotationKind = "daily" | "weekly" | "custom";
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One layer of a level. */
export interface Rotation {
  level: string;
  levelOrder: number;
  kind: RotationKind;
  /** HH:MM local to the service; for custom, the first of handoverTimes. */
  handoverTime: string;
  /** custom only: several hand-overs a day, ascending; each shift goes to the next member. */
  handoverTimes?: string[];
  /** YYYY-MM-DD: the first hand-over happens on this local date at the first hand-over time. */
  startDate: string;
  members: string[];
  /** Only shifts starting (local) on these days are covered by this layer. */
  weekdays?: Weekday[];
}

export interface Override {
  id?: number;
  level: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  reason?: string | null;
}

export interface Absence {
  id?: number;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  label?: string | null;
}

export interface ServiceSchedule {
  id: string;
  name: string;
  timezone: string;
  /** Layers, in level order then layer order. */
  rotations: Rotation[];
  overrides: Override[];
}

export type AssignmentSource = "rotation" | "override";

export interface LevelAssignment {
  level: string;
  userId: string;
  source: AssignmentSource;
  from: Date;
  until: Date;
}

/** A piece of a level's timeline during which nothing changes; userId null is a gap. */
export interface TimelineInterval {
  serviceId: string;
  level: string;
  levelOrder: number;
  userId: string | null;
  source: AssignmentSource | null;
  from: Date;
  until: Date;
}

const PERIOD_DAYS: Record<RotationKind, number> = { daily: 1, weekly: 7, custom: 1 };

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

function handoverAt(date: DateTime, hhmm: string): DateTime {
  const [h, m] = hhmm.split(":").map(Number);
  // A hand-over inside a spring-forward gap moves to the first valid instant after it.
  return date.set({ hour: h!, minute: m!, second: 0, millisecond: 0 });
}

/** Shift arithmetic for one layer: shift i starts at a hand-over; members count active shifts only. */
class LayerClock {
  private readonly times: string[];
  private readonly period: number;
  private readonly startDay: DateTime;
  private readonly active: boolean[]; // by weekday 1..7 (index 0 unused)

  constructor(
    readonly layer: Rotation,
    readonly timezone: string,
  ) {
    this.times = layer.kind === "custom" && layer.handoverTimes?.length ? layer.handoverTimes : [layer.handoverTime];
    this.period = PERIOD_DAYS[layer.kind];
    this.startDay = DateTime.fromISO(layer.startDate, { zone: timezone }).startOf("day");
    this.active = [false, ...WEEKDAYS.map((d) => !layer.weekdays || layer.weekdays.includes(d))];
  }

  start(i: number): DateTime {
    const n = this.times.length;
    return handoverAt(this.startDay.plus({ days: Math.floor(i / n) * this.period }), this.times[i % n]!);
  }

  /** The index of the shift holding `at`, or null before the layer's first hand-over. */
  indexAt(at: Date): number | null {
    const local = DateTime.fromJSDate(at, { zone: this.timezone });
    const days = Math.round(local.startOf("day").diff(this.startDay, "days").days);
    const c0 = Math.floor(days / this.period);
    const n = this.times.length;
    for (let i = Math.max(0, (c0 + 2) * n - 1); i >= Math.max(0, (c0 - 1) * n); i--) {
      if (this.start(i).toMillis() <= at.getTime()) return i;
    }
    return null;
  }

  isActive(i: number): boolean {
    return this.active[this.start(i).weekday]!;
  }

  /** Active shifts before shift i: the member index, so a weekend layer alternates weekend by weekend. */
  private activeBefore(i: number): number {
    if (!this.layer.weekdays || this.period !== 1) return i;
    const n = this.times.length;
    const c = Math.floor(i / n);
    const perWeek = this.active.filter(Boolean).length;
    let days = Math.floor(c / 7) * perWeek;
    const w0 = this.startDay.weekday;
    for (let d = 0; d < c % 7; d++) if (this.active[((w0 - 1 + d) % 7) + 1]) days++;
    return days * n + (i % n);
  }

  member(i: number): string | null {
    if (this.layer.members.length === 0 || !this.isActive(i)) return null;
    return this.layer.members[this.activeBefore(i) % this.layer.members.length]!;
  }
}

export interface LayerShift {
  userId: string;
  from: Date;
  until: Date;
}

/** The active shifts of one layer that overlap [from, to). */
export function layerShifts(layer: Rotation, timezone: string, from: Date, to: Date): LayerShift[] {
  if (layer.members.length === 0) return [];
  const clock = new LayerClock(layer, timezone);
  const out: LayerShift[] = [];
  let i = clock.indexAt(from) ?? 0;
  for (let s = clock.start(i); s.toMillis() < to.getTime(); i++) {
    const next = clock.start(i + 1);
    const userId = clock.member(i);
    if (userId && next.toMillis() > from.getTime()) out.push({ userId, from: s.toJSDate(), until: next.toJSDate() });
    s = next;
  }
  return out;
}

/** The layer member holding the level at `at`, or null before the layer starts or on a day it skips. */
export function resolveRotation(rotation: Rotation, timezone: string, at: Date): LevelAssignment | null {
  if (rotation.members.length === 0) return null;
  const clock = new LayerClock(rotation, timezone);
  const i = clock.indexAt(at);
  if (i === null) return null;
  const userId = clock.member(i);
  if (!userId) return null;
  return { level: rotation.level, userId, source: "rotation", from: clock.start(i).toJSDate(), until: clock.start(i + 1).toJSDate() };
}

export interface LevelDef {
  level: string;
  levelOrder: number;
  layers: Rotation[];
}

/** Levels in order, each with its layers in precedence order (last wins); override-only levels last. */
export function levelsOf(schedule: ServiceSchedule): LevelDef[] {
  const byLevel = new Map<string, LevelDef>();
  for (const r of [...schedule.rotations].sort((a, b) => a.levelOrder - b.levelOrder)) {
    const def = byLevel.get(r.level) ?? { level: r.level, levelOrder: r.levelOrder, layers: [] };
    def.layers.push(r);
    byLevel.set(r.level, def);
  }
  let next = byLevel.size;
  for (const o of schedule.overrides) {
    if (!byLevel.has(o.level)) byLevel.set(o.level, { level: o.level, levelOrder: next++, layers: [] });
  }
  return [...byLevel.values()];
}

const overlaps = (aFrom: Date, aUntil: Date, bFrom: Date, bUntil: Date) => aFrom < bUntil && bFrom < aUntil;

export function isAbsent(absences: Absence[], userId: string, t: number): boolean {
  return absences.some((a) => a.userId === userId && a.startsAt.getTime() <= t && t < a.endsAt.getTime());
}

interface RawSegment {
  userId: string | null;
  source: AssignmentSource | null;
  /** Identity of what produced the segment (which override or which layer shift). */
  key: string;
  from: Date;
  until: Date;
}

/** Piecewise-constant segments of one level over [from, to), cut at every boundary that matters. */
function levelSegments(schedule: ServiceSchedule, def: LevelDef, absences: Absence[], from: Date, to: Date): RawSegment[] {
  const layers = def.layers.map((l) => layerShifts(l, schedule.timezone, from, to));
  const overrides = schedule.overrides.filter((o) => o.level === def.level && overlaps(o.startsAt, o.endsAt, from, to));
  const edges = new Set<number>([from.getTime(), to.getTime()]);
  const add = (d: Date) => {
    const t = d.getTime();
    if (t > from.getTime() && t < to.getTime()) edges.add(t);
  };
  for (const shifts of layers) for (const s of shifts) [s.from, s.until].forEach(add);
  for (const o of overrides) [o.startsAt, o.endsAt].forEach(add);
  for (const a of absences) [a.startsAt, a.endsAt].forEach(add);
  const points = [...edges].sort((a, b) => a - b);
  const out: RawSegment[] = [];
  for (let p = 0; p + 1 < points.length; p++) {
    const t = points[p]!;
    const { userId, source, key } = resolveSegment(layers, overrides, absences, t);
    out.push({ userId, source, key, from: new Date(t), until: new Date(points[p + 1]!) });
  }
  return out;
}

function resolveSegment(
  layers: LayerShift[][],
  overrides: Override[],
  absences: Absence[],
  t: number,
): Omit<RawSegment, "from" | "until"> & { bounds: { from: Date; until: Date } | null } {
  const cover = overrides
    .map((o, i) => ({ o, i }))
    .filter(({ o }) => o.startsAt.getTime() <= t && t < o.endsAt.getTime())
    .sort((a, b) => b.o.startsAt.getTime() - a.o.startsAt.getTime() || b.i - a.i)[0]?.o;
  // An override applies even for an absent clinician; conflict detection reports it.
  if (cover) {
    const key = `o:${cover.id ?? ""}:${cover.userId}:${cover.startsAt.getTime()}:${cover.endsAt.getTime()}`;
    return { userId: cover.userId, source: "override", key, bounds: { from: cover.startsAt, until: cover.endsAt } };
  }
  for (let l = layers.length - 1; l >= 0; l--) {
    const s = layers[l]!.find((x) => x.from.getTime() <= t && t < x.until.getTime());
    if (s && !isAbsent(absences, s.userId, t)) return { userId: s.userId, source: "rotation", key: `r:${l}:${s.from.getTime()}`, bounds: s };
  }
  return { userId: null, source: null, key: "gap", bounds: null };
}

/**
 * Every level's assignments over [from, to): contiguous intervals, one per change of who holds
 * the level (or of whether it is a rotation or an override), gaps included as userId null.
 */
export function timeline(schedule: ServiceSchedule, absences: Absence[], from: Date, to: Date): TimelineInterval[] {
  if (to <= from) return [];
  const out: TimelineInterval[] = [];
  for (const def of levelsOf(schedule)) {
    let cur: TimelineInterval | null = null;
    for (const seg of levelSegments(schedule, def, absences, from, to)) {
      if (cur && cur.userId === seg.userId && cur.source === seg.source) {
        cur.until = seg.until;
        continue;
      }
      cur = { serviceId: schedule.id, level: def.level, levelOrder: def.levelOrder, userId: seg.userId, source: seg.source, from: seg.from, until: seg.until };
      out.push(cur);
    }
  }
  return out;
}

/**
 * Every covered level of the service at `at`, in level order. from/until bound the shift or
 * override that produced the answer, cut short where an absence or override interrupts it.
 */
export function resolveOnCall(schedule: ServiceSchedule, at: Date, absences: Absence[] = []): LevelAssignment[] {
  const t = at.getTime();
  const result: LevelAssignment[] = [];
  for (const def of levelsOf(schedule)) {
    const layers = def.layers.map((l) => layerShifts(l, schedule.timezone, at, new Date(t + 1)));
    const overrides = schedule.overrides.filter((o) => o.level === def.level);
    const here = resolveSegment(layers, overrides, absences, t);
    if (!here.userId || !here.source || !here.bounds) continue;
    // The bounds of what produced the answer, then the segments inside them that keep it.
    const segs = levelSegments(schedule, def, absences, here.bounds.from, here.bounds.until);
    const idx = segs.findIndex((s) => s.from.getTime() <= t && t < s.until.getTime());
    let a = idx;
    let b = idx;
    while (a > 0 && segs[a - 1]!.key === here.key) a--;
    while (b + 1 < segs.length && segs[b + 1]!.key === here.key) b++;
    result.push({ level: def.level, userId: here.userId, source: here.source, from: segs[a]!.from, until: segs[b]!.until });
  }
  return result;
}
