import { useEffect, useState } from "preact/hooks";
import type { AlertTrailStep } from "../../appservice/shared/alertApiTerms.js";
import type { AlertApi } from "../lib/alertApi.js";
import { ErrorNote, errorText } from "../lib/forms.js";
import { formatDuration, formatTime } from "../lib/format.js";
import { Person } from "../lib/people.js";

const STEP: Record<string, string> = {
  received: "Received from the source",
  repeated: "Repeated result",
  corrected: "Corrected by the lab",
  cleared: "Cleared by a normal result",
  routed: "Routed to",
  delivered: "Delivered to",
  read: "Read by",
  acknowledged: "Acknowledged by",
  escalated: "Escalated as a page",
  snoozed: "Snoozed by",
  renotified: "Rang again after the snooze",
  false_positive: "Marked a false positive by",
};

/**
 * The closed loop of one alert, as quality staff audit it: received, routed, delivered, read,
 * acknowledged, each with its time and who. Loaded when opened, and again when the alert changes.
 */
export function AlertTrail({ api, number, roomId, refreshKey }: { api: Pick<AlertApi, "alert">; number: number; roomId: string; refreshKey: number }) {
  const [open, setOpen] = useState(false);
  const [trail, setTrail] = useState<AlertTrailStep[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    let current = true;
    api.alert(number, roomId).then(
      (r) => current && (setTrail(r.trail), setError(null)),
      (err: unknown) => current && setError(`Could not load the trail: ${errorText(err)}`),
    );
    return () => {
      current = false;
    };
  }, [api, number, roomId, open, refreshKey]);
  const first = trail?.[0]?.ts;
  return (
    <details class="trail" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        Trail<span class="visually-hidden"> of alert {number}</span>
      </summary>
      <ErrorNote message={error} />
      {open && !trail && !error && (
        <p class="muted" role="status">
          Loading the trail…
        </p>
      )}
      {trail && (
        <ol class="plain" aria-label={`Trail of alert ${number}`}>
          {trail.map((t, i) => (
            <li key={`${t.step}-${t.ts}-${i}`}>
              <strong>{STEP[t.step] ?? t.step}</strong>
              {t.actor && (
                <>
                  {" "}
                  <Person id={t.actor} />
                </>
              )}{" "}
              <span class="muted">
                at {formatTime(t.ts)}
                {first !== undefined && i > 0 && ` (+${formatDuration((t.ts - first) / 1000)})`}
              </span>
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
