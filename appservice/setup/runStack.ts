import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { devPaths, devRoundsEnv, devSecrets, devSettings, showPath } from "./devEnvironment.js";
import { startSynapse, type RunningSynapse } from "./synapseProcess.js";
import { describeExit, stopChild, Supervisor } from "./supervisor.js";
import { repoRoot } from "./synapseConfig.js";

/**
 * `npm start`: Synapse, then Rounds, on loopback. Rounds is restarted when it dies; any stop
 * request (SIGINT, SIGTERM, SIGHUP, or scripts/setup.mjs going away) stops Rounds, then Synapse.
 */
const ROUNDS_GRACE_MS = 15_000;
const SYNAPSE_GRACE_MS = 10_000;
/** main.ts exits with 2 on a configuration error, which no restart can fix. */
const CONFIG_ERROR_EXIT = 2;

// setup.mjs passes the time `npm start` began, so "ready in" counts the whole wait.
const startedAt = Number(process.env.ROUNDS_START_TIME) || Date.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const settings = devSettings();
const secrets = devSecrets();
const synapseUrl = `http://127.0.0.1:${settings.synapsePort}`;
const show = showPath;
mkdirSync(devPaths.logs, { recursive: true, mode: 0o700 });
const logFile = createWriteStream(join(devPaths.logs, "rounds.log"), { flags: "a", mode: 0o600 });
const roundsLog = show(join(devPaths.logs, "rounds.log"));
const synapseLog = show(join(devPaths.synapseDir, "homeserver.log"));

/** What the supervisor says goes to the terminal and to rounds.log, where the crash it explains is. */
function say(line: string, toStderr = false): void {
  (toStderr ? console.error : console.log)(line);
  logFile.write(`${line}\n`);
}

let stopping: Promise<never> | null = null;
let synapse: RunningSynapse | null = null;
let rounds: Supervisor | null = null;
const synapseStarting = startSynapse(join(devPaths.synapseDir, "homeserver.yaml"), synapseUrl);

