import type { MetricsResponse, ResponseTimes as Times } from "../../appservice/shared/consultWidgetApi.js";
import { formatOptionalDuration, formatTime } from "../lib/format.js";

const cell = (t: Times) => (t.count ? `${formatOptionalDuration(t.p50_s)} / ${formatOptionalDuration(t.p90_s)}` : "—");

/** Per-service median and 90th-percentile times to accept and to complete. */
export function ResponseTimes({ metrics }: { metrics: MetricsResponse }) {
  if (metrics.services.length === 0) return null;
  return (
    <section aria-label="Response times">
      <h2>Response times by service</h2>
      <p class="muted">Median / 90th percentile since {formatTime(Date.parse(metrics.since))}.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">To accept</th>
            <th scope="col">To complete</th>
            <th scope="col">Consults</th>
          </tr>
        </thead>
        <tbody>
          {metrics.services.map((s) => (
            <tr key={s.service}>
              <td>{s.service}</td>
              <td>{cell(s.accept)}</td>
              <td>{cell(s.complete)}</td>
              <td>{s.accept.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
