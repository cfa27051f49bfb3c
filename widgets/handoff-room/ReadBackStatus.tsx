import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { useFormatTime } from "../lib/zone.js";
import type { HandoffContent } from "./roomData.js";
import { Person } from "../lib/people.js";

/** Whether the current version is read back, and the read-back itself, for both participants to check. */
export function ReadBackStatus({ entry, content, now }: { entry: HandoffEntryView; content: HandoffContent; now: number }) {
  const time = useFormatTime();
  const readBack = entry.readback_event_id ? content.readBacks.get(entry.readback_event_id) : undefined;
  const stale = entry.readback_event_id !== null && !entry.read_back;
  return (
    <div class="readback">
      {entry.read_back ? (
        <span class="badge done">Read back</span>
      ) : stale ? (
        <span class="badge pending">Edited since the read-back</span>
      ) : (
        <span class="badge pending">Not read back yet</span>
      )}
      {entry.readback_event_id && (
        <p>
          <span class="muted">
            {stale ? "Read-back of an earlier version" : "Read-back"} by {entry.readback_by && <Person id={entry.readback_by} />}
            {entry.readback_ts !== null && ` at ${time(entry.readback_ts, now)}`}:
          </span>{" "}
          <span class="prose">{readBack ? readBack.summary : "Element has not loaded the read-back yet."}</span>
        </p>
      )}
    </div>
  );
}
