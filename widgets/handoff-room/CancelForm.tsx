import { useState } from "preact/hooks";
import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import { ActionRow, TextField, useAction, type FieldErrors } from "../lib/forms.js";
import { reference, type ActionProps } from "./actionProps.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { validators } from "../lib/validators.js";

/** Either participant cancels an open handoff; a reason, if given, is free text and so an encrypted note. */
export function CancelForm({ api, roomId, handoff, room, onView }: ActionProps) {
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();

  const cancel = (e: Event) => {
    e.preventDefault();
    const note = reason.trim() ? validators().HandoffNoteContentSchema.safeParse({ handoff_id: handoff.id, kind: "cancel", text: reason, ...reference(handoff.anchor_event_id) }) : null;
    if (note && !note.success) return setErrors({ reason: "Keep the reason under 4000 characters." });
    setErrors({});
    const noteContent = note?.data as Record<string, unknown> | undefined;
    void action.run(noteContent ? "Sending the encrypted reason…" : "Cancelling…", async (step) => {
      const noteEventId = noteContent ? await once.send(noteContent, () => room.send(HandoffEventType.Note, noteContent)) : undefined;
      step("Cancelling…");
      onView((await api.cancel(handoff.id, { room_id: roomId, ...(noteEventId ? { note_event_id: noteEventId } : {}) })).handoff);
      once.done();
    });
  };

  return (
    <form aria-label="Cancel the handoff" onSubmit={cancel} noValidate>
      <h2>Cancel the handoff</h2>
      <p>Cancelling ends this handoff for both of you: nothing is signed off, and the patients are not handed over.</p>
      <TextField id="cancel-reason" label="Reason for cancelling (optional)" rows={2} value={reason} onValue={setReason} error={errors.reason} disabled={action.busy !== null} />
      <ActionRow label="Cancel handoff" kind="danger" busy={action.busy} error={action.error} />
    </form>
  );
}
