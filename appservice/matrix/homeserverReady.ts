import type { ChildProcess } from "node:child_process";

/** Polls until the client API answers, so callers never race Synapse's start-up. */
export async function waitForHomeserver(url: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`Synapse exited with code ${child.exitCode} during start-up`);
    try {
      const res = await fetch(`${url}/_matrix/client/versions`);
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`homeserver at ${url} did not answer within ${timeoutMs} ms (${lastError})`);
}
