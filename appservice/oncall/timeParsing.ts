import { DateTime } from "luxon";

/**
 * Date-times typed by people: `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD HH:MM` (local to the given zone),
 * or a full ISO 8601 instant with an offset or Z. A bare date is local midnight. Returns null
 * for anything else, and for local times that do not exist (inside a spring-forward gap).
 */
export function parseDateTime(text: string, zone: string): DateTime | null {
  const t = text.trim();
  const local = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?$/.exec(t);
  if (local) {
    const d = DateTime.fromISO(local[2] ? `${local[1]}T${local[2]}` : local[1]!, { zone });
    if (!d.isValid) return null;
    // Luxon moves a nonexistent local time forward; a person typing it meant something else.
    if (local[2] && d.toFormat("HH:mm") !== local[2]) return null;
    return d;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const d = DateTime.fromISO(t, { setZone: true });
    return d.isValid ? d.setZone(zone) : null;
  }
  return null;
}

export const DATE_TIME_HINT = "a date-time such as 2026-03-29T08:00 or 2026-03-29 08:00 (local time), or ISO 8601 with an offset";
