import { ErrorNote, Progress, useAction } from "../lib/forms.js";
import { useFormatTime } from "../lib/zone.js";
import type { ActionProps } from "./actionProps.js";
import { isOpen } from "./roles.js";
import { anchorId } from "./outstanding.js";
import { Person } from "../lib/people.js";

/** The unit's handoff checklist; either participant ticks an item, and the server records who did. */
export function Checklist({ api, roomId, handoff, onView, canTick, now }: ActionProps & { canTick: boolean; now: number }) {
  const time = useFormatTime();
  const action = useAction();
  if (handoff.checklist.length === 0) return null;
  const enabled = canTick && isOpen(handoff) && action.busy === null;
  const toggle = (index: number, done: boolean) =>
    void action.run("Saving the checklist…", async () => onView((await api.checklist(handoff.id, { room_id: roomId, index, done })).handoff));
  return (
    <section aria-label="Checklist" id={anchorId.checklist}>
      <h2>
        Checklist ({handoff.checklist.filter((c) => c.done).length} of {handoff.checklist.length})
      </h2>
      <ul class="plain checklist">
        {handoff.checklist.map((c, i) => (
          <li key={i}>
            <input
              type="checkbox"
              id={`checklist-${i}`}
              checked={c.done}
              disabled={!enabled}
              // Shown ticked at once; the server's answer (or a refusal's re-render) sets it for good.
              onChange={(e) => toggle(i, e.currentTarget.checked)}
            />{" "}
            <label for={`checklist-${i}`}>{c.label}</label>
            {c.done && c.by && (
              <span class="muted">
                {" "}
                · <Person id={c.by} />
                {c.ts !== null && ` at ${time(c.ts, now)}`}
              </span>
            )}
          </li>
        ))}
      </ul>
      <Progress text={action.busy} />
      <ErrorNote message={action.error} />
    </section>
  );
}
