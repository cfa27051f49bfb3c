import { useEffect, useState } from "preact/hooks";
import { DurationField } from "../lib/DurationField.js";
import { ErrorNote, Progress, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";
import { useReasonNote } from "./reasonNote.js";
import { validators } from "../lib/validators.js";

/** Accept (with the expected response time) or decline (with a reason) the consult asked of the viewer. */
export function CandidateActions(props: ActionProps) {
  const { api, roomId, consult, onView } = props;
  const [minutes, setMinutes] = useState<number | null>(null);
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const action = useAction();
  const note = useReasonNote(props, "decline");

  // Prefill with the service's default for this urgency; the specialist may change it.
  useEffect(() => {
    api
      .services()
      .then((s) => setMinutes((m) => m ?? s.expected_response_minutes[consult.urgency]))
      .catch(() => undefined);
  }, [api, consult.urgency]);

  const accept = (e: Event) => {
    e.preventDefault();
    const parsed = validators().AcceptBody.safeParse({ room_id: roomId, expected_minutes: minutes ?? undefined });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error, { expected_minutes: "Give a whole number, from 5 minutes to 7 days." }));
    setErrors({});
    void action.run("Accepting…", async () => onView((await api.accept(consult.id, parsed.data)).consult));
  };
  const decline = (e: Event) => {
    e.preventDefault();
    const refused = note.check(reason);
    if (refused) return setErrors(refused);
    setErrors({});
    void action.run("Sending the encrypted reason…", async (step) => {
      const eventId = await note.send(reason);
      step("Declining…");
      onView((await api.decline(consult.id, { room_id: roomId, reason_event_id: eventId })).consult);
    });
  };
  const busy = action.busy !== null;

  return (
    <section aria-label="Your response">
      <h2>You are asked to take this consult</h2>
      <form onSubmit={accept} noValidate>
        <DurationField
          id="accept-minutes"
          label="Expected response time"
          hint="When the requester can expect your answer."
          minutes={minutes}
          onMinutes={setMinutes}
          error={errors.expected_minutes}
          disabled={busy}
        />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            Accept
          </button>
        </div>
      </form>
      <form onSubmit={decline} noValidate>
        <TextField
          id="decline-reason"
          label="Reason for declining"
          hint="Sent encrypted to the requester; the next specialist is asked."
          rows={2}
          value={reason}
          onValue={setReason}
          error={errors.reason}
        />
        <div class="buttons">
          <button type="submit" class="danger" disabled={busy}>
            Decline
          </button>
        </div>
      </form>
      <Progress text={action.busy} />
      <ErrorNote message={action.error} />
    </section>
  );
}
