import type { MyHandoffsResponse } from "../../appservice/shared/handoffApi.js";
import { formatDuration, formatTime } from "../lib/format.js";
import { roomLink } from "../lib/matrixTo.js";

/**
 * The viewer's open tasks across handoffs. Their text lives in the encrypted item in each handoff
 * room, so this list says where and when, and links there.
 */
export function MyTasks({ mine, now }: { mine: MyHandoffsResponse; now: number }) {
  const patientOf = (handoffId: string, entryId: string) =>
    [...mine.active, ...mine.recent].find((h) => h.id === handoffId)?.entries.find((e) => e.entry_id === entryId)?.number;
  return (
    <section aria-label="My tasks">
      <h2>My open tasks ({mine.tasks.length})</h2>
      {mine.tasks.length === 0 && <p class="muted">No open tasks.</p>}
      <ul class="plain">
        {mine.tasks.map((t) => {
          const patient = patientOf(t.handoff_id, t.entry_id);
          return (
            <li key={`${t.handoff_id}/${t.task_id}`}>
              Handoff #{t.handoff_number}
              {patient !== undefined && `, patient ${patient}`}
              {t.due_ts !== null && (
                <>
                  {" "}
                  · due {formatTime(t.due_ts, now)} {t.due_ts < now && <strong class="badge overdue">overdue by {formatDuration((now - t.due_ts) / 1000)}</strong>}
                </>
              )}
              {t.transferred_from && <span class="muted"> · passed on from {t.transferred_from}</span>}{" "}
              <a href={roomLink(t.room_id)} target="_blank" rel="noopener noreferrer">
                Open the handoff room
              </a>{" "}
              <span class="muted">to read the task.</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
