import { ErrorNote } from "../lib/forms.js";
import type { HandoffApi } from "../lib/handoffApi.js";
import { LastUpdated, useLive } from "../lib/live.js";
import { HandoffItem } from "./HandoffItem.js";
import { MyTasks } from "./MyTasks.js";

/** The clinician's active and recent handoffs and the tasks they own, kept current (useLive). */
export function MyHandoffs({ api, viewer, refreshKey = 0 }: { api: Pick<HandoffApi, "mine">; viewer: string; refreshKey?: number }) {
  const live = useLive(() => api.mine(), [api, refreshKey]);
  const mine = live.data;
  const error = mine ? null : live.error;
  const loadedAt = live.updatedAt ?? Date.now();

  return (
    <div>
      <LastUpdated live={live} />
      <ErrorNote message={error} />
      {!mine && !error && (
        <p class="muted" role="status">
          Loading your handoffs…
        </p>
      )}
      {mine && (
        <>
          <section aria-label="Active handoffs">
            <h2>Active ({mine.active.length})</h2>
            {mine.active.length === 0 && <p class="muted">No handoff in progress.</p>}
            <ul class="plain">
              {mine.active.map((h) => (
                <HandoffItem key={h.id} handoff={h} viewer={viewer} now={loadedAt} />
              ))}
            </ul>
          </section>
          <MyTasks mine={mine} now={loadedAt} />
          <section aria-label="Recent handoffs">
            <h2>Recent</h2>
            {mine.recent.length === 0 && <p class="muted">No past handoffs.</p>}
            <ul class="plain">
              {mine.recent.map((h) => (
                <HandoffItem key={h.id} handoff={h} viewer={viewer} now={loadedAt} />
              ))}
            </ul>
          </section>
        </>
      )}
    </div>
  );
}
