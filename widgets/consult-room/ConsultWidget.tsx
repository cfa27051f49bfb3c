import type { IRoomEvent } from "matrix-widget-api";
import { useEffect, useMemo } from "preact/hooks";
import { useFeedVersion } from "../lib/hooks.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { useRereadWhile } from "../lib/useRereadWhile.js";
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

/** Keeps the app current with the room: every state push or new event re-reads the feed. */
export function ConsultWidget({ feed, reportsFor, rereadRequests, rereadAfterMs, ...rest }: ConsultWidgetProps) {
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
  // The request read at start-up may still have been waiting for its key.
  useRereadWhile(data.consult !== null && data.request === null, rereadRequests, feed, rereadAfterMs);
  return <ConsultApp {...rest} {...data} />;
}
