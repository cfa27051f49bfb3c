import { useState } from "preact/hooks";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ErrorNote, Progress, useAction } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";

interface Props extends ActionProps {
  entry: HandoffEntryView;
  /** Null at the top (or bottom) of the list, where the patient cannot move that way. */
  onMoveUp: (() => void) | null;
  onMoveDown: (() => void) | null;
  /** Null while the item's content is not loaded: there is nothing to edit from. */
  onEdit: (() => void) | null;
  disabled: boolean;
}

/** The outgoing clinician's controls for one patient: order, edit, and remove (after a confirmation, and only before the read-back). */
export function EntryControls({ api, roomId, handoff, onView, entry, onMoveUp, onMoveDown, onEdit, disabled }: Props) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const busy = disabled || action.busy !== null;
  const remove = () =>
    void action.run("Removing…", async () => {
      onView((await api.removeItem(handoff.id, entry.entry_id, { room_id: roomId })).handoff);
      setConfirming(false);
    });
  return (
    <div class="entry-controls">
      <div class="buttons">
        <button type="button" disabled={busy || !onMoveUp} onClick={onMoveUp ?? undefined}>
          Move up
        </button>
        <button type="button" disabled={busy || !onMoveDown} onClick={onMoveDown ?? undefined}>
          Move down
        </button>
        <button type="button" disabled={busy || !onEdit} onClick={onEdit ?? undefined}>
          Edit
        </button>
        {/* A patient read back has been taken over: removing them then is rare enough for the bot command. */}
        {!confirming && !entry.read_back && (
          <button type="button" class="danger" disabled={busy} onClick={() => setConfirming(true)}>
            Remove
          </button>
        )}
      </div>
      {confirming && (
        <div class="buttons" role="group" aria-label={`Remove patient ${entry.number}?`}>
          <span>Remove patient {entry.number} from this handoff?</span>
          <button type="button" class="danger" disabled={busy} onClick={remove}>
            Yes, remove
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
            Keep
          </button>
        </div>
      )}
      <Progress text={action.busy} />
      <ErrorNote message={action.error} />
    </div>
  );
}
