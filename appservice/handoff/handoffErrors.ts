export type HandoffErrorCode = "not_found" | "forbidden" | "invalid_transition" | "invalid_input" | "sign_off_blocked" | "unknown_unit" | "unknown_user";

/**
 * A handoff call that was refused. `humanMessage` is for the clinician and says what to do next;
 * it names handoffs and patients by number and people by Matrix id, never clinical text. A
 * refused call changes nothing.
 */
export class HandoffError extends Error {
  constructor(
    readonly code: HandoffErrorCode,
    readonly humanMessage: string,
  ) {
    super(humanMessage);
    this.name = "HandoffError";
  }
}
