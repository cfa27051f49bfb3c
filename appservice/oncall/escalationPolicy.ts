import type { Urgency } from "../shared/events/index.js";

/**
 * How a page climbs when nobody acknowledges: ordered steps, each a schedule level of the
 * service, a named person, or a named backup chain (everyone in it is notified together).
 * After the last step the steps repeat `loops` more times, then the fallback is notified.
 */
export type EscalationTarget =
  | { kind: "level"; level: string }
  | { kind: "user"; userId: string }
  | { kind: "chain"; name: string; members: string[] };

export interface EscalationPolicy {
  steps: EscalationTarget[];
  /** Extra passes over the steps after the first; 0 means go through once. */
  loops: number;
  fallback: EscalationTarget | null;
  /** Per-urgency wait before escalating, in seconds; missing urgencies use the configured defaults. */
  delaysSeconds: Partial<Record<Urgency, number>>;
}
