import { useEffect, useState } from "preact/hooks";
import { CONSULT_STATUSES } from "../../appservice/shared/events/terms.js";
import type { ConsultStatus } from "../../appservice/shared/events/index.js";
import type { ConsultView, MetricsResponse } from "../../appservice/shared/consultWidgetApi.js";
import type { ConsultApi } from "../lib/consultApi.js";
import { ErrorNote } from "../lib/forms.js";
import { formatOptionalDuration, formatTime } from "../lib/format.js";
import { STATUS_LABEL, URGENCY_LABEL } from "../lib/labels.js";
import { LastUpdated, useLive } from "../lib/live.js";
import { useServices, type Services } from "../lib/serviceNames.js";
import { ResponseTimes } from "./ResponseTimes.js";
import { Person } from "../lib/people.js";

function ConsultItem({ consult, now, services }: { consult: ConsultView; now: number; services: Services }) {
  const who = consult.consultant ?? consult.candidates.at(-1);
  return (
    <li>
      <strong>
        #{consult.number} {services.name(consult.service)}
      </strong>{" "}
      <span class={`badge ${consult.urgency}`}>{URGENCY_LABEL[consult.urgency]}</span> {consult.overdue && <span class="badge overdue">Overdue</span>}
      <br />
      <span class="muted">
        <Person id={consult.requester} />
        {who && (
          <>
            {" → "}
            <Person id={who} />
          </>
        )}{" "}
        · requested {formatTime(consult.created_ts, now, services.zone(consult.service))} · time to accept {formatOptionalDuration(consult.time_to_accept_s)} · time to
        complete {formatOptionalDuration(consult.time_to_complete_s)}
      </span>
    </li>
  );
}

/** A direction's consults under one heading per status, in workflow order. */
function ByStatus({ title, consults, now, services }: { title: string; consults: ConsultView[]; now: number; services: Services }) {
  const groups = CONSULT_STATUSES.map((status): [ConsultStatus, ConsultView[]] => [status, consults.filter((c) => c.status === status)]).filter(
    ([, list]) => list.length > 0,
  );
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {groups.length === 0 && <p class="muted">None open.</p>}
      {groups.map(([status, list]) => (
        <div key={status}>
          <h3>
            {STATUS_LABEL[status]} ({list.length})
          </h3>
          <ul class="plain">
            {list.map((c) => (
              <ConsultItem key={c.id} consult={c} now={now} services={services} />
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

/** The clinician's consults: incoming and outgoing by status, past ones in the archive. */
export function MyConsults({ api, refreshKey = 0 }: { api: Pick<ConsultApi, "mine" | "metrics" | "services">; refreshKey?: number }) {
  const services = useServices(api);
  const live = useLive(() => api.mine(), [api, refreshKey]);
  const mine = live.data;
  const error = mine ? null : live.error;
  const loadedAt = live.updatedAt ?? Date.now();
  // Response times are a nicety: without them the dashboard still works. They move slowly.
  const [metrics, setMetrics] = useState<MetricsResponse | null>(null);
  useEffect(() => {
    api
      .metrics()
      .then(setMetrics)
      .catch(() => undefined);
  }, [api, refreshKey]);

  return (
    <div>
      <LastUpdated live={live} />
      <ErrorNote message={error} />
      {!mine && !error && (
        <p class="muted" role="status">
          Loading your consults…
        </p>
      )}
      {mine && (
        <>
          <ByStatus title="Incoming" consults={mine.incoming} now={loadedAt} services={services} />
          <ByStatus title="Outgoing" consults={mine.outgoing} now={loadedAt} services={services} />
          <section aria-label="Archive">
            <h2>Archive</h2>
            {mine.archive.length === 0 && <p class="muted">No past consults.</p>}
            <ul class="plain">
              {mine.archive.map((c) => (
                <ConsultItem key={c.id} consult={c} now={loadedAt} services={services} />
              ))}
            </ul>
          </section>
        </>
      )}
      {metrics && <ResponseTimes metrics={metrics} />}
    </div>
  );
}
