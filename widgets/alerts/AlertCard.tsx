import { useState } from "preact/hooks";
import type { AlertView } from "../../appservice/shared/alertApiTerms.js";
import type { AlertApi } from "../lib/alertApi.js";
import { ActionRow, ErrorNote, Progress, SelectField, TextField, useAction } from "../lib/forms.js";
import { formatMinutes, formatTime } from "../lib/format.js";
import { useNow } from "../lib/hooks.js";
import { Person } from "../lib/people.js";
import { AlertTrail } from "./AlertTrail.js";

const PRIORITY: Record<AlertView["priority"], { label: string; badge: string }> = {
  critical: { label: "Critical", badge: "emergent" },
  urgent: { label: "Urgent", badge: "urgent" },
  informational: { label: "FYI", badge: "routine" },
};
const STATUS: Record<AlertView["status"], string> = { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved", cleared: "Cleared by a normal result" };
const SNOOZES = [5, 10, 15, 30, 60, 120];
const MIN_REASON = 3;

export interface AlertCardProps {
  alert: AlertView;
  /** The alert's message as Element decrypted it, or null while it is not loaded. */
  text: string | null;
  api: AlertApi;
  roomId: string;
  viewer: string;
  maxSnoozeMinutes: number;
  sendText: (body: string) => Promise<string>;
  onChanged: () => void;
}

/** One alert: its message, where it stands, the actions open to the viewer, and its trail. */
export function AlertCard({ alert: a, text, api, roomId, maxSnoozeMinutes, sendText, onChanged }: AlertCardProps) {
  const now = useNow();
  const action = useAction();
  const [minutes, setMinutes] = useState("15");
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [fpOpen, setFpOpen] = useState(false);
  const [trailKey, setTrailKey] = useState(0);
  const here = a.room_id === roomId;
  // A critical alert rang as a page in the page's room, which has no Alerts widget: it is acted on from here too.
  const canAct = here || a.via_page;
  const busy = action.busy !== null;
  const p = PRIORITY[a.priority];
  const done = () => {
    setTrailKey((k) => k + 1);
    onChanged();
  };
  const snoozes = SNOOZES.filter((m) => m <= maxSnoozeMinutes);

  const markFalsePositive = (e: Event) => {
    e.preventDefault();
    const why = reason.trim();
    if (why.length < MIN_REASON) return setReasonError(`Say why it was a false positive (at least ${MIN_REASON} characters).`);
    if (why.length > 1000) return setReasonError("Keep the reason under 1000 characters.");
    setReasonError(undefined);
    void action.run("Sending your encrypted reason…", async (step) => {
      const eventId = await sendText(`False positive, alert #${a.number}: ${why}`);
      step("Marking the alert…");
      await api.falsePositive(a.number, roomId, eventId);
      setReason("");
      setFpOpen(false);
      done();
    });
  };

  return (
    <article class="panel alert" aria-label={`Alert ${a.number}`}>
      <h3>
        <span class={`badge ${p.badge}`}>{p.label}</span> Alert #{a.number} <span class="muted">· {a.rule_id}</span>
      </h3>
      <p class="muted">
        {STATUS[a.status]}
        {a.false_positive && " · marked a false positive"} · raised {formatTime(a.first_ts, now)}
        {a.repeats > 0 && ` · repeated ${a.repeats}×`}
        {a.corrections > 0 && ` · corrected ${a.corrections}×`}
        {a.page_number !== null && ` · paged (#${a.page_number})`}
        {a.snoozed_until_ts !== null && ` · snoozed until ${formatTime(a.snoozed_until_ts, now)}`}
      </p>
      {a.acknowledged_by && (
        <p>
          Acknowledged by <Person id={a.acknowledged_by} />
          {a.acknowledged_ts !== null && ` at ${formatTime(a.acknowledged_ts, now)}`}
        </p>
      )}
      {a.message_event_id === null ? (
        <p class="muted">Waiting for your next digest of informational results.</p>
      ) : here ? (
        <p class="prose">{text ?? "Element has not loaded this alert's message yet; scroll up in the room to find it."}</p>
      ) : a.via_page ? (
        <p class="muted">
          This alert paged you in <a href={`https://matrix.to/#/${a.room_id}`}>its page's room</a>; its message is there. You can acknowledge it here too.
        </p>
      ) : (
        <p class="muted">
          This alert reached you in <a href={`https://matrix.to/#/${a.room_id}`}>another room</a>; its message is there.
        </p>
      )}
      {canAct && a.status === "open" && (
        <div class="buttons" role="group" aria-label={`Act on alert ${a.number}`}>
          <button type="button" class="primary" disabled={busy} onClick={() => void action.run("Acknowledging…", async () => (await api.ack(a.number, roomId), done()))}>
            Acknowledge
          </button>
          {a.priority !== "critical" && snoozes.length > 0 && (
            <>
              <SelectField id={`snooze-${a.number}`} label="Snooze for" value={minutes} onValue={setMinutes} options={snoozes.map((m) => ({ value: String(m), label: formatMinutes(m) }))} disabled={busy} />
              <button type="button" disabled={busy} onClick={() => void action.run("Snoozing…", async () => (await api.snooze(a.number, roomId, Number(minutes)), done()))}>
                Snooze
              </button>
            </>
          )}
        </div>
      )}
      {a.priority === "critical" && a.status === "open" && canAct && <p class="muted">A critical alert cannot be snoozed: acknowledge it once you are dealing with it.</p>}
      {canAct && !a.false_positive && (
        <>
          {!fpOpen ? (
            <div class="buttons">
              <button type="button" disabled={busy} onClick={() => setFpOpen(true)}>
                False positive…
              </button>
            </div>
          ) : (
            <form aria-label={`Mark alert ${a.number} a false positive`} onSubmit={markFalsePositive} noValidate>
              <TextField id={`fp-${a.number}`} label="Why was it a false positive?" hint="Sent encrypted in this room; the rule's report counts it, and Rounds keeps only a reference." rows={2} value={reason} onValue={setReason} error={reasonError} disabled={busy} />
              <ActionRow label="Mark false positive" kind="danger" busy={action.busy} error={null} />
              <div class="buttons">
                <button type="button" disabled={busy} onClick={() => setFpOpen(false)}>
                  Keep it
                </button>
              </div>
            </form>
          )}
        </>
      )}
      {!fpOpen && <Progress text={action.busy} />}
      <ErrorNote message={action.error} />
      <AlertTrail api={api} number={a.number} roomId={roomId} refreshKey={trailKey + a.last_ts} />
    </article>
  );
}
