import type { Db } from "../../db/connect.js";
import type { SubscriptionNotification } from "./fhirResources.js";

export interface NotificationCheck {
  /** Events the server says it sent that never reached Rounds (0 when none). */
  missed: number;
  /** The event numbers missed, when the notification names its own (else only the count is known). */
  firstMissed: number | null;
  lastMissed: number | null;
}

/**
 * What each subscription has delivered so far. The Backport's events-since-subscription-start
 * counts every event the server sent; a notification that runs ahead of what Rounds has seen
 * means notifications were lost (a network fault, a restart), and the source should be asked
 * for them ($events), so they are reported rather than passed over.
 */
export class SubscriptionLedger {
  constructor(private readonly db: Db) {}

  async check(source: string, n: SubscriptionNotification, now = new Date()): Promise<NotificationCheck> {
    return this.db.transaction(async (trx) => {
      const row = (await trx("alert_subscriptions").where({ source, subscription: n.subscription }).forUpdate().first("events_seen")) as { events_seen: number | string } | undefined;
      const seen = row ? Number(row.events_seen) : null;
      const carried = n.eventNumbers.length ? Math.max(...n.eventNumbers) : null;
      const total = Math.max(n.eventsSinceStart ?? 0, carried ?? 0);
      // Events before this notification's own ones that never came: numbered, or only counted.
      const lowest = n.eventNumbers.length ? Math.min(...n.eventNumbers) : total + 1;
      const expectedNext = (seen ?? (n.type === "handshake" ? total : 0)) + 1;
      const missed = Math.max(0, lowest - expectedNext);
      const after = Math.max(seen ?? 0, total);
      if (row) {
        await trx("alert_subscriptions").where({ source, subscription: n.subscription }).update({ events_seen: after, last_notified_at: now }).increment("missed", missed);
      } else {
        await trx("alert_subscriptions").insert({ source, subscription: n.subscription, events_seen: after, missed, last_notified_at: now });
      }
      return { missed, firstMissed: missed ? expectedNext : null, lastMissed: missed ? lowest - 1 : null };
    });
  }
}
