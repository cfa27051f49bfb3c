import { useEffect, useRef, useState } from "preact/hooks";
import { URGENCIES } from "../../appservice/shared/events/terms.js";
import type { ConsultAttachment, ConsultRequestContent } from "../../appservice/shared/events/index.js";
import type { ConsultView, ServicesResponse, SpecialistsResponse } from "../../appservice/shared/consultWidgetApi.js";
import type { ConsultApi } from "../lib/consultApi.js";
import { ActionRow, RetryNote, SelectField, TextField, errorText, fieldErrors, useAction, useErrorSummary, type FieldErrors } from "../lib/forms.js";
import { URGENCY_LABEL } from "../lib/labels.js";
import { AttachmentsField, type PickedFile } from "./AttachmentsField.js";
import { insertTemplate, isBareTemplate } from "./questionTemplate.js";
import { roomLink } from "../lib/matrixTo.js";
import { Person, usePeople } from "../lib/people.js";
import { PeopleField } from "../lib/PersonPicker.js";
import { validators } from "../lib/validators.js";

/** What the form does in its room through Element; a fake in tests. */
export interface RequestRoomActions {
  /** Encrypts one file in the browser and uploads the ciphertext. */
  uploadAttachment: (file: File, mimetype: ConsultAttachment["mimetype"]) => Promise<ConsultAttachment>;
  /** Sends the request as an encrypted room event here; returns its event id. */
  sendRequest: (content: ConsultRequestContent) => Promise<string>;
}

export interface NewConsultFormProps {
  api: Pick<ConsultApi, "services" | "specialists" | "createConsult">;
  roomId: string;
  room: RequestRoomActions;
  onCreated?: (consult: ConsultView) => void;
}

const EMPTY = { service: "", urgency: "", preferred: "", careTeam: [] as string[], careTeamText: "", patientRef: "", question: "", history: "" };
type Draft = typeof EMPTY;

function careTeamList(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

/** The request content without attachments, or the errors to show beside the fields. */
function validate(draft: Draft): { content: ConsultRequestContent } | { errors: FieldErrors } {
  // Chosen people, and whatever ids are typed but not chosen yet.
  const careTeam = [...new Set([...draft.careTeam, ...careTeamList(draft.careTeamText)])];
  const parsed = validators().ConsultRequestContentSchema.safeParse({
    service: draft.service,
    urgency: draft.urgency,
    preferred_specialist: draft.preferred || undefined,
    care_team: careTeam.length ? careTeam : undefined,
    patient_ref: draft.patientRef.trim(),
    question: draft.question,
    history: draft.history.trim() || undefined,
  });
  const errors: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error, { service: "Choose the service to consult." });
  if (errors.care_team) {
    const bad = careTeam.filter((id) => !validators().matrixUserId.safeParse(id).success);
    errors.care_team = bad.length ? `Not a Matrix user id: ${bad.join(", ")}. Use ids like @name:hospital.org.` : errors.care_team;
  }
  if (!errors.question && draft.question.trim() && isBareTemplate(draft.question)) errors.question = "Answer the template's prompts before sending.";
  if (!parsed.success || Object.keys(errors).length) return { errors };
  return { content: parsed.data };
}

