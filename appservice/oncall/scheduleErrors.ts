import type { Conflict } from "./conflicts.js";

/** A request that breaks a scheduling rule; the message is plain language for the clinician. */
export class ScheduleRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleRuleError";
  }
}

/** Something the caller referred to does not exist (an override, absence or swap id). */
export class ScheduleNotFoundError extends ScheduleRuleError {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleNotFoundError";
  }
}

/** A change would leave the schedule with conflicts; nothing was saved. Retry with force to save anyway. */
export class ScheduleConflictError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(
      `Not saved: ${conflicts.length} conflict(s) in the schedule. Fix them, or save anyway with force.\n${conflicts
        .map((c) => `  - ${c.message}`)
        .join("\n")}`,
    );
    this.name = "ScheduleConflictError";
  }
}
