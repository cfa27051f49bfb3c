import { TextField, type FieldErrors } from "../lib/forms.js";
import { newContingency, type ContingencyDraft } from "./itemDraft.js";

interface Props {
  idPrefix: string;
  contingencies: ContingencyDraft[];
  onContingencies: (rows: ContingencyDraft[]) => void;
  errors: FieldErrors;
  disabled: boolean;
}

/** Contingency plans, each an "if … then …" pair. */
export function ContingenciesField({ idPrefix, contingencies, onContingencies, errors, disabled }: Props) {
  const set = (i: number, k: "if" | "then") => (value: string) => onContingencies(contingencies.map((c, j) => (j === i ? { ...c, [k]: value } : c)));
  return (
    <fieldset class="rows">
      <legend>Contingency plans</legend>
      {contingencies.length === 0 && <p class="muted">No contingency plans.</p>}
      {contingencies.map((c, i) => (
        <fieldset key={c.key} class="row">
          <legend>Contingency {i + 1}</legend>
          <TextField id={`${idPrefix}-if-${i}`} label="If" placeholder="e.g. systolic below 90" value={c.if} onValue={set(i, "if")} error={errors[`contingencies.${i}.if`]} disabled={disabled} />
          <TextField
            id={`${idPrefix}-then-${i}`}
            label="Then"
            placeholder="e.g. 500 ml bolus and call the registrar"
            value={c.then}
            onValue={set(i, "then")}
            error={errors[`contingencies.${i}.then`]}
            disabled={disabled}
          />
          <button type="button" disabled={disabled} onClick={() => onContingencies(contingencies.filter((_, j) => j !== i))}>
            Remove contingency {i + 1}
          </button>
        </fieldset>
      ))}
      {errors.contingencies && <p class="field-error">{errors.contingencies}</p>}
      <div class="buttons">
        <button type="button" disabled={disabled} onClick={() => onContingencies([...contingencies, newContingency()])}>
          Add contingency
        </button>
      </div>
    </fieldset>
  );
}
