import type { ConsultNoteKind } from "../../appservice/shared/events/index.js";
import { fieldErrors, type FieldErrors } from "../lib/forms.js";
import { useSendOnce } from "../lib/useSendOnce.js";
import type { ActionProps } from "./actionProps.js";
import { validators } from "../lib/validators.js";

/**
 * A reason for declining or cancelling as an encrypted note: checked by the schema the server
 * checks it with, and sent once per text, so a retry after a failed call reuses the same note.
 */
export function useReasonNote({ consult, sendNote }: ActionProps, kind: ConsultNoteKind) {
  const once = useSendOnce();
  const content = (text: string) => ({ consult_id: consult.id, kind, text: text.trim() });
  return {
    /** The field's error, or null when the reason may be sent. */
    check(text: string): FieldErrors | null {
      const parsed = validators().ConsultNoteContentSchema.safeParse(content(text));
      return parsed.success ? null : { reason: fieldErrors(parsed.error).text ?? "Check the reason." };
    },
    send(text: string): Promise<string> {
      const note = content(text);
      return once.send(note, () => sendNote(note));
    },
  };
}
