import type { HandoffTask } from "../../appservice/shared/events/index.js";
import type { HandoffTaskView } from "../../appservice/shared/handoffApi.js";
import { formatDuration } from "../lib/format.js";
import { Person } from "../lib/people.js";
import { useFormatTime } from "../lib/zone.js";
/** A task with its owner and due time; the server's record, when there is one, says who owns it now. */
export function TaskLine({ task, view, outgoing, now }: { task: HandoffTask; view?: HandoffTaskView | undefined; outgoing: string; now: number }) {
  const time = useFormatTime();
  const owner = view?.owner ?? task.owner ?? outgoing;
  const due = view ? view.due_ts : (task.due_ts ?? null);
  const open = !view || view.status === "open";
  return (
    <li class={open ? "task" : "task closed"}>
      {task.text} <span class="muted">
        · owner <Person id={owner} />
      </span>
      {due !== null && (
        <>
          {" "}
          <span class="muted">· due {time(due, now)}</span>
          {open && due < now && <strong class="badge overdue">overdue by {formatDuration((now - due) / 1000)}</strong>}
        </>
      )}
      {view?.status === "done" && <span class="badge">Done</span>}
      {view?.status === "removed" && <span class="badge">Removed</span>}
      {view?.transferred_from && <span class="muted"> (passed on from {view.transferred_from})</span>}
    </li>
  );
}
