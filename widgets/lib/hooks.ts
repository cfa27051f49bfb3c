import { useEffect, useState } from "preact/hooks";
import type { RoomFeed } from "./roomFeed.js";

/** A counter that moves whenever the feed changes: a dependency for selectors over it. */
export function useFeedVersion(feed: RoomFeed): number {
  const [version, setVersion] = useState(() => feed.version);
  useEffect(() => {
    const unsubscribe = feed.subscribe(() => setVersion(feed.version));
    // A change between the render and this subscription would otherwise go unseen until the next
    // one: the room's state pushed by Element just as the app first renders, for example.
    setVersion(feed.version);
    return unsubscribe;
  }, [feed]);
  return version;
}

/** The current time, refreshed every `everyMs`, so deadlines count down on screen. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
