import type { IRoomEvent } from "matrix-widget-api";
import { useEffect } from "preact/hooks";
import type { RoomFeed } from "./roomFeed.js";

export const REREAD_AFTER_MS: readonly number[] = [500, 1000, 2000, 4000, 8000];
/** Long enough for a key that is on its way; after that the widget says what it could not load. */
const REREAD_FOR_MS = 120_000;

/**
 * While an event the room should hold is missing, reads it again into the feed, backing off.
 * An event still waiting for its key when the widget read the room is decrypted later, but a
 * widget is given only events newer than it has seen (as Element does), so it must ask again.
 * `afterMs`: the waits between reads; the last one repeats.
 */
export function useRereadWhile(missing: boolean, reread: (() => Promise<IRoomEvent[]>) | undefined, feed: RoomFeed, afterMs: readonly number[] = REREAD_AFTER_MS): void {
  useEffect(() => {
    if (!missing || !reread) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    const next = (attempt: number) => {
      if (stopped || Date.now() - started > REREAD_FOR_MS) return;
      timer = setTimeout(() => {
        reread().then(
          (events) => {
            if (stopped) return;
            feed.addEvents(events);
            next(attempt + 1);
          },
          (err: unknown) => {
            console.warn(`Rounds: could not read the room again (${(err as Error).message})`);
            next(attempt + 1);
          },
        );
      }, afterMs[Math.min(attempt, afterMs.length - 1)]);
    };
    next(0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [missing, reread, feed, afterMs]);
}
