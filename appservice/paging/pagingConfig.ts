import { z } from "zod";
import { ConfigError, cronExpression, positiveInt, seconds, url, type CoreConfig } from "../shared/config.js";
import type { Urgency } from "../shared/events/index.js";
import type { WorkflowConfig } from "../workflow.js";

/** Seconds after an unacknowledged page before the SMS fallback, or off. */
const smsDelay = z
  .string()
  .regex(/^(off|\d{1,6})$/, "must be a number of seconds, or off")
  .transform((v) => (v === "off" ? null : Number(v)));

export interface PagingConfig {
  delaysSeconds: Record<Urgency, number>;
  smsAfter: Record<Urgency, number | null>;
  shiftCheckCron: string;
  fatigue: { windowHours: number; limitHours: number };
  /** Unset: SMS fallback is off, and pages notify in Matrix only. */
  twilio: { accountSid: string; authToken: string; from: string; apiUrl?: string } | null;
}

const env = {
  ROUNDS_PAGE_DELAY_EMERGENT: seconds.default(60),
  ROUNDS_PAGE_DELAY_URGENT: seconds.default(300),
  ROUNDS_PAGE_DELAY_ROUTINE: seconds.default(1800),
  /** Default personal rule: seconds after the in-app page before an SMS, per urgency. */
  ROUNDS_SMS_AFTER_EMERGENT: smsDelay.default(30),
  ROUNDS_SMS_AFTER_URGENT: smsDelay.default(120),
  ROUNDS_SMS_AFTER_ROUTINE: smsDelay.default(600),
  ROUNDS_SHIFT_CHECK_CRON: cronExpression("* * * * *").default("* * * * *"),
  ROUNDS_FATIGUE_WINDOW_HOURS: positiveInt.default(168),
  ROUNDS_FATIGUE_LIMIT_HOURS: positiveInt.default(80),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio account SID (AC followed by 32 hex digits)").optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, "must be the Twilio auth token").optional(),
  TWILIO_FROM_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be a phone number in E.164 format, e.g. +15005550006").optional(),
  /** Only for tests or a regional edge: where the Twilio REST API is. */
  TWILIO_API_URL: url.optional(),
};
type Env = { [K in keyof typeof env]: z.infer<(typeof env)[K]> };

/** All three Twilio settings or none: half a configuration is a mistake worth stopping for. */
function twilioConfig(e: Env, core: CoreConfig): PagingConfig["twilio"] {
  const keys = { TWILIO_ACCOUNT_SID: e.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: e.TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER: e.TWILIO_FROM_NUMBER };
  const missing = Object.entries(keys).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length === 3) return null;
  if (missing.length) throw new ConfigError(missing[0]!, `is required when any TWILIO_* setting is given (set ${missing.join(", ")}, or unset all to turn SMS off)`);
  if (!core.publicUrlGiven) {
    throw new ConfigError("ROUNDS_PUBLIC_URL", "is required with Twilio: the https URL where Twilio reaches Rounds for SMS replies and delivery receipts (webhook signatures are checked against it)");
  }
  return { accountSid: e.TWILIO_ACCOUNT_SID!, authToken: e.TWILIO_AUTH_TOKEN!, from: e.TWILIO_FROM_NUMBER!, apiUrl: e.TWILIO_API_URL };
}

export const pagingConfig: WorkflowConfig<PagingConfig> = {
  env,
  read(raw, core) {
    const e = raw as Env;
    return {
      delaysSeconds: { emergent: e.ROUNDS_PAGE_DELAY_EMERGENT, urgent: e.ROUNDS_PAGE_DELAY_URGENT, routine: e.ROUNDS_PAGE_DELAY_ROUTINE },
      smsAfter: { emergent: e.ROUNDS_SMS_AFTER_EMERGENT, urgent: e.ROUNDS_SMS_AFTER_URGENT, routine: e.ROUNDS_SMS_AFTER_ROUTINE },
      shiftCheckCron: e.ROUNDS_SHIFT_CHECK_CRON,
      fatigue: { windowHours: e.ROUNDS_FATIGUE_WINDOW_HOURS, limitHours: e.ROUNDS_FATIGUE_LIMIT_HOURS },
      twilio: twilioConfig(e, core),
    };
  },
};
