import { positiveInt } from "../shared/config.js";
import type { Urgency } from "../shared/events/index.js";
import type { WorkflowConfig } from "../workflow.js";

export interface ConsultConfig {
  acceptSeconds: Record<Urgency, number>;
  expectedResponseMinutes: Record<Urgency, number>;
  maxAttachmentBytes: number;
}

const env = {
  /** Seconds a consult candidate has to accept or decline before the consult escalates. */
  ROUNDS_CONSULT_ACCEPT_EMERGENT: positiveInt.default(300),
  ROUNDS_CONSULT_ACCEPT_URGENT: positiveInt.default(900),
  ROUNDS_CONSULT_ACCEPT_ROUTINE: positiveInt.default(7200),
  /** Default expected response time a consultant commits to on accepting, per urgency. */
  ROUNDS_CONSULT_RESPONSE_EMERGENT_MINUTES: positiveInt.default(30),
  ROUNDS_CONSULT_RESPONSE_URGENT_MINUTES: positiveInt.default(240),
  ROUNDS_CONSULT_RESPONSE_ROUTINE_MINUTES: positiveInt.default(2880),
  ROUNDS_CONSULT_MAX_ATTACHMENT_MB: positiveInt.max(1024, "must be at most 1024 (MB)").default(25),
};

export const consultConfig: WorkflowConfig<ConsultConfig> = {
  env,
  read(raw) {
    const e = raw as Record<keyof typeof env, number>;
    return {
      acceptSeconds: { emergent: e.ROUNDS_CONSULT_ACCEPT_EMERGENT, urgent: e.ROUNDS_CONSULT_ACCEPT_URGENT, routine: e.ROUNDS_CONSULT_ACCEPT_ROUTINE },
      expectedResponseMinutes: {
        emergent: e.ROUNDS_CONSULT_RESPONSE_EMERGENT_MINUTES,
        urgent: e.ROUNDS_CONSULT_RESPONSE_URGENT_MINUTES,
        routine: e.ROUNDS_CONSULT_RESPONSE_ROUTINE_MINUTES,
      },
      maxAttachmentBytes: e.ROUNDS_CONSULT_MAX_ATTACHMENT_MB * 1024 * 1024,
    };
  },
};
