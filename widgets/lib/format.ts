/** Display helpers: short, unambiguous times and sizes for busy clinicians. */

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  const days = `${d} ${d === 1 ? "day" : "days"}`;
  return h % 24 ? `${days} ${h % 24} h` : days;
}

/** A duration given in minutes, in words: 45 → "45 min", 240 → "4 h", 2880 → "2 days". */
export function formatMinutes(minutes: number): string {
  return formatDuration(minutes * 60);
}

export function formatOptionalDuration(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "—" : formatDuration(seconds);
}

/** "in 12 min" / "12 min ago", against `now`. */
export function formatRelative(ts: number, now: number): string {
  const d = formatDuration(Math.abs(ts - now) / 1000);
  return ts >= now ? `in ${d}` : `${d} ago`;
}

/**
 * A time in the unit's or service's zone (`timeZone`), in the user's locale: "22:59", or
 * "3 Mar 22:59" on another day. The zone's name is added when it is not the device's own, so a
 * clinician working remotely is not misled ("22:59 GMT").
 */
export function formatTime(ts: number, now: number = Date.now(), timeZone?: string, locale?: string): string {
  const date = new Date(ts);
  const day = (d: Date) => d.toLocaleDateString("en-CA", { timeZone });
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const foreign = timeZone !== undefined && timeZone !== own;
  const time = date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone, ...(foreign ? { timeZoneName: "short" as const } : {}) });
  return day(new Date(now)) === day(date) ? time : `${date.toLocaleDateString(locale, { day: "numeric", month: "short", timeZone })} ${time}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Schema messages are lower-case fragments ("must be a Matrix user id"); beside a field they read as sentences. */
export function sentence(message: string): string {
  const s = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

