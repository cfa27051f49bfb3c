import ical from "ical-generator";

/**
 * iCalendar export of on-call assignments, one VEVENT per contiguous assignment. Times are UTC
 * instants, so every calendar client places them right across DST changes. Summaries name the
 * service and level only: no patient data ever reaches a calendar.
 */
export interface CalendarShift {
  serviceId: string;
  serviceName: string;
  level: string;
  userId: string;
  from: Date;
  until: Date;
}

export function shiftSummary(s: { serviceName: string; level: string }): string {
  return `On call: ${s.serviceName} (${s.level})`;
}

export function calendarFor(name: string, shifts: CalendarShift[], domain = "rounds"): string {
  const cal = ical({ name, prodId: { company: "Rounds", product: "on-call", language: "EN" } });
  for (const s of shifts) {
    cal.createEvent({
      id: `${s.serviceId}-${s.level}-${s.from.getTime()}-${encodeURIComponent(s.userId)}@${domain}`,
      start: s.from,
      end: s.until,
      stamp: s.from,
      summary: shiftSummary(s),
      description: `${s.userId} holds ${s.level} for ${s.serviceName}.`,
    });
  }
  return cal.toString();
}
