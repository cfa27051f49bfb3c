import { useEffect, useRef, useState } from "preact/hooks";
import { HandoffEventType, INCIDENT_CATEGORIES } from "../../appservice/shared/events/terms.js";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ActionRow, SelectField, TextField, fieldErrors, useAction, type FieldErrors } from "../lib/forms.js";
import { INCIDENT_LABEL } from "../lib/handoffLabels.js";
import { reference, type ActionProps } from "./actionProps.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { validators } from "../lib/validators.js";

/**
 * Reports a handoff incident about one patient: a category (a workflow fact the server keeps) and,
 * if given, a description, which is free text and so travels as an encrypted note.
 */
export function IncidentForm({ api, roomId, handoff, room, onView, entry, open, onClose }: ActionProps & { entry: HandoffEntryView; open: boolean; onClose: () => void }) {
  const form = useRef<HTMLFormElement>(null);
  const [category, setCategory] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [reported, setReported] = useState<string | null>(null);
  const once = useSendOnce();
  const action = useAction();
  // Opened from the card's menu, which closes: focus goes to the form's first field.
  useEffect(() => {
    if (open) form.current?.querySelector("select")?.focus();
  }, [open]);

  const submit = (e: Event) => {
    e.preventDefault();
    setReported(null);
    const body = validators().IncidentBody.safeParse({ room_id: roomId, entry_id: entry.entry_id, category });
    const note = description.trim()
      ? validators().HandoffNoteContentSchema.safeParse({ handoff_id: handoff.id, kind: "incident", text: description, entry_id: entry.entry_id, ...reference(handoff.anchor_event_id) })
      : null;
    const errs: FieldErrors = { ...(body.success ? {} : fieldErrors(body.error, { category: "Choose what went wrong." })), ...(note?.success === false ? { description: "Keep the description under 4000 characters." } : {}) };
    setErrors(errs);
    if (!body.success || note?.success === false) return;
    const noteContent = note?.data as Record<string, unknown> | undefined;
    void action.run(noteContent ? "Sending the encrypted description…" : "Reporting the incident…", async (step) => {
      const noteEventId = noteContent ? await once.send(noteContent, () => room.send(HandoffEventType.Note, noteContent)) : undefined;
      step("Reporting the incident…");
      const res = await api.incidents(handoff.id, { ...body.data, ...(noteEventId ? { note_event_id: noteEventId } : {}) });
      once.done();
      onView(res.handoff);
      setReported(res.incident ? `Incident #${res.incident} reported. The unit's reviewers were told.` : "Incident reported. The unit's reviewers were told.");
      setCategory("");
      setDescription("");
      onClose();
    });
  };

  return (
    <div class="incident">
      {reported && (
        <p class="success-note" role="status">
          {reported}
        </p>
      )}
      {open && (
        <form aria-label={`Report an incident about patient ${entry.number}`} onSubmit={submit} noValidate class="panel" ref={form}>
          <SelectField
            id={`incident-${entry.entry_id}-category`}
            label="What went wrong"
            placeholder="Choose…"
            options={INCIDENT_CATEGORIES.map((c) => ({ value: c, label: INCIDENT_LABEL[c] }))}
            value={category}
            onValue={setCategory}
            error={errors.category}
            disabled={action.busy !== null}
          />
          <TextField
            id={`incident-${entry.entry_id}-description`}
            label="What happened (optional)"
            hint="Sent encrypted in this room; the unit's reviewers get a link only."
            rows={3}
            value={description}
            onValue={setDescription}
            error={errors.description}
            disabled={action.busy !== null}
          />
          <ActionRow label="Report incident" busy={action.busy} error={action.error} />
          <div class="buttons">
            <button type="button" disabled={action.busy !== null} onClick={onClose}>
              Close without reporting
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
