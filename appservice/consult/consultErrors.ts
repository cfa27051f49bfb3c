import { DomainError, type DomainErrorCode } from "../shared/domainError.js";

export type ConsultErrorCode = DomainErrorCode | "unknown_service" | "nobody_available" | "room_not_ready";

const CODE: Partial<Record<ConsultErrorCode, DomainErrorCode>> = { unknown_service: "not_found", nobody_available: "unavailable", room_not_ready: "conflict" };

/** A consult call that was refused (see DomainError); the reason shows in the errcode. */
export class ConsultError extends DomainError {
  constructor(reason: ConsultErrorCode, humanMessage: string) {
    super(CODE[reason] ?? (reason as DomainErrorCode), humanMessage, reason, "consult");
    this.name = "ConsultError";
  }
}
