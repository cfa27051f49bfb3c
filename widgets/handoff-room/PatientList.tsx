import { useState } from "preact/hooks";
import { ErrorNote, Progress, useAction } from "../lib/forms.js";
import type { EntryProps } from "./actionProps.js";
import { ItemForm } from "./ItemForm.js";
import { PatientEntry } from "./PatientEntry.js";
import { isOpen, rolesOf } from "./roles.js";
import { anchorId } from "./outstanding.js";

/**
 * The patients in their handoff order. The outgoing clinician adds, edits and reorders them; one
 * form is open at a time, so the labels on the page stay unambiguous.
 */
export function PatientList(props: EntryProps) {
  const { api, roomId, handoff, viewer, onView } = props;
  // "new" for the add form, an entry id for that patient's edit form.
  const [editing, setEditing] = useState<string | null>(null);
  const order = useAction();
  // The server sends the entries in handoff order; a patient's number stays the same when moved.
  const entries = handoff.entries;
  const canPresent = rolesOf(handoff, viewer).outgoing && isOpen(handoff);

  const move = (from: number, to: number) => () => {
    const ids = entries.map((e) => e.entry_id);
    [ids[from], ids[to]] = [ids[to]!, ids[from]!];
    void order.run("Reordering…", async () => onView((await api.order(handoff.id, { room_id: roomId, entry_ids: ids })).handoff));
  };

  return (
    <section aria-label="Patients" id={anchorId.patients}>
      <h2>Patients ({entries.length})</h2>
      {entries.length === 0 && <p class="muted">No patient presented yet.</p>}
      {entries.map((entry, i) => (
        <PatientEntry
          key={entry.entry_id}
          {...props}
          entry={entry}
          editing={editing === entry.entry_id}
          onEditing={(on) => setEditing(on ? entry.entry_id : null)}
          onMoveUp={i > 0 ? move(i, i - 1) : null}
          onMoveDown={i < entries.length - 1 ? move(i, i + 1) : null}
          ordering={order.busy !== null}
        />
      ))}
      <Progress text={order.busy} />
      <ErrorNote message={order.error} />
      {canPresent &&
        (editing === "new" ? (
          <ItemForm {...props} onDone={() => setEditing(null)} />
        ) : (
          <div class="buttons">
            <button type="button" class="primary" onClick={() => setEditing("new")}>
              New patient
            </button>
          </div>
        ))}
    </section>
  );
}
