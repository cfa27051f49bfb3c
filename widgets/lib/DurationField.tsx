import { useEffect, useState } from "preact/hooks";
import { Field, wholeNumber, type FieldShell } from "./forms.js";
import { formatMinutes } from "./format.js";

const UNITS = [
  { id: "minutes", label: "minutes", minutes: 1 },
  { id: "hours", label: "hours", minutes: 60 },
  { id: "days", label: "days", minutes: 1440 },
] as const;
type Unit = (typeof UNITS)[number]["id"];

/** The largest unit that shows `minutes` as a whole number: 240 → 4 hours, 2880 → 2 days. */
export function splitMinutes(minutes: number): { amount: string; unit: Unit } {
  const unit = [...UNITS].reverse().find((u) => minutes > 0 && minutes % u.minutes === 0) ?? UNITS[0];
  return { amount: String(minutes / unit.minutes), unit: unit.id };
}

interface DurationProps extends FieldShell {
  /** Whole minutes; NaN while what is typed is not a whole number; null when empty. */
  minutes: number | null;
  onMinutes: (minutes: number | null) => void;
  disabled?: boolean;
}

/**
 * A duration entered as an amount and a unit ("4 hours", "2 days") instead of raw minutes, and
 * read back in words beside it. The value given to the form is whole minutes.
 */
export function DurationField({ minutes, onMinutes, disabled, ...shell }: DurationProps) {
  const [amount, setAmount] = useState(() => (minutes === null || Number.isNaN(minutes) ? "" : splitMinutes(minutes).amount));
  const [unit, setUnit] = useState<Unit>(() => (minutes === null || Number.isNaN(minutes) ? "hours" : splitMinutes(minutes).unit));
  // A value set from outside (a default that arrived later) is shown in its best unit.
  useEffect(() => {
    if (minutes === null || Number.isNaN(minutes)) return;
    const factor = UNITS.find((u) => u.id === unit)!.minutes;
    if (wholeNumber(amount) * factor === minutes) return;
    const s = splitMinutes(minutes);
    setAmount(s.amount);
    setUnit(s.unit);
  }, [minutes]);
  const emit = (a: string, u: Unit) => onMinutes(a.trim() ? wholeNumber(a) * UNITS.find((x) => x.id === u)!.minutes : null);
  const inWords = minutes !== null && Number.isFinite(minutes) && minutes > 0 ? formatMinutes(minutes) : null;

  return (
    <Field {...shell}>
      {(describedBy) => (
        <div class="duration">
          <input
            id={shell.id}
            type="number"
            inputMode="numeric"
            min={1}
            value={amount}
            disabled={disabled}
            aria-invalid={shell.error ? "true" : undefined}
            aria-describedby={describedBy}
            onInput={(e) => {
              setAmount(e.currentTarget.value);
              emit(e.currentTarget.value, unit);
            }}
          />
          <select
            aria-label={`Unit of ${shell.label.toLowerCase()}`}
            value={unit}
            disabled={disabled}
            onChange={(e) => {
              const u = e.currentTarget.value as Unit;
              setUnit(u);
              emit(amount, u);
            }}
          >
            {UNITS.map((u) => (
              <option key={u.id} value={u.id}>
                {u.label}
              </option>
            ))}
          </select>
          {inWords && <span class="muted"> = {inWords}</span>}
        </div>
      )}
    </Field>
  );
}
