import { useMemo } from "preact/hooks";
import { useFeedVersion } from "../lib/hooks.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { HandoffApp, type HandoffAppProps } from "./HandoffApp.js";
import { readHandoffRoom } from "./roomData.js";

/** Keeps the app current with the room: every state push or new event re-reads the feed. */
export function HandoffWidget({ feed, ...rest }: Omit<HandoffAppProps, "handoff" | "stateEventId" | "content"> & { feed: RoomFeed }) {
  const version = useFeedVersion(feed);
  const data = useMemo(() => readHandoffRoom(feed), [feed, version]);
  return <HandoffApp {...rest} {...data} feed={feed} />;
}
