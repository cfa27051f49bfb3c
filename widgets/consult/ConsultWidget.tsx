import { useMemo } from "preact/hooks";
import { useFeedVersion } from "../lib/hooks.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { ConsultApp, type ConsultAppProps } from "./ConsultApp.js";
import { readConsultRoom } from "./roomData.js";

/** Keeps the app current with the room: every state push or new event re-reads the feed. */
export function ConsultWidget({ feed, ...rest }: Omit<ConsultAppProps, "consult" | "request" | "report"> & { feed: RoomFeed }) {
  const version = useFeedVersion(feed);
  const data = useMemo(() => readConsultRoom(feed), [feed, version]);
  return <ConsultApp {...rest} {...data} />;
}
