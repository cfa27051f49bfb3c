import { useEffect, useState } from "preact/hooks";
import { AcceptBody, DeclineBody } from "../../appservice/shared/consultWidgetApi.js";
import { ErrorNote, Progress, TextField, fieldErrors, useAction, wholeNumber, type FieldErrors } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";

/** Accept (with the expected response time) or decline (with a reason) the consult asked of the viewer. */
export function CandidateActions({ api, roomId, consult, onView }: ActionProps) {
  const [minutes, setMinutes] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const action = useAction();

  // Prefill with the service's default for this urgency; the specialist may change it.
  useEffect(() => {
    api
      .services()
      .then((s) => setMinutes((m) => m || String(s.expected_response_minutes[consult.urgency])))
      .catch(() => undefined);
  }, [api, consult.urgency]);

  const accept = (e: Event) => {
    e.preventDefault();
    const parsed = AcceptBody.safeParse({ room_id: roomId, expected_minutes: minutes.trim() ? wholeNumber(minutes) : undefined });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error, { expected_minutes: "Enter whole minutes, from 5 to 10080 (one week)." }));
    setErrors({});
    void action.run("Accepting…", async () => onView((await api.accept(consult.id, parsed.data)).consult));
  };
  const decline = (e: Event) => {
    e.preventDefault();
    const parsed = DeclineBody.safeParse({ room_id: roomId, reason });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    setErrors({});
    void action.run("Declining…", async () => onView((await api.decline(consult.id, parsed.data)).consult));
  };
  const busy = action.busy !== null;

  return (
    <section aria-label="Your response">
      <h2>You are asked to take this consult</h2>
      <form onSubmit={accept} noValidate>
        <TextField
          id="accept-minutes"
          label="Expected response time (minutes)"
          hint="When the requester can expect your answer."
          type="number"
          value={minutes}
          onValue={setMinutes}
          error={errors.expected_minutes}
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
