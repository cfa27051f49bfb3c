import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import { formatOptionalDuration } from "../lib/format.js";
import type { HandoffContent } from "./roomData.js";
import { TaskLine } from "./TaskLine.js";
import { Person } from "../lib/people.js";
import { useFormatTime } from "../lib/zone.js";
/** What a completed or cancelled handoff left behind: duration, sign-offs, overrides, and the tasks passed on. */
export function ClosedView({ handoff, content, now }: { handoff: HandoffView; content: HandoffContent; now: number }) {
  const time = useFormatTime();
  if (handoff.status === "cancelled") {
    const reason = [...content.notes.values()].filter((n) => n.kind === "cancel").at(-1);
    return (
      <section aria-label="Cancelled" class="panel">
        <h2>Cancelled</h2>
        <p>
          This handoff was cancelled{handoff.cancelled_ts !== null && ` at ${time(handoff.cancelled_ts, now)}`}.
          {reason && ` Reason: ${reason.text}`}
        </p>
      </section>
    );
  }
  if (handoff.status !== "completed") return null;
  const transferred = handoff.tasks.filter((t) => t.transferred_from !== null && t.status === "open");
  const overrides = handoff.sign_offs.filter((s) => s.override_event_id);
  return (
    <section aria-label="Completed" class="panel">
      <h2>Completed</h2>
      <p>
        Completed{handoff.completed_ts !== null && ` at ${time(handoff.completed_ts, now)}`} after {formatOptionalDuration(handoff.duration_s)}.
      </p>
      <ul class="plain">
        {handoff.sign_offs.map((s) => (
          <li key={s.user_id}>
            <Person id={s.user_id} /> signed off at {time(s.ts, now)}
            {s.override_event_id ? " (override)" : ""}
          </li>
        ))}
      </ul>
      {overrides.length > 0 && <p class="warn-note">Signed off with {overrides.length === 1 ? "an override" : `${overrides.length} overrides`}; the reasons are above.</p>}
      {transferred.length > 0 && (
        <>
          <h3>
            Tasks now with <Person id={handoff.incoming} />
          </h3>
          <ul class="tasks">
            {transferred.map((t) => {
              const task = content.items.get(t.item_event_id)?.tasks.find((x) => x.id === t.task_id);
              const entry = handoff.entries.find((e) => e.entry_id === t.entry_id);
              return task ? (
                <TaskLine key={t.task_id} task={task} view={t} outgoing={handoff.outgoing} now={now} />
              ) : (
                <li key={t.task_id}>A task for patient {entry?.number ?? "?"} (its text has not loaded)</li>
              );
            })}
          </ul>
        </>
      )}
      {handoff.report_event_id && <p>The handoff report was posted in this room.</p>}
    </section>
  );
}