/** Stops what runs, Rounds first, so its bots never see their homeserver go away under them. */
function stop(code: number): Promise<never> {
  if (stopping) {
    console.log(`[start] already stopping (Rounds gets ${seconds(ROUNDS_GRACE_MS)}, then Synapse ${seconds(SYNAPSE_GRACE_MS)}, before they are killed)`);
    return stopping;
  }
  stopping = (async () => {
    say("\n[start] stopping Rounds and Synapse ...");
    if (rounds && (await rounds.stop()) === "killed") say(`[start] Rounds did not stop within ${seconds(ROUNDS_GRACE_MS)}; killed it`, true);
    // A stop during Synapse's start-up waits for it (it kills its own child if the start fails).
    const hs = synapse ?? (await synapseStarting.catch(() => null));
    if (hs && (await stopChild(hs.process, SYNAPSE_GRACE_MS)) === "killed") say(`[start] Synapse did not stop within ${seconds(SYNAPSE_GRACE_MS)}; killed it`, true);
    say("[start] stopped.");
    await new Promise((r) => logFile.end(r));
    process.exit(code);
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
// setup.mjs talks to us over an IPC channel; it closes when setup.mjs dies, even by SIGKILL.
if (process.channel) {
  process.channel.unref();
  process.on("disconnect", () => void stop(0));
}

console.log(`[start] starting Synapse on ${synapseUrl} ...`);
synapse = await synapseStarting.catch((err: Error) => {
  if (stopping) return null;
  console.error(`[start] Synapse did not start: ${err.message}\n[start] See ${synapseLog}. Is port ${settings.synapsePort} taken? Set ROUNDS_SYNAPSE_PORT to use another.`);
  process.exit(1);
});
if (!synapse) await stopping;
const synapseProcess = synapse!.process;
let synapseStderr = "";
synapseProcess.stderr?.on("data", (d: Buffer) => (synapseStderr = (synapseStderr + d.toString()).slice(-2000)));
say(`[start] Synapse started (pid ${synapseProcess.pid})`);
// Rounds cannot work without its homeserver, and a restarted Synapse would need its own checks: stop.
synapseProcess.once("exit", (code, signal) => {
  if (stopping) return;
  say(`[start] Synapse exited (${describeExit(code, signal)}); stopping Rounds too.\n${synapseStderr.trimEnd()}\n[start] See ${synapseLog}, then run npm start again.`, true);
  void stop(1);
});

console.log("[start] starting the Rounds appservice and bots ...");
const env = devRoundsEnv(settings, secrets);
delete env.ROUNDS_START_TIME;
rounds = new Supervisor({
  name: "Rounds",
  spawn(run) {
    // The IPC channel lets the appservice stop itself if this process dies without stopping it.
    const child = spawn(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
      env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    // One log file across restarts: a child's end must not close it.
    child.stdout!.pipe(logFile, { end: false });
    child.stderr!.on("data", (d: Buffer) => logFile.write(d));
    say(`[start] Rounds appservice started (pid ${child.pid})`);
    void announceWhenHealthy(run, Date.now());
    return child;
  },
  say: (line) => say(line, true),
  isFatal: (code) => code === CONFIG_ERROR_EXIT,
  onFatal(_code, tail) {
    say(`[start] Rounds cannot start: its configuration is wrong:\n${tail}\n[start] Fix it and run npm start again. Full log: ${roundsLog}`, true);
    void stop(1);
  },
  graceMs: ROUNDS_GRACE_MS,
});
rounds.start();

/** Polls /health for the run that just started, and says so once its bots are up. */
async function announceWhenHealthy(run: number, spawnedAt: number): Promise<void> {
  const healthUrl = `http://127.0.0.1:${settings.appservicePort}/health`;
  for (;;) {
    if (stopping || rounds!.run !== run) return;
    const health = await fetch(healthUrl).then(
      async (r) => (r.ok ? ((await r.json()) as { checks: { bots: boolean } }) : null),
      () => null,
    );
    if (health?.checks.bots) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (stopping || rounds!.run !== run) return;
  rounds!.markHealthy(run);
  if (run === 1) printBanner(healthUrl);
  else say(`[start] Rounds is running again after restart ${rounds!.restarts} (up ${seconds(Date.now() - spawnedAt)} after its start)`);
}

function printBanner(healthUrl: string): void {
  const db = process.env.DATABASE_URL ? "Postgres (DATABASE_URL)" : `PGlite, embedded, in ${show(join(devPaths.dataDir, "pglite"))}`;
  console.log(`
Rounds is running (ready in ${seconds(Date.now() - startedAt)}).
  Homeserver (Synapse)   ${synapseUrl}   server name: ${settings.serverName}
  Rounds appservice      http://127.0.0.1:${settings.appservicePort}   health: ${healthUrl}
  Prometheus metrics     http://127.0.0.1:${settings.metricsPort}/metrics
  Database               ${db}
  Logs                   ${roundsLog}, ${synapseLog}

Next steps (in another terminal):
  1. Create your login:     npm run rounds -- user create alice --password 'choose-a-password' --name 'Dr Alice Chen'
  2. Load a schedule:       npm run rounds -- schedule import appservice/oncall/example-schedule.yaml
  3. Open Element (element-config/README.md) with homeserver ${synapseUrl}, sign in,
     start a direct message with @rounds_oncall:${settings.serverName} and send: !oncall cardiology
  4. Consults: a direct message with @rounds_consult:${settings.serverName}, send: !consult
     (your Consults room opens with the consult widget; widgets are served from
     http://127.0.0.1:${settings.appservicePort}/_rounds/widgets/)
  5. Handoffs: npm run rounds -- handoffs unit set appservice/handoff/example-unit.yaml
     then a direct message with @rounds_handoff:${settings.serverName}, send: !handoff
  6. Alerts: npm run rounds -- alerts rules import appservice/alert/example-rules.yaml
     and a sources file for the lab (README, Clinical alerts) in ROUNDS_ALERT_SOURCES_FILE

Rounds is restarted if it stops. Press Ctrl-C to stop.`);
}
