import type { IRoomEvent } from "matrix-widget-api";
import { useEffect, useMemo } from "preact/hooks";
import { useFeedVersion } from "../lib/hooks.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { ConsultApp, type ConsultAppProps } from "./ConsultApp.js";
import { readConsultRoom } from "./roomData.js";

export interface ConsultWidgetProps extends Omit<ConsultAppProps, "consult" | "request" | "report"> {
  feed: RoomFeed;
  /** The report events that refer to the request event (its m.reference relations), read from the homeserver. */
  reportsFor?: (requestEventId: string) => Promise<IRoomEvent[]>;
  /** Reads the room's request events again from the client. */
  rereadRequests?: () => Promise<IRoomEvent[]>;
  /** Waits between those re-reads, in ms; the last one repeats. */
  rereadAfterMs?: readonly number[];
}

const REREAD_AFTER_MS = [500, 1000, 2000, 4000, 8000];
/** Long enough for a key that is on its way; after that, the widget says the request is not loaded. */
const REREAD_FOR_MS = 120_000;

/** Keeps the app current with the room: every state push or new event re-reads the feed. */
export function ConsultWidget({ feed, reportsFor, rereadRequests, rereadAfterMs = REREAD_AFTER_MS, ...rest }: ConsultWidgetProps) {
  const version = useFeedVersion(feed);
  const data = useMemo(() => readConsultRoom(feed), [feed, version]);
  // A client whose sync was gappy (a burst while it was busy) has dropped older events from its
  // timeline, and a widget reads only what its client holds. The state names the request, and the
  // report refers to it, so the report is fetched through that relation instead.
  const requestEventId = data.consult?.status === "completed" && !data.report ? (data.consult.request_event_id ?? null) : null;
  useEffect(() => {
    if (!requestEventId || !reportsFor) return;
    reportsFor(requestEventId).then(
      (events) => feed.addEvents(events),
      (err: unknown) => console.warn(`Rounds: could not read the report's relations (${(err as Error).message})`),
    );
  }, [requestEventId, reportsFor, feed]);
  // The request read at start-up may still have been waiting for its key: the client decrypts it
  // later, but a widget is given only events newer than it has seen. So it reads again, backing off.
  const missingRequest = data.consult !== null && data.request === null;
  useEffect(() => {
    if (!missingRequest || !rereadRequests) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    const next = (attempt: number) => {
      if (stopped || Date.now() - started > REREAD_FOR_MS) return;
      timer = setTimeout(() => {
        rereadRequests().then(
          (events) => {
            if (stopped) return;
            feed.addEvents(events);
            next(attempt + 1);
          },
          (err: unknown) => {
            console.warn(`Rounds: could not read the request again (${(err as Error).message})`);
            next(attempt + 1);
          },
        );
      }, rereadAfterMs[Math.min(attempt, rereadAfterMs.length - 1)]);
    };
    next(0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [missingRequest, rereadRequests, feed, rereadAfterMs]);
  return <ConsultApp {...rest} {...data} />;
}
