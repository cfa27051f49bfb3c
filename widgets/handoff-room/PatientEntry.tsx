import { useEffect, useRef, useState } from "preact/hooks";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { useFormatTime } from "../lib/zone.js";
import type { EntryProps } from "./actionProps.js";
import { EntryControls } from "./EntryControls.js";
import { IncidentForm } from "./IncidentForm.js";
import { ItemDetails } from "./ItemDetails.js";
import { ItemForm } from "./ItemForm.js";
import { ItemHistory } from "./ItemHistory.js";
import { QuestionForm } from "./QuestionForm.js";
import { QuestionList } from "./QuestionList.js";
import { ReadBackForm } from "./ReadBackForm.js";
import { ReadBackStatus } from "./ReadBackStatus.js";
import { isOpen, rolesOf } from "./roles.js";
import { anchorId } from "./outstanding.js";
import { Person } from "../lib/people.js";

export interface PatientEntryProps extends EntryProps {
  entry: HandoffEntryView;
  editing: boolean;
  onEditing: (on: boolean) => void;
  onMoveUp: (() => void) | null;
  onMoveDown: (() => void) | null;
  /** A reorder of the list is running. */
  ordering: boolean;
}

/**
 * One patient: the current version of the item, its read-back and questions, and what the viewer
 * may do about it. A patient read back folds to its title and read-back, so the list shows what
 * is still to do; the details open on request, and open again for a question not yet answered.
 */
export function PatientEntry(props: PatientEntryProps) {
  const time = useFormatTime();
  const { handoff, content, viewer, now, entry, editing, onEditing } = props;
  const item = content.items.get(entry.item_event_id);
  const roles = rolesOf(handoff, viewer);
  const open = isOpen(handoff);
  const title = item ? `${entry.number}. ${item.label ? `${item.label} · ` : ""}${item.patient_ref}` : `${entry.number}. Patient`;
  const unanswered = handoff.questions.some((q) => q.entry_id === entry.entry_id && !q.answer_event_id);
  // The card's shape changes only with the read-back, so a form being typed in is never remounted.
  const folds = entry.read_back;
  const [expanded, setExpanded] = useState(!folds || unanswered);
  const [reporting, setReporting] = useState(false);
  const card = useRef<HTMLElement>(null);
  // Folded once, when the read-back arrives (unless a question is open); a new question opens it.
  useEffect(() => setExpanded(!folds || unanswered), [folds]);
  useEffect(() => {
    if (unanswered) setExpanded(true);
  }, [unanswered]);
  const questionForm = roles.incoming && open && <QuestionForm {...props} entry={entry} />;

  const details = (
    <>
      {item ? (
        <ItemDetails item={item} outgoing={handoff.outgoing} tasks={handoff.tasks.filter((t) => t.entry_id === entry.entry_id)} now={now} />
      ) : (
        <p class="muted">Element has not loaded this patient's details yet, so they cannot be shown here.</p>
      )}
      <ItemHistory entry={entry} content={content} outgoing={handoff.outgoing} now={now} />
    </>
  );
  const arrange =
    roles.outgoing && open ? { onMoveUp: props.onMoveUp, onMoveDown: props.onMoveDown, onEdit: item ? () => onEditing(true) : null } : null;

  return (
    <section aria-label={`Patient ${entry.number}`} class="patient" id={anchorId.patient(entry.number)} ref={card}>
      <h3>{title}</h3>
      <p class="muted">
        {entry.version > 1 ? `Version ${entry.version}, edited ${time(entry.presented_ts, now)}` : `Presented ${time(entry.presented_ts, now)}`}
        {entry.presented_by !== handoff.outgoing && (
          <>
            {" by "}
            <Person id={entry.presented_by} />
          </>
        )}
      </p>
      {editing && item ? (
        <ItemForm {...props} editing={{ entry, item }} onDone={() => onEditing(false)} />
      ) : folds ? (
        <details class="patient-details" open={expanded} onToggle={(e) => setExpanded((e.currentTarget as HTMLDetailsElement).open)}>
          <summary>
            {expanded ? "Hide the details" : "Show the details"}
            <span class="visually-hidden"> of patient {entry.number}</span>
          </summary>
          {details}
          {/* A question about a patient already taken over is rarer: it opens with the details. */}
          {questionForm}
        </details>
      ) : (
        details
      )}
      <ReadBackStatus entry={entry} content={content} now={now} />
      {roles.incoming && open && !entry.read_back && <ReadBackForm {...props} entry={entry} />}
      <QuestionList {...props} entry={entry} />
      {!folds && questionForm}
      {!editing && (arrange || roles.participant) && (
        <EntryControls {...props} arrange={arrange} onReportIncident={roles.participant ? () => setReporting(true) : null} disabled={props.ordering} />
      )}
      {roles.participant && (
        <IncidentForm
          {...props}
          entry={entry}
          open={reporting}
          onClose={() => {
            setReporting(false);
            // The form goes, so focus returns to the menu it was opened from.
            card.current?.querySelector<HTMLElement>(".action-menu > summary")?.focus();
          }}
        />
      )}
    </section>
  );
}
