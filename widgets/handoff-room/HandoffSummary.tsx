import type { HandoffState } from "../../appservice/shared/events/index.js";
import { formatDuration, formatRelative } from "../lib/format.js";
import { HANDOFF_STATUS_LABEL, MODE_LABEL, TEMPLATE_LABEL } from "../lib/handoffLabels.js";
import { isOpen } from "./roles.js";
import { Person } from "../lib/people.js";
import { useFormatTime } from "../lib/zone.js";
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Status, people, deadline and progress: the workflow metadata of the room's state event. */
export function HandoffSummary({ handoff, now }: { handoff: HandoffState; now: number }) {
  const time = useFormatTime();
  const late = isOpen(handoff) && (handoff.overdue || handoff.deadline_ts < now);
  return (
    <section aria-label="Handoff status">
      <h1>
        Handoff #{handoff.number} · {handoff.unit_name || handoff.unit} {late && <span class="badge overdue">Overdue</span>}
      </h1>
      <p>
        <strong>Status:</strong> <span data-status={handoff.status}>{HANDOFF_STATUS_LABEL[handoff.status]}</span>
      </p>
      <dl class="facts">
        <dt>Handing over</dt>
        <dd>
          <Person id={handoff.outgoing} /> → <Person id={handoff.incoming} />
        </dd>
        <dt>Format</dt>
        <dd>
          {TEMPLATE_LABEL[handoff.template]}, {MODE_LABEL[handoff.mode].toLowerCase()}
        </dd>
        {isOpen(handoff) && (
          <>
            <dt>Complete by</dt>
            <dd>
              {time(handoff.deadline_ts, now)} (
              {handoff.deadline_ts < now ? <strong class="badge overdue">overdue by {formatDuration((now - handoff.deadline_ts) / 1000)}</strong> : formatRelative(handoff.deadline_ts, now)})
            </dd>
          </>
        )}
        {handoff.escalated_to.length > 0 && (
          <>
            <dt>Escalated to</dt>
            <dd>
              {handoff.escalated_to.join(", ")}
              {handoff.escalated_ts !== null && ` at ${time(handoff.escalated_ts, now)}`}
            </dd>
          </>
        )}
        <dt>Progress</dt>
        <dd>
          {plural(handoff.patient_count, "patient")} · {handoff.read_back_count} of {handoff.patient_count} read back · {plural(handoff.open_questions, "open question")}
          {handoff.checklist_total > 0 && ` · checklist ${handoff.checklist_done} of ${handoff.checklist_total}`}
        </dd>
        {handoff.signed_off_by.length > 0 && (
          <>
            <dt>Signed off</dt>
            <dd>{handoff.signed_off_by.join(", ")}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
