import { useEffect, useRef, useState } from "preact/hooks";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ActionMenu } from "../lib/ActionMenu.js";
import { ErrorNote, Progress, useAction } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";

interface Props extends ActionProps {
  entry: HandoffEntryView;
  /** The outgoing clinician's order and edit controls, or null for anyone else or a closed handoff. */
  arrange: {
    /** Null at the top (or bottom) of the list, where the patient cannot move that way. */
    onMoveUp: (() => void) | null;
    onMoveDown: (() => void) | null;
    /** Null while the item's content is not loaded: there is nothing to edit from. */
    onEdit: (() => void) | null;
  } | null;
  /** Opens the incident report below the card; null for a clinician not taking part. */
  onReportIncident: (() => void) | null;
  disabled: boolean;
}

/**
 * One patient's actions in one menu: order, edit, remove (after a confirmation, and only before
 * the read-back, since a patient read back has been taken over) and report an incident.
 */
export function EntryControls({ api, roomId, handoff, onView, entry, arrange, onReportIncident, disabled }: Props) {
  const [confirming, setConfirming] = useState(false);
  const keep = useRef<HTMLButtonElement>(null);
  const action = useAction();
  const busy = disabled || action.busy !== null;
  // The menu closes on a choice, so focus goes to the question it asked.
  useEffect(() => {
    if (confirming) keep.current?.focus();
  }, [confirming]);
  const remove = () =>
    void action.run("Removing…", async () => {
      onView((await api.removeItem(handoff.id, entry.entry_id, { room_id: roomId })).handoff);
      setConfirming(false);
    });
  return (
    <div class="entry-controls">
      <ActionMenu context={`for patient ${entry.number}`}>
        {arrange && (
          <>
            <button type="button" disabled={busy || !arrange.onEdit} onClick={arrange.onEdit ?? undefined}>
              Edit
            </button>
            <button type="button" disabled={busy || !arrange.onMoveUp} onClick={arrange.onMoveUp ?? undefined}>
              Move up
            </button>
            <button type="button" disabled={busy || !arrange.onMoveDown} onClick={arrange.onMoveDown ?? undefined}>
              Move down
            </button>
            {!entry.read_back && (
              <button type="button" class="danger" disabled={busy || confirming} onClick={() => setConfirming(true)}>
                Remove
              </button>
            )}
          </>
        )}
        {onReportIncident && (
          <button type="button" onClick={onReportIncident}>
            Report an incident
          </button>
        )}
      </ActionMenu>
      {confirming && (
        <div class="buttons" role="group" aria-label={`Remove patient ${entry.number}?`}>
          <span>Remove patient {entry.number} from this handoff?</span>
          <button type="button" class="danger" disabled={busy} onClick={remove}>
            Yes, remove
          </button>
          <button type="button" ref={keep} disabled={busy} onClick={() => setConfirming(false)}>
            Keep
          </button>
        </div>
      )}
      <Progress text={action.busy} />
      <ErrorNote message={action.error} />
    </div>
  );
}
