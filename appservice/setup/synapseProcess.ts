import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { withPrivateUmask } from "../shared/privateFiles.js";
import { stopChild } from "./supervisor.js";
import { venvPython } from "./synapseConfig.js";

export interface RunningSynapse {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

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

/**
 * Synapse has no way to notice that whoever started it died: if that process is killed -9, its
 * stop code never runs and Synapse would hold its port for good. Linux's parent-death signal
 * (util-linux's setpriv, in Debian's base system) sends it SIGTERM instead; elsewhere it runs as is.
 */
function orphanProof(command: string, args: string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "TERM", "--", command, ...args]] : [command, args];
}
const SETPRIV = "/usr/bin/setpriv";

export async function startSynapse(configFile: string, url: string): Promise<RunningSynapse> {
  // Synapse creates its SQLite database, log and media itself: they are private from birth.
  const [command, args] = orphanProof(venvPython, ["-m", "synapse.app.homeserver", "-c", configFile]);
  const child = withPrivateUmask(() => spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] }));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    await waitForHomeserver(url, 90_000, child);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return {
    url,
    process: child,
    async stop() {
      // A child killed by a signal has a null exitCode but has exited: waiting for 'exit' would hang.
      await stopChild(child, 10_000);
    },
  };
}
