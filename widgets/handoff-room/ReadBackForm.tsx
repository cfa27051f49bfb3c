import { useState } from "preact/hooks";
import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ActionRow, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import { reference, type ActionProps } from "./actionProps.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { validators } from "../lib/validators.js";

/**
 * The incoming clinician's read-back of one patient, in their own words: closed-loop
 * communication. It names the item version it reads back, so a later edit needs a new one.
 */
export function ReadBackForm({ api, roomId, handoff, room, onView, entry }: ActionProps & { entry: HandoffEntryView }) {
  const [summary, setSummary] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();
  // A read-back of an earlier version no longer counts.
  const stale = entry.readback_event_id !== null && !entry.read_back;

  const submit = (e: Event) => {
    e.preventDefault();
    const parsed = validators().HandoffReadBackContentSchema.safeParse({
      handoff_id: handoff.id,
      entry_id: entry.entry_id,
      item_event_id: entry.item_event_id,
      summary,
      ...reference(entry.item_event_id),
    });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    setErrors({});
    const content = parsed.data as Record<string, unknown>;
    void action.run("Sending your encrypted read-back…", async (step) => {
      const eventId = await once.send(content, () => room.send(HandoffEventType.ReadBack, content));
      step("Recording the read-back…");
      onView((await api.readBacks(handoff.id, { room_id: roomId, event_id: eventId })).handoff);
      once.done();
      setSummary("");
    });
  };

  return (
    <form aria-label={`Read back patient ${entry.number}`} onSubmit={submit} noValidate>
      {stale && <p class="warn-note">This patient was edited after your read-back. Read it back again.</p>}
      <TextField
        id={`readback-${entry.entry_id}`}
        label="Read back in your own words"
        hint="Summarise the patient and what you will do, so the outgoing clinician can confirm you heard it right."
        rows={3}
        value={summary}
        onValue={setSummary}
        error={errors.summary}
        disabled={action.busy !== null}
      />
      <ActionRow label="Send read-back" busy={action.busy} error={action.error} />
    </form>
  );
}
