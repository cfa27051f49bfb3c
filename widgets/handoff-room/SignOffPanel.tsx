import { useState } from "preact/hooks";
import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import { ActionRow, TextField, useAction, type FieldErrors } from "../lib/forms.js";
import { useFormatTime } from "../lib/zone.js";
import { reference, type ActionProps } from "./actionProps.js";
import { isClear } from "../../appservice/shared/handoffApiTerms.js";
import { outstandingItems } from "./outstanding.js";
import type { HandoffContent } from "./roomData.js";
import { isOpen, rolesOf } from "./roles.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import { People, Person } from "../lib/people.js";
import { validators } from "../lib/validators.js";

const MIN_REASON = 5;

/** Whether the viewer may still sign off this handoff. */
export function canSignOff(handoff: ActionProps["handoff"], viewer: string): boolean {
  return rolesOf(handoff, viewer).participant && isOpen(handoff) && !handoff.signed_off_by.includes(viewer) && !handoff.sign_offs.some((s) => s.user_id === viewer);
}

/**
 * Each participant signs off. While something is outstanding the plain sign-off is not offered,
 * and the list says what is missing, each line a link to it. Signing anyway is an override
 * (OverrideForm), kept behind "More actions".
 */
export function SignOffPanel(props: ActionProps & { viewer: string; content: HandoffContent; now: number }) {
  const time = useFormatTime();
  const { api, roomId, handoff, onView, viewer, content, now } = props;
  const action = useAction();
  const signed = handoff.sign_offs.find((s) => s.user_id === viewer) ?? null;
  const others = [handoff.outgoing, handoff.incoming].filter((u) => u !== viewer && !handoff.signed_off_by.includes(u));
  const missing = outstandingItems(handoff.outstanding, handoff.entries.length);
  const blocked = !isClear(handoff.outstanding);
  const canSign = canSignOff(handoff, viewer);

  const signOff = () => void action.run("Signing off…", async () => onView((await api.signOff(handoff.id, { room_id: roomId })).handoff));

  return (
    <section aria-label="Sign off">
      <h2>Sign off</h2>
      {handoff.sign_offs.length > 0 && (
        <ul class="plain">
          {handoff.sign_offs.map((s) => (
            <li key={s.user_id}>
              Signed off by <Person id={s.user_id} /> at {time(s.ts, now)}
              {s.override_event_id && (
                <>
                  {" "}
                  <strong class="badge overdue">override</strong>{" "}
                  <span class="prose">{content.notes.get(s.override_event_id)?.text ?? "(reason not loaded yet)"}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {signed && isOpen(handoff) && others.length > 0 && <p class="muted">
          Waiting for <People ids={others} joiner=" and " /> to sign off.
        </p>}
      {canSign && !blocked && (
        <>
          <p>{handoff.entries.length === 0 ? "No patient presented, and the checklist is done." : "Every patient is read back, every question answered and the checklist done."}</p>
          <ActionRow label="Sign off" busy={action.busy} error={action.error} onClick={signOff} />
        </>
      )}
      {canSign && blocked && (
        <div role="group" aria-label="Not ready to sign off" class="outstanding">
          <p>
            <strong>Not ready to sign off:</strong>
          </p>
          <ul>
            {missing.map((m) => (
              <li key={m.text}>
                <a href={m.href}>{m.text}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

/** Signing off with something outstanding: an override, which needs a reason (an encrypted note the server reads). */
export function OverrideForm(props: ActionProps) {
  const { api, roomId, handoff, room, onView } = props;
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const once = useSendOnce();
  const action = useAction();

  const override = (e: Event) => {
    e.preventDefault();
    const note = validators().HandoffNoteContentSchema.safeParse({ handoff_id: handoff.id, kind: "override", text: reason, ...reference(handoff.anchor_event_id) });
    if (reason.trim().length < MIN_REASON || !note.success) return setErrors({ reason: `Give the reason for overriding (at least ${MIN_REASON} characters).` });
    setErrors({});
    const noteContent = note.data as Record<string, unknown>;
    void action.run("Sending the encrypted reason…", async (step) => {
      const eventId = await once.send(noteContent, () => room.send(HandoffEventType.Note, noteContent));
      step("Signing off…");
      onView((await api.signOff(handoff.id, { room_id: roomId, override_event_id: eventId })).handoff);
      once.done();
    });
  };

  return (
    <form aria-label="Sign off anyway" onSubmit={override} noValidate>
      <h2>Sign off anyway</h2>
      <p>
        Signing off with something outstanding is an override: your reason and what was outstanding stay on the handoff's record and count in the unit's quality
        figures.
      </p>
      <TextField
        id="override-reason"
        label="Reason for signing off anyway"
        hint="Sent encrypted in this room and kept with the handoff's record."
        rows={2}
        value={reason}
        onValue={setReason}
        error={errors.reason}
        disabled={action.busy !== null}
      />
      <ActionRow label="Sign off anyway (override)" kind="danger" busy={action.busy} error={action.error} />
    </form>
  );
}
