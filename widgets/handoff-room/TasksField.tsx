import { TextField, type FieldErrors } from "../lib/forms.js";
import { newTask, type TaskDraft } from "./itemDraft.js";

interface Props {
  /** Makes the fields' ids unique on the page (one form per patient may be open). */
  idPrefix: string;
  tasks: TaskDraft[];
  onTasks: (tasks: TaskDraft[]) => void;
  errors: FieldErrors;
  /** Who a new task belongs to until changed: the outgoing clinician. */
  defaultOwner: string;
  disabled: boolean;
}

/** The pending tasks of one patient, one group of fields per task. */
export function TasksField({ idPrefix, tasks, onTasks, errors, defaultOwner, disabled }: Props) {
  const set = (i: number, k: keyof TaskDraft) => (value: string) => onTasks(tasks.map((t, j) => (j === i ? { ...t, [k]: value } : t)));
  return (
    <fieldset class="rows">
      <legend>Pending tasks</legend>
      {tasks.length === 0 && <p class="muted">No pending tasks.</p>}
      {tasks.map((t, i) => (
        <fieldset key={t.id} class="row">
          <legend>Task {i + 1}</legend>
          <TextField id={`${idPrefix}-task-${i}`} label="Task" value={t.text} onValue={set(i, "text")} error={errors[`tasks.${i}.text`]} disabled={disabled} />
          <TextField
            id={`${idPrefix}-task-${i}-owner`}
            label="Owner"
            hint="Matrix id; tasks still open at sign-off pass to the incoming clinician."
            value={t.owner}
            onValue={set(i, "owner")}
            error={errors[`tasks.${i}.owner`]}
            disabled={disabled}
          />
          <TextField
            id={`${idPrefix}-task-${i}-due`}
            label="Due (optional)"
            type="datetime-local"
            value={t.due}
            onValue={set(i, "due")}
            error={errors[`tasks.${i}.due_ts`]}
            disabled={disabled}
          />
          <button type="button" disabled={disabled} onClick={() => onTasks(tasks.filter((_, j) => j !== i))}>
            Remove task {i + 1}
          </button>
        </fieldset>
      ))}
      {errors.tasks && <p class="field-error">{errors.tasks}</p>}
      <div class="buttons">
        <button type="button" disabled={disabled} onClick={() => onTasks([...tasks, newTask(defaultOwner)])}>
          Add task
        </button>
      </div>
    </fieldset>
  );
}
