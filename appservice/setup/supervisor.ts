import type { ChildProcess } from "node:child_process";

/** Resolves once the child has exited: at once if it already has, since its `exit` event is then long gone. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Asks a child to stop with SIGTERM and kills it if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<"stopped" | "killed"> {
  if (child.exitCode !== null || child.signalCode !== null) return "stopped";
  let killed = false;
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, graceMs);
  await exited(child);
  clearTimeout(timer);
  return killed ? "killed" : "stopped";
}

/** How an exit reads in a message: "code 1" or "signal SIGKILL". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export interface BackoffPolicy {
  firstMs: number;
  maxMs: number;
  /** A run that stayed healthy this long starts the delays over from `firstMs`. */
  healthyResetMs: number;
}

export const RESTART_BACKOFF: BackoffPolicy = { firstMs: 1_000, maxMs: 30_000, healthyResetMs: 60_000 };

export interface SupervisorOptions {
  /** As users read it: "Rounds". */
  name: string;
  /** Starts run number `run` (1, 2, ...) of the child. */
  spawn: (run: number) => ChildProcess;
  /** A line for the terminal and the log. */
  say: (line: string) => void;
  /** An exit that a restart cannot fix, such as a configuration error: the supervisor gives up. */
  isFatal: (code: number | null) => boolean;
  /** Called once when it gave up, with the child's last stderr lines. */
  onFatal: (code: number | null, stderrTail: string) => void;
  backoff?: BackoffPolicy;
  /** How long a stopping child gets before it is killed. */
  graceMs: number;
}

/**
 * Keeps one child process running: restarts it with a doubling delay when it dies, shows each
 * restart with the end of its stderr, and stops it (killing it after a grace period) on request.
 */
export class Supervisor {
  /** The current run; null while waiting to restart. */
  child: ChildProcess | null = null;
  restarts = 0;
  /** Counts runs, so a late health report for an earlier run is not taken for the current one. */
  run = 0;
  private delayMs: number;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private healthyTimer: NodeJS.Timeout | null = null;
  private stderrTail = "";
  private readonly backoff: BackoffPolicy;

  constructor(private readonly opts: SupervisorOptions) {
    this.backoff = opts.backoff ?? RESTART_BACKOFF;
    this.delayMs = this.backoff.firstMs;
  }

  start(): void {
    if (this.stopping) return;
    this.restartTimer = null;
    this.stderrTail = "";
    const run = ++this.run;
    const child = this.opts.spawn(run);
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    // A child that could not be started at all emits 'error' and never 'exit': count it as an
    // exit, once, so that it is restarted with backoff rather than crashing the stack.
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null) => (ended ? undefined : ((ended = true), this.onExit(run, code, signal)));
    child.once("exit", end);
    child.once("error", (err) => {
      this.stderrTail += `\n${err.message}`;
      if (child.pid === undefined) end(null, null);
    });
  }

  /** The current run answers as healthy: once it has stayed up a while, the delays start over. */
  markHealthy(run: number): void {
    if (run !== this.run || this.healthyTimer) return;
    this.healthyTimer = setTimeout(() => {
      this.healthyTimer = null;
      if (run === this.run && this.child) this.delayMs = this.backoff.firstMs;
    }, this.backoff.healthyResetMs);
    this.healthyTimer.unref();
  }

  /** Stops the child, or the pending restart; resolves once nothing runs. */
  async stop(): Promise<"stopped" | "killed"> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    return this.child ? stopChild(this.child, this.opts.graceMs) : "stopped";
  }

  private onExit(run: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (run !== this.run) return;
    this.child = null;
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.healthyTimer = null;
    if (this.stopping) return;
    const tail = lastLines(this.stderrTail, 15);
    if (this.opts.isFatal(code)) {
      this.stopping = true;
      this.opts.onFatal(code, tail);
      return;
    }
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.restarts += 1;
    this.opts.say(`[start] ${this.opts.name} exited (${describeExit(code, signal)}); restarting in ${delay / 1000} s (restart ${this.restarts})`);
    if (tail) this.opts.say(`[start] the end of its stderr:\n${tail}`);
    this.restartTimer = setTimeout(() => this.start(), delay);
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
