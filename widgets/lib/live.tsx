import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "./forms.js";
import { formatTime } from "./format.js";

/** How often an open dashboard reads again: the Rounds API is cheap, and a page is minutes old at worst this way. */
export const LIVE_EVERY_MS = 15_000;

export interface Live<T> {
  data: T | null;
  /** When the data was last read successfully. */
  updatedAt: number | null;
  /** Why the last read failed, while it keeps failing; the data shown is then from updatedAt. */
  error: string | null;
}

/**
 * Data that stays current without a Refresh button: read now, again every `everyMs` while the
 * widget is visible, and at once when it becomes visible or the device comes back online. A
 * failed read keeps what was shown and says since when it is.
 */
export function useLive<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = LIVE_EVERY_MS): Live<T> {
  const [state, setState] = useState<Live<T>>({ data: null, updatedAt: null, error: null });
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    const read = () => {
      if (stopped || inFlight) return;
      inFlight = true;
      loadRef.current().then(
        (data) => {
          inFlight = false;
          if (!stopped) setState({ data, updatedAt: Date.now(), error: null });
        },
        (err: unknown) => {
          inFlight = false;
          if (!stopped) setState((s) => ({ ...s, error: errorText(err) }));
        },
      );
    };
    const visible = () => document.visibilityState !== "hidden";
    const onVisible = () => visible() && read();
    read();
    const timer = setInterval(() => visible() && read(), everyMs);
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", read);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", read);
    };
  }, [...deps, everyMs]);
  return state;
}

/** "Updated 10:42", or, while reads fail, since when the page is stale and why. */
export function LastUpdated({ live, everyMs = LIVE_EVERY_MS }: { live: Live<unknown>; everyMs?: number }) {
  if (live.updatedAt === null) return null;
  const at = formatTime(live.updatedAt);
  return live.error ? (
    <p class="stale-note" role="status">
      Not updated since {at}: {live.error} Trying again every {Math.round(everyMs / 1000)} s.
    </p>
  ) : (
    <p class="muted updated" aria-live="off">
      Updated {at}
    </p>
  );
}
