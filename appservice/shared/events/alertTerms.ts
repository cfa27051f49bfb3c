/** The alerts workflow's state type and vocabularies, without their validators (in alert.ts). */
import { NAMESPACE } from "./commonTerms.js";

export const ALERT_STATE_TYPE = `${NAMESPACE}.alert`;

export const ALERT_PRIORITIES = ["critical", "urgent", "informational"] as const;
export type AlertPriority = (typeof ALERT_PRIORITIES)[number];

/** open: waiting for acknowledgement; cleared: a normal follow-up (or correction) closed it. */
export const ALERT_STATUSES = ["open", "acknowledged", "resolved", "cleared"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** A time of day as quiet hours take it: 24-hour HH:MM. */
export const HH_MM_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
