import { useEffect, useState } from "preact/hooks";
import type { MyHandoffsResponse } from "../../appservice/shared/handoffApi.js";
import { ErrorNote, errorText } from "../lib/forms.js";
import type { HandoffApi } from "../lib/handoffApi.js";
import { HandoffItem } from "./HandoffItem.js";
import { MyTasks } from "./MyTasks.js";

/** The clinician's active and recent handoffs and the tasks they own, refreshed every minute. */
export function MyHandoffs({ api, viewer, refreshKey = 0 }: { api: Pick<HandoffApi, "mine">; viewer: string; refreshKey?: number }) {
  const [mine, setMine] = useState<MyHandoffsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState(() => Date.now());

  const load = () => {
    api
      .mine()
      .then((m) => {
        setMine(m);
        setError(null);
        setLoadedAt(Date.now());
      })
      .catch((err: unknown) => setError(errorText(err)));
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, [api, refreshKey]);

  return (
    <div>
      <div class="buttons">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
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
