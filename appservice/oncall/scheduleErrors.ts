import { DomainError, type DomainErrorCode } from "../shared/domainError.js";
import type { Conflict } from "./conflicts.js";

/** A conflict as JSON, dates as ISO strings. */
export function conflictJson(c: Conflict) {
  return { ...c, from: c.from.toISOString(), until: c.until.toISOString() };
}

/** A request that breaks a scheduling rule; the message is plain language for the clinician. */
export class ScheduleRuleError extends DomainError {
  constructor(message: string, code: DomainErrorCode = "invalid_input") {
    super(code, message, code, "schedule");
    this.name = "ScheduleRuleError";
  }
}

/** Something the caller referred to does not exist (an override, absence or swap id). */
export class ScheduleNotFoundError extends ScheduleRuleError {
  constructor(message: string) {
    super(message, "not_found");
    this.name = "ScheduleNotFoundError";
  }
}

/**
 * A change would leave the schedule with conflicts; nothing was saved. Retry with force to save
 * anyway. `message` is for a coordinator's terminal, `humanMessage` for a chat reply.
 */
export class ScheduleConflictError extends DomainError {
  constructor(readonly conflicts: Conflict[]) {
    super("conflict", `That would clash with the schedule, so nothing changed:\n${conflicts.map((c) => `- ${c.message}`).join("\n")}`, "conflict", "schedule", {
      conflicts: conflicts.map(conflictJson),
    });
    this.message = `Not saved: ${conflicts.length} conflict(s) in the schedule. Fix them, or save anyway with force.\n${conflicts.map((c) => `  - ${c.message}`).join("\n")}`;
    this.name = "ScheduleConflictError";
  }
}
