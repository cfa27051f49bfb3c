import { useEffect, useState } from "preact/hooks";
import type { QuietHoursResponse } from "../../appservice/shared/alertApiTerms.js";
import { HH_MM_PATTERN } from "../../appservice/shared/events/alertTerms.js";
import type { AlertApi } from "../lib/alertApi.js";
import { ActionRow, ErrorNote, errorText, TextField, useAction, type FieldErrors } from "../lib/forms.js";

/**
 * The clinician's quiet hours: informational alerts wait until they end; critical and urgent
 * alerts never do. The times and the zone are checked again by the server, which names what is wrong.
 */
export function QuietHoursForm({ api }: { api: Pick<AlertApi, "quietHours" | "setQuietHours"> }) {
  const [current, setCurrent] = useState<QuietHoursResponse | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [from, setFrom] = useState("22:00");
  const [to, setTo] = useState("07:00");
  const [zone, setZone] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const show = (r: QuietHoursResponse) => {
    setCurrent(r);
    setFrom(r.quiet?.from ?? "22:00");
    setTo(r.quiet?.to ?? "07:00");
    setZone(r.quiet?.zone ?? r.default_zone);
  };
  useEffect(() => {
    api.quietHours().then(show, (err: unknown) => setLoadError(`Could not load your quiet hours: ${errorText(err)}`));
  }, [api]);

  if (loadError) return <ErrorNote message={loadError} />;
  if (!current)
    return (
      <p class="muted" role="status">
        Loading your quiet hours…
      </p>
    );
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const wrong: FieldErrors = {};
    if (!HH_MM_PATTERN.test(from.trim())) wrong.from = "Enter a time such as 22:00.";
    if (!HH_MM_PATTERN.test(to.trim())) wrong.to = "Enter a time such as 07:00.";
    if (!wrong.from && !wrong.to && from.trim() === to.trim()) wrong.to = "Quiet hours must end at another time than they start.";
    if (!zone.trim()) wrong.zone = "Enter a time zone such as Europe/London.";
    setErrors(wrong);
    if (Object.keys(wrong).length) return;
    void action.run("Saving your quiet hours…", async () => {
      const r = await api.setQuietHours({ from: from.trim(), to: to.trim(), zone: zone.trim() });
      show(r);
      setSaved(`Quiet hours saved: ${r.quiet!.from}–${r.quiet!.to} (${r.quiet!.zone}).`);
    });
  };
  return (
    <form aria-label="Quiet hours" onSubmit={save} noValidate class="panel">
      <h2>Quiet hours</h2>
      <p>
        {current.quiet ? `Now: ${current.quiet.from}–${current.quiet.to} (${current.quiet.zone}).` : "You have no quiet hours."} Informational alerts wait until your quiet hours end. Critical and urgent
        alerts always come at once.
      </p>
      <TextField id="quiet-from" label="From" hint="24-hour time, e.g. 22:00" value={from} onValue={setFrom} error={errors.from} disabled={action.busy !== null} />
      <TextField id="quiet-to" label="To" hint="24-hour time, e.g. 07:00; it may be the next morning" value={to} onValue={setTo} error={errors.to} disabled={action.busy !== null} />
      <TextField id="quiet-zone" label="Time zone" hint="e.g. Europe/London" value={zone} onValue={setZone} error={errors.zone} disabled={action.busy !== null} />
      <ActionRow label="Save quiet hours" busy={action.busy} error={action.error} />
      {current.quiet && (
        <div class="buttons">
          <button
            type="button"
            disabled={action.busy !== null}
            onClick={() =>
              void action.run("Turning quiet hours off…", async () => {
                show(await api.setQuietHours(null));
                setSaved("Quiet hours off: informational alerts come in your regular digest.");
              })
            }
          >
            Turn quiet hours off
          </button>
        </div>
      )}
      {saved && (
        <p class="success-note" role="status">
          {saved}
        </p>
      )}
    </form>
  );
}
