import { useRef } from "preact/hooks";
import { ConsultNoteContentSchema, type ConsultNoteKind } from "../../appservice/shared/events/index.js";
import { fieldErrors, type FieldErrors } from "../lib/forms.js";
import type { ActionProps } from "./actionProps.js";

/**
 * A reason for declining or cancelling as an encrypted note: checked by the schema the server
 * checks it with, and sent once per text, so a retry after a failed call reuses the same note.
 */
export function useReasonNote({ consult, sendNote }: ActionProps, kind: ConsultNoteKind) {
  const sent = useRef<{ text: string; eventId: string } | null>(null);
  return {
    /** The field's error, or null when the reason may be sent. */
    check(text: string): FieldErrors | null {
      const parsed = ConsultNoteContentSchema.safeParse({ consult_id: consult.id, kind, text });
      return parsed.success ? null : { reason: fieldErrors(parsed.error).text ?? "Check the reason." };
    },
    async send(text: string): Promise<string> {
      if (sent.current?.text === text) return sent.current.eventId;
      const eventId = await sendNote({ consult_id: consult.id, kind, text: text.trim() });
      sent.current = { text, eventId };
      return eventId;
    },
  };
}
