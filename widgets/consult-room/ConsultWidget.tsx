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
}

/** Keeps the app current with the room: every state push or new event re-reads the feed. */
export function ConsultWidget({ feed, reportsFor, ...rest }: ConsultWidgetProps) {
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
  return <ConsultApp {...rest} {...data} />;
}
