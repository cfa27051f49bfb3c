import { createHash } from "node:crypto";
import { ClientEventSchema, RECEIPT_EVENT_ID_PREFIX, RECEIPT_EVENT_TYPE, type ClientEvent } from "../shared/events/index.js";

/**
 * Read receipts as the inbox keeps them. Synapse pushes them to the appservice as ephemeral
 * `m.receipt` events (MSC2409), one per room, with no event id. Each (room, event, reader) becomes
 * one event here, with an id derived from those, so a receipt sent again is stored once and a
 * receipt is as durable as any other event: a workflow that records reads (the alert trail)
 * loses none on a crash.
 */
export function receiptEvents(ephemeral: readonly unknown[]): ClientEvent[] {
  // By id: Synapse may send the same receipts under the stable and the unstable key.
  const out = new Map<string, ClientEvent>();
  for (const raw of ephemeral) {
    const e = raw as { type?: unknown; room_id?: unknown; content?: unknown };
    if (e?.type !== "m.receipt" || typeof e.room_id !== "string" || typeof e.content !== "object" || e.content === null) continue;
    for (const [eventId, byType] of Object.entries(e.content as Record<string, unknown>)) {
      // Only public read receipts: private ones are not shared, and other types are not reads.
      const readers = (byType as Record<string, unknown> | null)?.["m.read"];
      if (typeof readers !== "object" || readers === null) continue;
      for (const [userId, receipt] of Object.entries(readers as Record<string, unknown>)) {
        const ts = (receipt as { ts?: unknown } | null)?.ts;
        const id = createHash("sha256").update(`${e.room_id}\u0000${eventId}\u0000${userId}`).digest("base64url");
        const parsed = ClientEventSchema.safeParse({
          event_id: `${RECEIPT_EVENT_ID_PREFIX}${id}`,
          room_id: e.room_id,
          sender: userId,
          type: RECEIPT_EVENT_TYPE,
          origin_server_ts: typeof ts === "number" && Number.isSafeInteger(ts) && ts >= 0 ? ts : Date.now(),
          content: { event_id: eventId },
        });
        // A receipt naming no proper user or room is dropped like any invalid event.
        if (parsed.success) out.set(parsed.data.event_id, parsed.data);
      }
    }
  }
  return [...out.values()];
}
