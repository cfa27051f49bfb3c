/**
 * What a domain service may refuse with. Adapters translate the code once each: the bot command
 * table into a reply, the HTTP APIs into a status (http/errors.ts). Nothing recognises an error
 * by its sentence.
 */
export type DomainErrorCode = "not_found" | "forbidden" | "invalid_transition" | "invalid_input" | "conflict" | "unavailable";

/**
 * A refused call, which changed nothing. `humanMessage` is for the clinician and says what to do
 * next; it names objects by number and people by Matrix id, never clinical text. `reason` is the
 * workflow's finer cause (say "nobody_available"), which API clients see in the errcode.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    readonly humanMessage: string,
    readonly reason: string = code,
    readonly workflow = "rounds",
    /** What an API client needs to try again (the known services, the clashes); JSON-safe. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(humanMessage);
    this.name = "DomainError";
  }

  /** `RND_<WORKFLOW>_<REASON>`, e.g. RND_CONSULT_NOBODY_AVAILABLE. */
  get errcode(): string {
    return `RND_${this.workflow}_${this.reason}`.toUpperCase();
  }
}
