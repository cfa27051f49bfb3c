import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import { formatDuration, formatOptionalDuration, formatRelative, formatTime } from "../lib/format.js";
import { HANDOFF_STATUS_LABEL } from "../lib/handoffLabels.js";
import { roomLink } from "../lib/matrixTo.js";
import { Person } from "../lib/people.js";

/** One handoff in the dashboard: who with, how far along, and the deadline; no clinical content. */
export function HandoffItem({ handoff, viewer, now }: { handoff: HandoffView; viewer: string; now: number }) {
  const open = handoff.status !== "completed" && handoff.status !== "cancelled";
  const late = open && (handoff.overdue || handoff.deadline_ts < now);
  const counterpart =
    handoff.outgoing === viewer ? (
      <>
        to <Person id={handoff.incoming} />
      </>
    ) : (
      <>
        from <Person id={handoff.outgoing} />
      </>
    );
  return (
    <li>
      <strong>
        #{handoff.number} {handoff.unit_name || handoff.unit}
      </strong>{" "}
      {counterpart} · <span data-status={handoff.status}>{HANDOFF_STATUS_LABEL[handoff.status]}</span> {late && <span class="badge overdue">Overdue</span>}
      <br />
      <span class="muted">
        {handoff.patient_count} patient{handoff.patient_count === 1 ? "" : "s"}, {handoff.read_back_count} read back
        {handoff.open_questions > 0 && `, ${handoff.open_questions} open question${handoff.open_questions === 1 ? "" : "s"}`}
        {open &&
          (handoff.deadline_ts < now
            ? ` · due ${formatTime(handoff.deadline_ts, now, handoff.time_zone)}, overdue by ${formatDuration((now - handoff.deadline_ts) / 1000)}`
            : ` · due ${formatTime(handoff.deadline_ts, now, handoff.time_zone)} (${formatRelative(handoff.deadline_ts, now)})`)}
        {handoff.status === "completed" && ` · took ${formatOptionalDuration(handoff.duration_s)}`}
      </span>{" "}
      {handoff.room_id && (
        <a href={roomLink(handoff.room_id)} target="_blank" rel="noopener noreferrer">
          Open the handoff room
        </a>
      )}
    </li>
  );
}
