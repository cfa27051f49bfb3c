import type { Logger } from "../logging.js";

export type PingOutcome = { ok: true; durationMs?: number } | { ok: false; why: string };

/**
 * Asks the homeserver to ping us until it gets through. A successful ping makes Synapse resend at
 * once what it queued while we were down; without one it waits out its backoff (up to 8.5 min).
 * Synapse's own ping can fail on a loaded machine (seen: "AlreadyCalled" from Twisted), so one
 * attempt is not enough. Gives up after `giveUpMs`; `stopped()` ends it early.
 */
export async function pingUntilUp(
  ping: () => Promise<PingOutcome>,
  opts: { log: Logger; stopped: () => boolean; delaysMs?: number[]; giveUpMs?: number; sleep?: (ms: number) => Promise<void> },
): Promise<boolean> {
  const delays = opts.delaysMs ?? [500, 1000, 2000, 4000, 8000];
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const deadline = Date.now() + (opts.giveUpMs ?? 120_000);
  for (let attempt = 1; !opts.stopped(); attempt++) {
    const r = await ping().catch((err: unknown): PingOutcome => ({ ok: false, why: (err as Error).message }));
    if (r.ok) {
      opts.log.info({ durationMs: r.durationMs, attempt }, "homeserver reached us: appservice link is up");
      return true;
    }
    if (Date.now() >= deadline) {
      opts.log.warn({ why: r.why, attempt }, "homeserver could not reach the appservice; check the registration url. Synapse will still resend on its own schedule");
      return false;
    }
    opts.log.warn({ why: r.why, attempt }, "appservice ping did not get through; trying again");
    await sleep(delays[Math.min(attempt - 1, delays.length - 1)]!);
  }
  return false;
}

/** One ping through the homeserver's /appservice/{id}/ping (Matrix 1.7). */
export function homeserverPing(homeserverUrl: string, appserviceId: string, asToken: string): () => Promise<PingOutcome> {
  const url = `${homeserverUrl}/_matrix/client/v1/appservice/${encodeURIComponent(appserviceId)}/ping`;
  let n = 0;
  return async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${asToken}`, "content-type": "application/json" },
      body: JSON.stringify({ transaction_id: `rounds-start-${Date.now()}-${++n}` }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json().catch(() => ({}))) as { duration_ms?: number; errcode?: string; error?: string };
    return res.ok ? { ok: true, durationMs: body.duration_ms } : { ok: false, why: `${res.status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim() };
  };
}
