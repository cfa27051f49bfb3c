export type ConsultErrorCode = "not_found" | "forbidden" | "invalid_transition" | "invalid_input" | "unknown_service" | "nobody_available";

/**
 * A consult call that was refused. `humanMessage` is for the clinician and says what to do next;
 * it names consults by number and people by Matrix id, never clinical text. A refused call
 * changes nothing.
 */
export class ConsultError extends Error {
  constructor(
    readonly code: ConsultErrorCode,
    readonly humanMessage: string,
  ) {
    super(humanMessage);
    this.name = "ConsultError";
  }
}
