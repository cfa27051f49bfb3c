import { DomainError, type DomainErrorCode } from "../shared/domainError.js";

export type HandoffErrorCode = DomainErrorCode | "sign_off_blocked" | "unknown_unit" | "unknown_user";

const CODE: Partial<Record<HandoffErrorCode, DomainErrorCode>> = { sign_off_blocked: "invalid_transition", unknown_unit: "not_found", unknown_user: "not_found" };

/** A handoff call that was refused (see DomainError); the reason shows in the errcode. */
export class HandoffError extends DomainError {
  constructor(reason: HandoffErrorCode, humanMessage: string) {
    super(CODE[reason] ?? (reason as DomainErrorCode), humanMessage, reason, "handoff");
    this.name = "HandoffError";
  }
}
