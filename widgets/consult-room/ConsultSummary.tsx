import type { ConsultState } from "../../appservice/shared/events/index.js";
import { formatDuration, formatRelative, formatMinutes } from "../lib/format.js";
import { STATUS_LABEL, URGENCY_LABEL } from "../lib/labels.js";
import { People, Person } from "../lib/people.js";
import { useFormatTime } from "../lib/zone.js";
function Deadline({ label, ts, now }: { label: string; ts: number; now: number }) {
  const time = useFormatTime();
  const late = ts < now;
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {time(ts, now)} ({late ? <strong class="badge overdue">overdue by {formatDuration((now - ts) / 1000)}</strong> : formatRelative(ts, now)})
      </dd>
    </>
  );
}

/** The one deadline that matters now, in a line that cannot be missed: "Accept by 22:59 · in 15 min". */
function NextDeadline({ consult, now }: { consult: ConsultState; now: number }) {
  const time = useFormatTime();
  const next =
    consult.status === "requested" && consult.accept_by_ts !== null
      ? { label: "Accept by", ts: consult.accept_by_ts }
      : (consult.status === "accepted" || consult.status === "in_progress") && consult.respond_by_ts !== null
        ? { label: "Respond by", ts: consult.respond_by_ts }
        : null;
  if (!next) return null;
  const late = next.ts < now;
  return (
    <p class={late ? "deadline-line late" : "deadline-line"}>
      <strong>
        {next.label} {time(next.ts, now)}
      </strong>{" "}
      · {late ? `overdue by ${formatDuration((now - next.ts) / 1000)}` : formatRelative(next.ts, now)}
    </p>
  );
}

/** Status, people and deadlines: the workflow metadata of the room's state event. */
export function ConsultSummary({ consult, now, serviceName = consult.service }: { consult: ConsultState; now: number; serviceName?: string }) {
  const time = useFormatTime();
  const current = consult.status === "requested" ? consult.candidates.at(-1) : undefined;
  return (
    <section aria-label="Consult status">
      <h1>
        Consult #{consult.number} · {serviceName} <span class={`badge ${consult.urgency}`}>{URGENCY_LABEL[consult.urgency]}</span>{" "}
        {consult.overdue && <span class="badge overdue">Overdue</span>}
      </h1>
      <NextDeadline consult={consult} now={now} />
      <p>
        <strong>Status:</strong> <span data-status={consult.status}>{STATUS_LABEL[consult.status]}</span>
      </p>
      {consult.exhausted && consult.status === "requested" && (
        <p class="error-note">No specialist is left to ask; the service coordinators and the requester were told.</p>
      )}
      <dl class="facts">
        <dt>Requested by</dt>
        <dd>
          <Person id={consult.requester} /> at {time(consult.created_ts, now)}
        </dd>
        {consult.candidates.length > 0 && (
          <>
            <dt>Asked</dt>
            <dd>
              {consult.candidates.map((c, i) => (
                <span key={c}>
                  {i > 0 && ", "}
                  <Person id={c} />
                  {consult.declined_by.includes(c) ? " (declined)" : c === current ? " (asked now)" : ""}
                </span>
              ))}
            </dd>
          </>
        )}
        {consult.consultant && (
          <>
            <dt>Consultant</dt>
            <dd>
              <Person id={consult.consultant} />
            </dd>
          </>
        )}
        {consult.care_team.length > 0 && (
          <>
            <dt>Care team</dt>
            <dd>
              <People ids={consult.care_team} />
            </dd>
          </>
        )}
        {consult.status === "requested" && consult.accept_by_ts !== null && <Deadline label="Accept by" ts={consult.accept_by_ts} now={now} />}
        {consult.accepted_ts !== null && (
          <>
            <dt>Accepted</dt>
            <dd>
              {time(consult.accepted_ts, now)}
              {consult.expected_response_minutes !== null && `, response expected within ${formatMinutes(consult.expected_response_minutes)}`}
            </dd>
          </>
        )}
        {(consult.status === "accepted" || consult.status === "in_progress") && consult.respond_by_ts !== null && (
          <Deadline label="Respond by" ts={consult.respond_by_ts} now={now} />
        )}
        {consult.started_ts !== null && (
          <>
            <dt>Started</dt>
            <dd>{time(consult.started_ts, now)}</dd>
          </>
        )}
        {consult.completed_ts !== null && (
          <>
            <dt>Completed</dt>
            <dd>{time(consult.completed_ts, now)}</dd>
          </>
        )}
        {consult.cancelled_ts !== null && (
          <>
            <dt>Cancelled</dt>
            <dd>{time(consult.cancelled_ts, now)}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
