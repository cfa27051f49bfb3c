/** Polls a condition (a database row, a counter) until it holds; fails with `what` on timeout. */
export async function waitUntil<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once the wall clock passes `ts`: for scenarios that need time itself to pass, such as
 * a deadline during an outage, where there is no event to wait for.
 */
export async function untilTime(ts: number): Promise<void> {
  while (Date.now() < ts) await new Promise((r) => setTimeout(r, Math.min(250, ts - Date.now())));
}
