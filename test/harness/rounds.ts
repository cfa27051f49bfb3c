import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import type { TestHomeserver } from "./homeserver.js";
import { freePort } from "./ports.js";
import { killOnExit } from "./processes.js";
import { tempDir } from "./tempDir.js";

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** The Rounds appservice as a real child process, so tests can stop, kill -9 and restart it. */
export class RoundsProcess {
  readonly dataDir = tempDir("data");
  readonly adminToken = "test-admin-token-0123456789abcdef0123456789";
  metricsPort = 0;
  child: ChildProcess | null = null;
  logs: LogLine[] = [];
  stderr = "";
  private lineListeners = new Set<(l: LogLine) => void>();

  constructor(
    readonly hs: TestHomeserver,
    readonly env: Record<string, string> = {},
  ) {}

  /** The registered appservice port, unless this process was given its own (then Synapse's pushes do not reach it). */
  get port(): number {
    return Number(this.env.ROUNDS_APPSERVICE_PORT ?? this.hs.appservicePort);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  baseEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "",
      ROUNDS_HOMESERVER_URL: this.hs.url,
      ROUNDS_SERVER_NAME: this.hs.serverName,
      ROUNDS_REGISTRATION_FILE: this.hs.registrationFile,
      ROUNDS_APPSERVICE_PORT: String(this.hs.appservicePort),
      ROUNDS_METRICS_PORT: String(this.metricsPort),
      ROUNDS_DATA_DIR: this.dataDir,
      ROUNDS_CRYPTO_STORE_PASSPHRASE: "test-crypto-store-passphrase-0123456789",
      ROUNDS_ADMIN_TOKEN: this.adminToken,
      ROUNDS_INBOX_POLL_MS: "200",
      LOG_LEVEL: "debug",
      ...this.env,
    };
  }

  /** Starts the process and resolves once /health reports the bots ready. */
  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    if (!this.metricsPort) this.metricsPort = await freePort();
    this.stderr = "";
    const child = spawn(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
      env: { ...this.baseEnv(), ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    killOnExit(child);
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const raw = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const line = JSON.parse(raw) as LogLine;
          this.logs.push(line);
          for (const l of this.lineListeners) l(line);
        } catch {
          /* not a log line */
        }
      }
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Rounds exited during start-up (code ${child.exitCode}):\n${this.stderr}`);
      const health = await fetch(`${this.url}/health`).then(
        async (r) => (r.ok ? ((await r.json()) as { checks: { bots: boolean } }) : null),
        () => null,
      );
      if (health?.checks.bots) return;
      if (Date.now() > deadline) throw new Error(`Rounds did not become healthy:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves with the first log line (from now on) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineListeners.delete(listener);
        reject(new Error(`no matching Rounds log line within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (l: LogLine) => {
        if (!match(l)) return;
        clearTimeout(timer);
        this.lineListeners.delete(listener);
        resolve(l);
      };
      this.lineListeners.add(listener);
    });
  }

  /** On a failed test: the tail of Rounds' own log, to see why. */
  dumpLogs(lines = 60): void {
    console.error(`--- last ${lines} Rounds log lines ---`);
    for (const l of this.logs.slice(-lines)) console.error(JSON.stringify(l));
    if (this.stderr) console.error(`--- stderr ---\n${this.stderr.slice(-3000)}`);
  }

  /** Graceful stop (SIGTERM), as an operator would. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    c.kill("SIGTERM");
    await once(c, "exit");
  }

  /** kill -9: no shutdown code runs. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    c.kill("SIGKILL");
    await once(c, "exit");
  }

  async putTransaction(txnId: string, events: unknown[], token = this.hs.secrets.hsToken): Promise<Response> {
    return fetch(`${this.url}/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
  }

  async importSchedule(yaml: string): Promise<void> {
    const res = await fetch(`${this.url}/_rounds/admin/v1/schedule`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.adminToken}`, "content-type": "application/yaml" },
      body: yaml,
    });
    if (!res.ok) throw new Error(`schedule import failed: ${await res.text()}`);
  }

  /** Calls the admin API; throws with the answer's error on a non-2xx. */
  async admin<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${this.adminToken}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  async metric(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(" ").pop()) : 0;
  }
}
