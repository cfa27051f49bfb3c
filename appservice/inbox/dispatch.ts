import type { ClientEvent } from "../shared/events/index.js";

export interface InboxConsumer {
  handle(event: ClientEvent): Promise<void>;
}

/**
 * Hands each inbox event to every consumer (the bots). If any consumer fails, the event is retried
 * as a whole; consumers are idempotent (replies carry a txn id derived from the event).
 */
export function dispatchTo(consumers: InboxConsumer[]): (event: ClientEvent) => Promise<void> {
  return async (event) => {
    const results = await Promise.allSettled(consumers.map((c) => c.handle(event)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  };
}
