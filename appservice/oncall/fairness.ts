import { DateTime } from "luxon";
import { timeline, type Absence, type ServiceSchedule } from "./schedule.js";

/**
 * How on-call load was shared over a period, per person across every service and level:
 * total hours, night hours (22:00-07:00 local to the service), weekend hours (Saturday and
 * Sunday local), hours on listed holidays (local dates), and the number of shifts (contiguous
 * assignments, as in the timeline and the calendar export).
 */
export interface FairnessRow {
  userId: string;
  hours: number;
  nightHours: number;
  weekendHours: number;
  holidayHours: number;
  shifts: number;
}

const NIGHT_START = 22;
const NIGHT_END = 7;
const round2 = (x: number) => Math.round(x * 100) / 100;

export function fairnessReport(schedules: ServiceSchedule[], absences: Absence[], holidays: string[], from: Date, to: Date): FairnessRow[] {
  const rows = new Map<string, FairnessRow>();
  const holidaySet = new Set(holidays);
  for (const s of schedules) {
    for (const iv of timeline(s, absences, from, to)) {
      if (!iv.userId) continue;
      const row = rows.get(iv.userId) ?? { userId: iv.userId, hours: 0, nightHours: 0, weekendHours: 0, holidayHours: 0, shifts: 0 };
      rows.set(iv.userId, row);
      row.shifts++;
      // Walk the interval in pieces that never cross local midnight, 07:00 or 22:00.
      let t = DateTime.fromJSDate(iv.from, { zone: s.timezone });
      const end = DateTime.fromJSDate(iv.until, { zone: s.timezone });
      while (t < end) {
        const day = t.startOf("day");
        const cuts = [day.set({ hour: NIGHT_END }), day.set({ hour: NIGHT_START }), day.plus({ days: 1 })].filter((c) => c > t);
        const next = DateTime.min(end, ...cuts);
        const h = next.diff(t, "hours").hours;
        row.hours += h;
        if (t.hour >= NIGHT_START || t.hour < NIGHT_END) row.nightHours += h;
        if (t.weekday >= 6) row.weekendHours += h;
        if (holidaySet.has(t.toISODate()!)) row.holidayHours += h;
        t = next;
      }
    }
  }
  return [...rows.values()]
    .map((r) => ({ ...r, hours: round2(r.hours), nightHours: round2(r.nightHours), weekendHours: round2(r.weekendHours), holidayHours: round2(r.holidayHours) }))
    .sort((a, b) => b.hours - a.hours || a.userId.localeCompare(b.userId));
}