/** The new-consult form: validated, attachments encrypted and uploaded, the request sent encrypted, then the consult created. */
export function NewConsultForm({ api, roomId, room, onCreated }: NewConsultFormProps) {
  const [services, setServices] = useState<ServicesResponse | null>(null);
  const [servicesError, setServicesError] = useState<string | null>(null);
  const [specialists, setSpecialists] = useState<SpecialistsResponse["specialists"]>([]);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [fileProblems, setFileProblems] = useState<string[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sentNote, setSentNote] = useState<{ number: number; candidate: string | null; roomId: string | null } | null>(null);
  const people = usePeople(specialists.map((s) => s.user_id));
  // A request sent by a creation that then failed is reused while the form is unchanged.
  const sent = useRef<{ key: string; eventId: string } | null>(null);
  const action = useAction();
  const invalid = useErrorSummary();

  const loadServices = () => {
    setServicesError(null);
    api
      .services()
      .then(setServices)
      .catch((err: unknown) => setServicesError(errorText(err)));
  };
  useEffect(loadServices, [api]);

  useEffect(() => {
    setSpecialists([]);
    if (!draft.service) return;
    let current = true;
    api
      .specialists(draft.service)
      .then((r) => current && setSpecialists(r.specialists))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [api, draft.service]);

  const set = (k: Exclude<keyof Draft, "careTeam">) => (value: string) => {
    setSentNote(null);
    setDraft((d) => ({ ...d, [k]: value, ...(k === "service" ? { preferred: "" } : {}) }));
  };

  const submit = (e: Event) => {
    e.preventDefault();
    setSentNote(null);
    const checked = validate(draft);
    if ("errors" in checked) {
      setErrors(checked.errors);
      invalid.show();
      return;
    }
    setErrors({});
    invalid.clear();
    const key = JSON.stringify([draft, files.map((f) => [f.file.name, f.file.size, f.file.lastModified])]);
    void action.run("Preparing…", async (step) => {
      let eventId = sent.current?.key === key ? sent.current.eventId : null;
      if (!eventId) {
        const attachments: ConsultAttachment[] = [];
        for (const [i, { file, mimetype }] of files.entries()) {
          step(`Encrypting and uploading ${file.name} (${i + 1} of ${files.length})…`);
          attachments.push(await room.uploadAttachment(file, mimetype));
        }
        const content = validators().ConsultRequestContentSchema.parse({ ...checked.content, ...(attachments.length ? { attachments } : {}) });
        step("Sending the encrypted request…");
        eventId = await room.sendRequest(content);
        sent.current = { key, eventId };
      }
      step("Creating the consult…");
      const { consult } = await api.createConsult({ room_id: roomId, event_id: eventId });
      // The specialist is named by <Person>, which fills in their name as the directory answers.
      setSentNote({ number: consult.number, candidate: consult.candidates.at(-1) ?? null, roomId: consult.room_id || null });
      sent.current = null;
      setDraft(EMPTY);
      setFiles([]);
      setFileProblems([]);
      onCreated?.(consult);
    });
  };

  const busy = action.busy !== null;
  return (
    <form aria-label="New consult" onSubmit={submit} noValidate ref={invalid.formRef}>
      {invalid.summary}
      {/* The form shows at once, so the question can be written while the services load. */}
      {servicesError && <RetryNote message={servicesError} onRetry={loadServices} />}
      <SelectField
        id="service"
        label="Service"
        placeholder={services ? "Choose a service…" : servicesError ? "Services not loaded" : "Loading services…"}
        options={(services?.services ?? []).map((s) => ({ value: s.id, label: s.name }))}
        value={draft.service}
        onValue={set("service")}
        error={errors.service}
        disabled={busy || !services}
      />
      <SelectField
        id="urgency"
        label="Urgency"
        placeholder="Choose urgency…"
        options={URGENCIES.map((u) => ({ value: u, label: URGENCY_LABEL[u] }))}
        value={draft.urgency}
        onValue={set("urgency")}
        error={errors.urgency}
        disabled={busy}
      />
      <SelectField
        id="preferred"
        label="Preferred specialist (optional)"
        hint="Otherwise the service's on-call specialist is asked."
        placeholder="Whoever is on call"
        options={specialists.map((s) => ({ value: s.user_id, label: `${people?.label(s.user_id) ?? s.user_id} (${s.available ? "available" : "not available"})` }))}
        value={draft.preferred}
        onValue={set("preferred")}
        error={errors.preferred_specialist}
        disabled={busy || !draft.service}
      />
      <PeopleField
        id="care-team"
        label="Care team members (optional)"
        hint="Type a name and choose from the list, or type a full Matrix id such as @resident:partner-clinic.org. They are invited to the consult room."
        values={draft.careTeam}
        onValues={(careTeam) => setDraft((d) => ({ ...d, careTeam }))}
        pending={draft.careTeamText}
        onPending={set("careTeamText")}
        error={errors.care_team}
        disabled={busy}
      />
      <TextField
        id="patient-ref"
        label="Patient or encounter reference"
        hint="The FHIR id from the record, e.g. Patient/123 or Encounter/abc-42."
        placeholder="Encounter/…"
        value={draft.patientRef}
        onValue={set("patientRef")}
        error={errors.patient_ref}
        disabled={busy}
      />
      <TextField id="question" label="Clinical question" rows={6} value={draft.question} onValue={set("question")} error={errors.question} disabled={busy} />
      <div class="buttons">
        <button type="button" disabled={busy} onClick={() => set("question")(insertTemplate(draft.question))}>
          Insert question template
        </button>
      </div>
      <TextField id="history" label="Relevant history (optional)" rows={4} value={draft.history} onValue={set("history")} error={errors.history} disabled={busy} />
      <AttachmentsField files={files} onFiles={setFiles} problems={fileProblems} onProblems={setFileProblems} maxBytes={services?.max_attachment_bytes ?? 0} disabled={busy || !services} />
      <ActionRow label="Send consult request" busy={action.busy} error={action.error} />
      {sentNote && (
        <p class="success-note" role="status">
          {sentNote.candidate ? (
            <>
              Consult #{sentNote.number} sent to <Person id={sentNote.candidate} />.
            </>
          ) : (
            `Consult #${sentNote.number} created; no specialist is available yet, the coordinators were told.`
          )}
          {sentNote.roomId && (
            <>
              {" "}
              <a href={roomLink(sentNote.roomId)} target="_blank" rel="noopener noreferrer">
                Open the consult room
              </a>
            </>
          )}
        </p>
      )}
    </form>
  );
}
