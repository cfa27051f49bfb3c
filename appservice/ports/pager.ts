import type { Urgency } from "../shared/events/index.js";

/**
 * The paging engine, as other workflows reach it: a page to whoever is on call for a service,
 * with its escalation, loops, fallback and SMS without PHI, and word back when it is
 * acknowledged (✅, `!ack`, SMS reply). The paging workflow provides it; workflows never import
 * each other.
 */
export interface Pager {
  /**
   * Pages `service`. `origin` names what the page is for (e.g. "alert:<id>"): the same origin
   * again continues the page it raised instead of raising another. `note` is encrypted in the
   * page room and never goes into an SMS.
   */
  page(req: { service: string; urgency: Urgency; note: string; origin: string; requester: string }): Promise<{
    number: number;
    targets: string[];
    /** The page's room and its request message there, once delivered: where the targets were told. */
    roomId: string | null;
    eventId: string | null;
  }>;
  /** Closes a page raised for the requester, e.g. once its alert was acknowledged elsewhere: nobody is rung or texted further. */
  resolve(req: { number: number; requester: string }): Promise<void>;
  /** Calls `listener` when a page whose origin starts with `prefix` is acknowledged; it must be idempotent. */
  onAcknowledged(prefix: string, listener: (ack: { origin: string; by: string; via: string; at: Date; number: number }) => Promise<void>): void;
}
