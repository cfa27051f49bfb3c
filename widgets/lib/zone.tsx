import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { formatTime } from "./format.js";

/**
 * The zone a widget's times are shown in: its unit's or its service's (an IANA name), provided by
 * the widget's app once it knows it; the device's own when unset.
 */
export const ZoneContext = createContext<string | undefined>(undefined);

/** The zone if the runtime knows it, else undefined (the device's): a bad name must not break a page. */
export function knownZone(zone: string | undefined): string | undefined {
  try {
    return zone ? Intl.DateTimeFormat(undefined, { timeZone: zone }).resolvedOptions().timeZone : undefined;
  } catch {
    return undefined;
  }
}

/** formatTime in the nearest ZoneContext's zone. */
export function useFormatTime(): (ts: number, now?: number) => string {
  const zone = useContext(ZoneContext);
  return (ts, now) => formatTime(ts, now, zone);
}
