import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { waitForHomeserver } from "../matrix/homeserverReady.js";
import { withPrivateUmask } from "../shared/privateFiles.js";
import { stopChild } from "./supervisor.js";
import { venvPython } from "./synapseConfig.js";

export interface RunningSynapse {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
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
