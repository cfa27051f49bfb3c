import { useEffect, useState } from "preact/hooks";
import type { HandoffMetricsResponse, UnitsResponse } from "../../appservice/shared/handoffApi.js";
import { ApiError } from "../lib/apiFetch.js";
import { ErrorNote, errorText } from "../lib/forms.js";
import { formatOptionalDuration, formatTime } from "../lib/format.js";
import type { HandoffApi } from "../lib/handoffApi.js";

const percent = (share: number | null) => (share === null ? "—" : `${Math.round(share * 100)} %`);
const perHandoff = (n: number | null) => (n === null ? "—" : n.toFixed(1));

/** Per-unit handoff quality: how long handoffs take, how many patients were read back, overrides and lateness. */
export function UnitQuality({ api }: { api: Pick<HandoffApi, "metrics" | "units"> }) {
  const [metrics, setMetrics] = useState<HandoffMetricsResponse | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [remote, setRemote] = useState(false);

  useEffect(() => {
    api
      .metrics()
      .then(setMetrics)
      // The server keeps its figures for its own clinicians; a visitor from another server is told so plainly.
      .catch((err: unknown) => (err instanceof ApiError && err.status === 403 ? setRemote(true) : setError(errorText(err))));
    // Unit names are a nicety: without them the table shows the unit ids.
    api
      .units()
      .then((r: UnitsResponse) => setNames(Object.fromEntries(r.units.map((u) => [u.id, u.name]))))
      .catch(() => undefined);
  }, [api]);

  if (remote) return <p class="muted">Unit quality figures are shown to this hospital's own clinicians only.</p>;
  if (error) return <ErrorNote message={error} />;
  if (!metrics)
    return (
      <p class="muted" role="status">
        Loading unit quality…
      </p>
    );
  return (
    <section aria-label="Unit quality">
      <h2>Handoff quality by unit</h2>
      <p class="muted">Since {formatTime(Date.parse(metrics.since))}. Durations are median / 90th percentile.</p>
      {metrics.units.length === 0 ? (
        <p class="muted">No completed handoffs yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Unit</th>
              <th scope="col">Handoffs</th>
              <th scope="col">Duration</th>
              <th scope="col">Read back</th>
              <th scope="col">Questions per handoff</th>
              <th scope="col">Overrides</th>
              <th scope="col">Overdue</th>
            </tr>
          </thead>
          <tbody>
            {metrics.units.map((u) => (
              <tr key={u.unit}>
                <td>{names[u.unit] ?? u.unit}</td>
                <td>{u.handoffs}</td>
                <td>
                  {formatOptionalDuration(u.duration_p50_s)} / {formatOptionalDuration(u.duration_p90_s)}
                </td>
                <td>{percent(u.read_back_share)}</td>
                <td>{perHandoff(u.questions_per_handoff)}</td>
                <td>{u.overrides}</td>
                <td>{u.overdue}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
