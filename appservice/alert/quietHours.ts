import { DateTime } from "luxon";
import { HH_MM_PATTERN } from "../shared/events/alertTerms.js";

/** A daily quiet window in a time zone, e.g. 22:00–07:00 Europe/London (it may cross midnight). */
export interface QuietHours {
  from: string;
  to: string;
  zone: string;
}

export const HH_MM = HH_MM_PATTERN;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Whether `at` falls in the window (from inclusive, to exclusive). */
export function isQuiet(q: QuietHours, at: Date): boolean {
  const local = DateTime.fromJSDate(at, { zone: q.zone });
  const t = local.hour * 60 + local.minute;
  const [from, to] = [minutesOf(q.from), minutesOf(q.to)];
  if (from === to) return false;
  return from < to ? t >= from && t < to : t >= from || t < to;
}

/** When the window that `at` is in ends (the next `to` in its zone); `at` itself when not quiet. */
export function quietEnd(q: QuietHours, at: Date): Date {
  if (!isQuiet(q, at)) return at;
  const local = DateTime.fromJSDate(at, { zone: q.zone });
  let end = local.set({ hour: Number(q.to.slice(0, 2)), minute: Number(q.to.slice(3)), second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 });
  return end.toJSDate();
}
