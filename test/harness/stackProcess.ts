import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { killOnExit } from "./processes.js";
import { waitUntil } from "./waitUntil.js";

/** `npm start` as a test drives it: the process, what it printed, and the processes it started. */
export class StackProcess {
  output = "";
  private readonly seen = new Set<number>();

  private constructor(readonly child: ChildProcess) {
    killOnExit(child);
    child.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  /** runStack.ts alone, as the older tests start it. */
  static runStack(env: Record<string, string>): StackProcess {
    return new StackProcess(spawn(process.execPath, ["--no-deprecation", "--import", "tsx", join(repoRoot, "appservice", "setup", "runStack.ts")], { env, stdio: ["ignore", "pipe", "pipe"] }));
  }

  /**
   * scripts/setup.mjs handing over to runStack.ts, exactly what `npm start` runs, in its own process
   * group as a terminal would start it (so the test can signal the group, as Ctrl-C does).
   */
  static npmStart(env: Record<string, string>): StackProcess {
    assertSetupUpToDate();
    const child = spawn(process.execPath, [join(repoRoot, "scripts", "setup.mjs"), "--then", "--import", "tsx", "appservice/setup/runStack.ts"], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    return new StackProcess(child);
  }

  /** `npm start` itself, through npm (which runs setup.mjs under `sh -c`). */
  static npmRunStart(env: Record<string, string>, home: string): StackProcess {
    assertSetupUpToDate();
    const child = spawn("npm", ["start"], {
      cwd: repoRoot,
      env: { ...env, HOME: home, npm_config_update_notifier: "false", npm_config_fund: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    return new StackProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Resolves with the first match of `pattern` in the output from `from` on; fails if the stack
   * exits first, unless `afterExit` (npm exits before the stack it started has stopped).
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, opts: { from?: number; afterExit?: boolean } = {}): Promise<RegExpMatchArray> {
    return waitUntil(
      async () => {
        const m = this.output.slice(opts.from ?? 0).match(pattern);
        if (m) return m;
        if (!opts.afterExit && (this.child.exitCode !== null || this.child.signalCode !== null)) throw new Error(`the stack exited before printing ${pattern}:\n${this.output}`);
        return null;
      },
      `${pattern} in the output of npm start:\n${this.output}`,
      timeoutMs,
    );
  }

  /** Every process below the stack's own, now; all of them are remembered for `leftovers`. */
  descendants(): number[] {
    const out: number[] = [];
    const queue = [this.pid];
    while (queue.length > 0) {
      const r = spawnSync("ps", ["-o", "pid=", "--ppid", String(queue.shift())], { encoding: "utf8" });
      for (const pid of r.stdout.split("\n").map((s) => Number(s.trim())).filter((n) => n > 0)) {
        out.push(pid);
        queue.push(pid);
      }
    }
    for (const pid of out) this.seen.add(pid);
    return out;
  }

  /** The one process below the stack whose command line contains `what`, e.g. "scripts/appservice.mjs". */
  processRunning(what: string): number {
    const cmdline = (pid: number) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ") : "");
    const pids = this.descendants().filter((pid) => cmdline(pid).includes(what));
    if (pids.length !== 1) throw new Error(`expected one process running ${what} below npm start, found ${pids.length}`);
    return pids[0]!;
  }

  /** Processes seen below the stack that are still alive. */
  leftovers(): number[] {
    return [...this.seen].filter(alive);
  }

  /** After a test: nothing it started may keep holding ports. */
  killAll(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    for (const pid of this.leftovers()) process.kill(pid, "SIGKILL");
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it has exited but its parent has not reaped it yet.
  const r = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
  return r.stdout.trim() !== "" && !r.stdout.trim().startsWith("Z");
}

/** Whether nothing listens on the loopback port any more. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * setup.mjs runs `npm ci` or pip when its inputs changed. A test must never do that to the shared
 * checkout, so it refuses to start unless the install steps are already up to date.
 */
function assertSetupUpToDate(): void {
  const stateDir = join(repoRoot, ".rounds", "setup-state");
  const hash = (...files: string[]) => {
    const h = createHash("sha256");
    for (const f of files) h.update(existsSync(join(repoRoot, f)) ? readFileSync(join(repoRoot, f)) : "");
    return h.digest("hex");
  };
  const recorded = (name: string) => (existsSync(join(stateDir, name)) ? readFileSync(join(stateDir, name), "utf8") : "");
  if (recorded("npm") !== hash("package.json", "package-lock.json") || recorded("pip") !== hash("synapse-config/requirements.txt")) {
    throw new Error("the Node or Python dependencies changed since the last setup; run `npm start` (or `npm test`) once, then this test");
  }
}
