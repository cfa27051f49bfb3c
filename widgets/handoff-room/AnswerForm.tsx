import { useState } from "preact/hooks";
import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import type { HandoffQuestionView } from "../../appservice/shared/handoffApi.js";
import { ActionRow, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import { reference, type ActionProps } from "./actionProps.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { validators } from "../lib/validators.js";

/** Either participant answers an open question; the answer refers to the question's event. */
export function AnswerForm({ api, roomId, handoff, room, onView, question }: ActionProps & { question: HandoffQuestionView }) {
  const [answer, setAnswer] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    const parsed = validators().HandoffAnswerContentSchema.safeParse({ handoff_id: handoff.id, question_event_id: question.event_id, text: answer, ...reference(question.event_id) });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    setErrors({});
    const content = parsed.data as Record<string, unknown>;
    void action.run("Sending your encrypted answer…", async (step) => {
      const eventId = await once.send(content, () => room.send(HandoffEventType.Answer, content));
      step("Recording the answer…");
      onView((await api.answers(handoff.id, { room_id: roomId, event_id: eventId })).handoff);
      once.done();
      setAnswer("");
    });
  };

  return (
    <form aria-label={`Answer question ${question.number}`} onSubmit={submit} noValidate>
      <TextField id={`answer-${question.number}`} label="Answer" rows={2} value={answer} onValue={setAnswer} error={errors.text} disabled={action.busy !== null} />
      <ActionRow label="Send answer" busy={action.busy} error={action.error} />
    </form>
  );
}
