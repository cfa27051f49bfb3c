import type { AlertApi } from "../lib/alertApi.js";
import { ErrorNote } from "../lib/forms.js";
import { formatOptionalDuration, formatTime } from "../lib/format.js";
import { LastUpdated, useLive } from "../lib/live.js";

const percent = (share: number | null) => (share === null ? "—" : `${Math.round(share * 100)} %`);

/**
 * For coordinators: the rules in force, in words, and how each performs (fired, acknowledged,
 * time to acknowledge, paged, false positives, auto-cleared), with any threshold suggestion and
 * the evidence it rests on. No patient data: the figures are counts and times.
 */
export function RulesView({ api }: { api: Pick<AlertApi, "rules"> }) {
  const live = useLive(() => api.rules(), [api], 60_000);
  const r = live.data;
  if (!r) return live.error ? <ErrorNote message={live.error} /> : <p class="muted" role="status">Loading the rules…</p>;
  const names = Object.fromEntries(r.rules.map((x) => [x.id, x.name]));
  const suggestions = r.report.filter((x) => x.suggestion);
  return (
    <section aria-label="Rules and analytics">
      <h2>Effectiveness since {formatTime(Date.parse(r.since))}</h2>
      {r.report.every((x) => x.fired === 0) ? (
        <p class="muted">No alerts in this period.</p>
      ) : (
        <div class="table-scroll" role="region" aria-label="Effectiveness, scrollable" tabIndex={0}>
          <table aria-label="Effectiveness">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Fired</th>
                <th scope="col">Acknowledged</th>
                <th scope="col">Time to acknowledge (median / 90th)</th>
                <th scope="col">Paged</th>
                <th scope="col">False positives</th>
                <th scope="col">Auto-cleared</th>
              </tr>
            </thead>
            <tbody>
              {r.report.map((x) => (
                <tr key={x.rule}>
                  <td>{names[x.rule] ?? x.rule}</td>
                  <td>{x.fired}</td>
                  <td>{x.acknowledged}</td>
                  <td>
                    {formatOptionalDuration(x.ackSecondsP50)} / {formatOptionalDuration(x.ackSecondsP90)}
                  </td>
                  <td>{x.paged}</td>
                  <td>
                    {x.falsePositives} ({percent(x.falsePositiveRate)})
                  </td>
                  <td>{x.autoCleared}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {suggestions.map((x) => (
        <div key={x.rule} class="panel" role="group" aria-label={`Suggestion for ${names[x.rule] ?? x.rule}`}>
          <p>
            <strong>Suggestion for {names[x.rule] ?? x.rule}:</strong> {x.suggestion!.text}
          </p>
          <p class="muted">Evidence: {x.suggestion!.evidence}. A suggestion for you to weigh, not a change Rounds makes.</p>
        </div>
      ))}
      <h2>Rules in force (version {r.version})</h2>
      <div class="table-scroll" role="region" aria-label="Rules, scrollable" tabIndex={0}>
        <table aria-label="Rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Kind</th>
              <th scope="col">Fires</th>
            </tr>
          </thead>
          <tbody>
            {r.rules.map((x) => (
              <tr key={x.id}>
                <td>
                  {x.name} <span class="muted">({x.id})</span>
                </td>
                <td>{x.kind}</td>
                <td>{x.fires}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LastUpdated live={live} everyMs={60_000} />
    </section>
  );
}
