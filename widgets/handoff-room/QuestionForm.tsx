import { useState } from "preact/hooks";
import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ActionRow, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import { reference, type ActionProps } from "./actionProps.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { validators } from "../lib/validators.js";

/** The incoming clinician asks about one patient; the question refers to the item version they saw. */
export function QuestionForm({ api, roomId, handoff, room, onView, entry }: ActionProps & { entry: HandoffEntryView }) {
  const [question, setQuestion] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    const parsed = validators().HandoffQuestionContentSchema.safeParse({ handoff_id: handoff.id, entry_id: entry.entry_id, text: question, ...reference(entry.item_event_id) });
    if (!parsed.success) return setErrors(fieldErrors(parsed.error, { text: "Write your question (at least 3 characters)." }));
    setErrors({});
    const content = parsed.data as Record<string, unknown>;
    void action.run("Sending your encrypted question…", async (step) => {
      const eventId = await once.send(content, () => room.send(HandoffEventType.Question, content));
      step("Recording the question…");
      onView((await api.questions(handoff.id, { room_id: roomId, event_id: eventId })).handoff);
      once.done();
      setQuestion("");
    });
  };

  return (
    <form aria-label={`Ask about patient ${entry.number}`} onSubmit={submit} noValidate>
      <TextField id={`question-${entry.entry_id}`} label="Ask a question" rows={2} value={question} onValue={setQuestion} error={errors.text} disabled={action.busy !== null} />
      <ActionRow label="Ask question" busy={action.busy} error={action.error} />
    </form>
  );
}
