/** The paging workflow's event types, states and vocabularies, without their validators (in paging.ts). */
import { NAMESPACE } from "./commonTerms.js";

export const PAGE_STATE_TYPE = `${NAMESPACE}.page`;

export const PAGE_STATUSES = ["triggered", "notified", "escalated", "acknowledged", "resolved"] as const;
export type PageStatus = (typeof PAGE_STATUSES)[number];
