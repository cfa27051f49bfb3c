import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { devPaths, devRoundsEnv, devSecrets, devSettings, showPath } from "./devEnvironment.js";
import { startSynapse } from "./synapseProcess.js";
import { repoRoot } from "./synapseConfig.js";

/** `npm start`: Synapse, then Rounds, on loopback; Ctrl-C stops both cleanly. */
const settings = devSettings();
const secrets = devSecrets();
const synapseUrl = `http://127.0.0.1:${settings.synapsePort}`;
const show = showPath;
mkdirSync(devPaths.logs, { recursive: true });

console.log(`[start] starting Synapse on ${synapseUrl} ...`);
const synapse = await startSynapse(join(devPaths.synapseDir, "homeserver.yaml"), synapseUrl).catch((err: Error) => {
  console.error(`[start] Synapse did not start: ${err.message}\n[start] See ${show(join(devPaths.synapseDir, "homeserver.log"))}. Is port ${settings.synapsePort} taken? Set ROUNDS_SYNAPSE_PORT to use another.`);
  process.exit(1);
});

console.log("[start] starting the Rounds appservice and bots ...");
const env = devRoundsEnv(settings, secrets);
const logFile = createWriteStream(join(devPaths.logs, "rounds.log"), { flags: "a" });
const rounds = spawn(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
  env,
  stdio: ["ignore", "pipe", "pipe"],
});
rounds.stdout.pipe(logFile);
let stderrTail = "";
rounds.stderr.on("data", (d: Buffer) => {
  stderrTail = (stderrTail + d.toString()).slice(-4000);
  logFile.write(d);
});

let stopping = false;
async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  console.log("\n[start] stopping Rounds and Synapse ...");
  if (rounds.exitCode === null) {
    rounds.kill("SIGTERM");
    await new Promise((r) => rounds.once("exit", r));
  }
  await synapse.stop();
  console.log("[start] stopped.");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
rounds.on("exit", (code) => {
  if (stopping) return;
  console.error(`[start] Rounds exited (code ${code}).\n${stderrTail}\n[start] Full log: ${show(join(devPaths.logs, "rounds.log"))}`);
  void stop(1);
});

// Ready when /health says so.
const healthUrl = `http://127.0.0.1:${settings.appservicePort}/health`;
for (;;) {
  if (stopping) break;
  const health = await fetch(healthUrl).then(
    async (r) => (r.ok ? ((await r.json()) as { checks: { bots: boolean } }) : null),
    () => null,
  );
  if (health?.checks.bots) break;
  await new Promise((r) => setTimeout(r, 300));
}
const db = process.env.DATABASE_URL ? "Postgres (DATABASE_URL)" : `PGlite, embedded, in ${show(join(devPaths.dataDir, "pglite"))}`;
console.log(`
Rounds is running.
  Homeserver (Synapse)   ${synapseUrl}   server name: ${settings.serverName}
  Rounds appservice      http://127.0.0.1:${settings.appservicePort}   health: ${healthUrl}
  Prometheus metrics     http://127.0.0.1:${settings.metricsPort}/metrics
  Database               ${db}
  Logs                   ${show(join(devPaths.logs, "rounds.log"))}, ${show(join(devPaths.synapseDir, "homeserver.log"))}

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

Press Ctrl-C to stop.`);
