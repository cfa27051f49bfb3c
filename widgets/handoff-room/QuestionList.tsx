import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { useFormatTime } from "../lib/zone.js";
import type { EntryProps } from "./actionProps.js";
import { AnswerForm } from "./AnswerForm.js";
import { isOpen, rolesOf } from "./roles.js";
import { anchorId } from "./outstanding.js";
import { Person } from "../lib/people.js";

const NOT_LOADED = "Element has not loaded this message yet.";

/** One patient's questions with their answers; an open one is answered by the participant who did not ask it. */
export function QuestionList(props: EntryProps & { entry: HandoffEntryView }) {
  const time = useFormatTime();
  const { handoff, content, viewer, now, entry } = props;
  const questions = handoff.questions.filter((q) => q.entry_id === entry.entry_id);
  if (questions.length === 0) return null;
  const canAnswer = rolesOf(handoff, viewer).participant && isOpen(handoff);
  return (
    <div role="group" aria-label="Questions" class="questions">
      <strong>Questions</strong>
      <ul class="plain">
        {questions.map((q) => {
          const answer = q.answer_event_id ? content.answers.get(q.answer_event_id) : undefined;
          return (
            <li key={q.event_id} id={anchorId.question(q.number)}>
              <p>
                <strong>Question {q.number}</strong> <span class="muted">
                  from <Person id={q.asked_by} /> at {time(q.asked_ts, now)}
                </span>
              </p>
              <p class="prose">{content.questions.get(q.event_id)?.text ?? NOT_LOADED}</p>
              {q.answer_event_id ? (
                <p class="answer">
                  <strong>Answer</strong>{" "}
                  <span class="muted">
                    from {q.answered_by && <Person id={q.answered_by} />}
                    {q.answered_ts !== null && ` at ${time(q.answered_ts, now)}`}:
                  </span>{" "}
                  <span class="prose">{answer?.text ?? NOT_LOADED}</span>
                </p>
              ) : (
                <>
                  <p>
                    <span class="badge open-question">Not answered yet</span>
                  </p>
                  {canAnswer && q.asked_by !== viewer && <AnswerForm {...props} question={q} />}
                  {canAnswer && q.asked_by === viewer && <p class="muted">
                      Waiting for <Person id={q.asked_by === handoff.outgoing ? handoff.incoming : handoff.outgoing} /> to answer.
                    </p>}
                </>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
