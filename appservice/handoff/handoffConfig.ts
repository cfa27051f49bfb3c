import { cronExpression, positiveInt } from "../shared/config.js";
import type { WorkflowConfig } from "../workflow.js";

export interface HandoffConfig {
  deadlineMinutes: number;
  escalateAfterMinutes: number;
  shiftCron: string;
}

const env = {
  /** Minutes a handoff has to be signed off by both, for units that set no deadline of their own. */
  ROUNDS_HANDOFF_DEADLINE_MINUTES: positiveInt.max(1440, "must be at most 1440 (a day)").default(15),
  /** Minutes after the overdue reminder before the unit's charge role is told. */
  ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES: positiveInt.max(1440, "must be at most 1440 (a day)").default(5),
  /** How often (cron) the units' shift changes are checked to start scheduled handoffs. */
  ROUNDS_HANDOFF_SHIFT_CRON: cronExpression("* * * * *").default("* * * * *"),
};

export const handoffConfig: WorkflowConfig<HandoffConfig> = {
  env,
  read(raw) {
    const e = raw as { ROUNDS_HANDOFF_DEADLINE_MINUTES: number; ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES: number; ROUNDS_HANDOFF_SHIFT_CRON: string };
    return { deadlineMinutes: e.ROUNDS_HANDOFF_DEADLINE_MINUTES, escalateAfterMinutes: e.ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES, shiftCron: e.ROUNDS_HANDOFF_SHIFT_CRON };
  },
};
