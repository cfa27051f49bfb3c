import { useState } from "preact/hooks";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import { ActionRow, SelectField, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";
import { OUTCOME_OPTIONS, RATING_OPTIONS } from "./billingOptions.js";
import { useReasonNote } from "./reasonNote.js";
import { isOpen } from "./roles.js";
import { validators } from "../lib/validators.js";

function CancelForm(props: ActionProps) {
  const { api, roomId, consult, onView } = props;
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const action = useAction();
  const note = useReasonNote(props, "cancel");
  const cancel = (e: Event) => {
    e.preventDefault();
    const given = reason.trim() !== "";
    const refused = given ? note.check(reason) : null;
    if (refused) return setErrors(refused);
    setErrors({});
    void action.run(given ? "Sending the encrypted reason…" : "Cancelling…", async (step) => {
      const eventId = given ? await note.send(reason) : undefined;
      step("Cancelling…");
      onView((await api.cancel(consult.id, eventId ? { room_id: roomId, reason_event_id: eventId } : { room_id: roomId })).consult);
    });
  };
  return (
    <form aria-label="Cancel the consult" onSubmit={cancel} noValidate>
      <h2>No longer needed?</h2>
      <TextField id="cancel-reason" label="Reason for cancelling (optional)" rows={2} value={reason} onValue={setReason} error={errors.reason} />
      <ActionRow label="Cancel consult" kind="danger" busy={action.busy} error={action.error} />
    </form>
  );
}

function FeedbackForm({ api, roomId, consult, onView }: ActionProps) {
  const [rating, setRating] = useState("");
  const [outcome, setOutcome] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const action = useAction();
  const send = (e: Event) => {
    e.preventDefault();
    const parsed = validators().FeedbackBody.safeParse({ room_id: roomId, rating: rating ? Number(rating) : Number.NaN, outcome });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error, { rating: "Rate from 1 to 5.", outcome: "Choose what happened after the consult." }));
    setErrors({});
    void action.run("Sending feedback…", async () => onView((await api.feedback(consult.id, parsed.data)).consult));
  };
  return (
    <form aria-label="Feedback" onSubmit={send} noValidate>
      <h2>How did this consult help?</h2>
      <SelectField id="feedback-rating" label="Rating" placeholder="Choose…" options={RATING_OPTIONS} value={rating} onValue={setRating} error={errors.rating} />
      <SelectField id="feedback-outcome" label="Outcome" placeholder="Choose…" options={OUTCOME_OPTIONS} value={outcome} onValue={setOutcome} error={errors.outcome} />
      <ActionRow label="Send feedback" busy={action.busy} error={action.error} />
    </form>
  );
}

/** The requester may cancel an open consult, and rate a completed one once. */
export function RequesterActions(props: ActionProps & { view: ConsultView | null }) {
  if (isOpen(props.consult)) return <CancelForm {...props} />;
  if (props.consult.status === "completed" && props.view && props.view.rating === null) return <FeedbackForm {...props} />;
  return null;
}
