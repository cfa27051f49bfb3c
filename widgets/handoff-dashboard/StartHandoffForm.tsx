import { useEffect, useState } from "preact/hooks";
import type { HandoffView, UnitsResponse } from "../../appservice/shared/handoffApi.js";
import { ActionRow, RetryNote, SelectField, errorText, fieldErrors, useAction, useErrorSummary, type FieldErrors } from "../lib/forms.js";
import type { HandoffApi } from "../lib/handoffApi.js";
import { TEMPLATE_LABEL } from "../lib/handoffLabels.js";
import { roomLink } from "../lib/matrixTo.js";
import { PersonPicker } from "../lib/PersonPicker.js";
import { validators } from "../lib/validators.js";

export interface StartHandoffFormProps {
  api: Pick<HandoffApi, "units" | "start" | "unitPeople">;
  /** The room the dashboard is pinned in; the server starts the handoff from it. */
  roomId: string;
  viewer: string;
  onStarted?: (handoff: HandoffView) => void;
}

const WORDING: FieldErrors = { incoming: "Choose the incoming clinician from the list, or type their full Matrix id, like @name:hospital.org.", unit: "Choose the unit." };

/** Starts a handoff to the incoming clinician; the bot opens a room for it and invites both. */
export function StartHandoffForm({ api, roomId, viewer, onStarted }: StartHandoffFormProps) {
  const [units, setUnits] = useState<UnitsResponse["units"] | null>(null);
  const [unitsError, setUnitsError] = useState<string | null>(null);
  const [unit, setUnit] = useState("");
  const [incoming, setIncoming] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [started, setStarted] = useState<HandoffView | null>(null);
  const action = useAction();
  const invalid = useErrorSummary();

  const loadUnits = () => {
    setUnitsError(null);
    api
      .units()
      .then((r) => {
        setUnits(r.units);
        // With a single unit there is nothing to choose.
        // In a unit's own room that unit is the default, as it is for !handoff start there.
        const here = r.units.find((u) => u.room_id === roomId) ?? (r.units.length === 1 ? r.units[0] : undefined);
        if (here) setUnit(here.id);
      })
      .catch((err: unknown) => setUnitsError(errorText(err)));
  };
  useEffect(loadUnits, [api]);
  // The picker offers the unit's next shift and its room's members first. A nicety: without them
  // the directory still finds everyone.
  const [nearby, setNearby] = useState<string[]>([]);
  useEffect(() => {
    setNearby([]);
    if (!unit) return;
    let current = true;
    api
      .unitPeople(unit)
      .then((r) => current && setNearby(r.people))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [api, unit]);

  const submit = (e: Event) => {
    e.preventDefault();
    setStarted(null);
    const parsed = validators().StartHandoffBody.safeParse({ room_id: roomId, unit: unit || undefined, incoming: incoming.trim() });
    const errs: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error, WORDING);
    if (!unit) errs.unit = WORDING.unit!;
    // The server refuses it too; saying so here saves a round trip.
    if (!errs.incoming && incoming.trim() === viewer) errs.incoming = "You cannot hand off to yourself: enter the clinician taking over from you.";
    setErrors(errs);
    if (!parsed.success || Object.keys(errs).length) return invalid.show();
    invalid.clear();
    void action.run("Starting the handoff…", async () => {
      const { handoff } = await api.start(parsed.data);
      setStarted(handoff);
      setIncoming("");
      onStarted?.(handoff);
    });
  };

  if (!units) {
    return unitsError ? (
      <RetryNote message={unitsError} onRetry={loadUnits} />
    ) : (
      <p class="muted" role="status">
        Loading units…
      </p>
    );
  }
  if (units.length === 0) return <p class="muted">No unit is set up for handoffs yet. Ask your Rounds administrator to add one.</p>;
  const busy = action.busy !== null;
  return (
    <form aria-label="Start a handoff" onSubmit={submit} noValidate ref={invalid.formRef}>
      {invalid.summary}
      <SelectField
        id="unit"
        label="Unit"
        placeholder={units.length > 1 ? "Choose a unit…" : undefined}
        options={units.map((u) => ({ value: u.id, label: `${u.name} (${TEMPLATE_LABEL[u.template]})` }))}
        value={unit}
        onValue={setUnit}
        error={errors.unit}
        disabled={busy}
      />
      <PersonPicker
        id="incoming"
        label="Incoming clinician"
        hint="Type a name and choose from the list, or type a full Matrix id such as @night.nurse:hospital.org."
        value={incoming}
        onValue={(v) => {
          setStarted(null);
          setIncoming(v);
        }}
        error={errors.incoming}
        nearby={nearby}
        disabled={busy}
      />
      <ActionRow label="Start handoff" busy={action.busy} error={action.error} />
      {started && (
        <p class="success-note" role="status">
          Handoff #{started.number} started.{" "}
          {started.room_id ? (
            <a href={roomLink(started.room_id)} target="_blank" rel="noopener noreferrer">
              Open the room of handoff #{started.number}
            </a>
          ) : (
            "The handoff bot is opening its room and will invite you both."
          )}
        </p>
      )}
    </form>
  );
}
