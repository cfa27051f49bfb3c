import { useState } from "preact/hooks";
import { HandoffEventType, ILLNESS_SEVERITIES } from "../../appservice/shared/events/terms.js";
import type { HandoffItemContent } from "../../appservice/shared/events/index.js";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ActionRow, SelectField, TextField, useAction, useErrorSummary, type FieldErrors } from "../lib/forms.js";
import { SEVERITY_LABEL, TEMPLATE_LABEL } from "../lib/handoffLabels.js";
import type { ActionProps } from "./actionProps.js";
import { ContingenciesField } from "./ContingenciesField.js";
import { newClientId } from "./ids.js";
import { EMPTY_DRAFT, buildItem, draftOf, type ItemDraft } from "./itemDraft.js";
import { TasksField } from "./TasksField.js";
import { useSendOnce } from "../lib/useSendOnce.js";

export interface ItemFormProps extends ActionProps {
  /** The patient being edited and its current content; absent for a new patient. */
  editing?: { entry: HandoffEntryView; item: HandoffItemContent } | undefined;
  onDone: () => void;
}

/**
 * One patient's handoff item, as SBAR or I-PASS with the common sections. The content goes into
 * an encrypted room event; the API only hears that event's id. An edit is a new version of the
 * same entry that names the version it replaces.
 */
export function ItemForm({ api, roomId, handoff, room, onView, editing, onDone }: ItemFormProps) {
  const [draft, setDraft] = useState<ItemDraft>(() => (editing ? draftOf(editing.item) : EMPTY_DRAFT));
  const [entryId] = useState(() => editing?.entry.entry_id ?? newClientId());
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();
  const invalid = useErrorSummary();
  const template = editing?.item.template ?? handoff.template;
  const idPrefix = `item-${entryId}`;
  const busy = action.busy !== null;

  const set = (k: keyof ItemDraft) => (value: string) => setDraft((d) => ({ ...d, [k]: value }));

  const submit = (e: Event) => {
    e.preventDefault();
    const built = buildItem(draft, {
      handoffId: handoff.id,
      entryId,
      version: editing ? editing.entry.version + 1 : 1,
      replaces: editing?.entry.item_event_id,
      template,
      anchorEventId: handoff.anchor_event_id,
    });
    if ("errors" in built) {
      setErrors(built.errors);
      invalid.show();
      return;
    }
    setErrors({});
    invalid.clear();
    const content = built.content as Record<string, unknown>;
    void action.run("Sending the encrypted patient details…", async (step) => {
      const eventId = await once.send(content, () => room.send(HandoffEventType.Item, content));
      step(editing ? "Saving the new version…" : "Adding the patient…");
      onView((await api.items(handoff.id, { room_id: roomId, event_id: eventId })).handoff);
      once.done();
      onDone();
    });
  };

  const text = (k: keyof ItemDraft, label: string, error: string | undefined, rows?: number, hint?: string) => (
    <TextField id={`${idPrefix}-${k}`} label={label} hint={hint} rows={rows} value={draft[k] as string} onValue={set(k)} error={error} disabled={busy} />
  );

  return (
    <form aria-label={editing ? `Edit patient ${editing.entry.number}` : "New patient"} onSubmit={submit} noValidate class="panel" ref={invalid.formRef}>
      <h3>{editing ? `Edit patient ${editing.entry.number}` : "New patient"}</h3>
      {invalid.summary}
      <p class="muted">{TEMPLATE_LABEL[template]} handoff. Everything here is sent encrypted in this room.</p>
      {text("patientRef", "Patient or encounter reference", errors.patient_ref, undefined, "The FHIR id from the record, e.g. Patient/123 or Encounter/abc-42.")}
      {text("label", "Label (optional)", errors.label, undefined, "A short label for the list, such as the bed.")}
      {/* What can harm the patient in the next hour comes before the narrative. */}
      {text("alerts", "Critical alerts (optional)", errors.critical_alerts, 2, "One per line: allergies, difficult airway, isolation…")}
      {text("medications", "Medication changes (optional)", errors.medication_changes, 2, "One per line: started, stopped or changed today.")}
      {template === "sbar" ? (
        <>
          {text("situation", "Situation", errors.situation, 3)}
          {text("background", "Background", errors.background, 3)}
          {text("assessment", "Assessment", errors.assessment, 3)}
          {text("recommendation", "Recommendation", errors.recommendation, 3)}
        </>
      ) : (
        <>
          <SelectField
            id={`${idPrefix}-severity`}
            label="Illness severity"
            placeholder="Choose…"
            options={ILLNESS_SEVERITIES.map((s) => ({ value: s, label: SEVERITY_LABEL[s] }))}
            value={draft.severity}
            onValue={set("severity")}
            error={errors.illness_severity}
            disabled={busy}
          />
          {text("summary", "Patient summary", errors.patient_summary, 3)}
          {text("actions", "Action list", errors.action_list, 3)}
          {text("awareness", "Situation awareness", errors.situation_awareness, 3, "What to watch for and what to do if it happens.")}
        </>
      )}
      {text("recentEvents", "Recent events (optional)", errors.recent_events, 2)}
      {text("codeStatus", "Code status (optional)", errors.code_status, undefined, "e.g. Full code, DNAR.")}
      <TasksField idPrefix={idPrefix} tasks={draft.tasks} onTasks={(tasks) => setDraft((d) => ({ ...d, tasks }))} errors={errors} defaultOwner={handoff.outgoing} disabled={busy} />
      <ContingenciesField
        idPrefix={idPrefix}
        contingencies={draft.contingencies}
        onContingencies={(contingencies) => setDraft((d) => ({ ...d, contingencies }))}
        errors={errors}
        disabled={busy}
      />
      <ActionRow label={editing ? "Save changes" : "Add patient"} busy={action.busy} error={action.error} />
      <div class="buttons">
        <button type="button" disabled={busy} onClick={onDone}>
          {editing ? "Discard changes" : "Close without adding"}
        </button>
      </div>
    </form>
  );
}
