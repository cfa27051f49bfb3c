import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { registerUser, type RegisteredUser } from "../../appservice/setup/synapseAdmin.js";
import { writeRegistration } from "../../appservice/setup/registration.js";
import { generateSecrets, type Secrets } from "../../appservice/setup/secrets.js";
import { repoRoot, writeSynapseConfig } from "../../appservice/setup/synapseConfig.js";
import { startSynapse, type RunningSynapse } from "../../appservice/setup/synapseProcess.js";
import { freePort } from "./ports.js";
import { killOnExit } from "./processes.js";
import { tempDir } from "./tempDir.js";

export interface TestHomeserver {
  url: string;
  serverName: string;
  dir: string;
  dbFile: string;
  secrets: Secrets;
  registrationFile: string;
  appservicePort: number;
  register(localpart: string, displayname?: string): Promise<RegisteredUser>;
}

let running: { hs: TestHomeserver; synapse: RunningSynapse; configFile: string } | null = null;
let starting: Promise<TestHomeserver> | null = null;
let userCounter = 0;

/** Registers test users with unique localparts (name + counter + pid) through the shared-secret API. */
export function testUserRegistrar(url: string, sharedSecret: string): TestHomeserver["register"] {
  return (localpart, displayname) =>
    registerUser(url, sharedSecret, {
      localpart: `${localpart}${++userCounter}x${process.pid}`,
      password: `pw-${localpart}-${userCounter}-secret`,
      displayname,
    });
}

/**
 * The production template's rate limits as an overlay file: the tests run the limits a hospital
 * runs, and test-overrides.yaml lifts only what the harness itself needs.
 */
export function productionRateLimitsOverlay(dir: string): string {
  const production = parse(readFileSync(join(repoRoot, "synapse-config", "homeserver.production.yaml"), "utf8")) as Record<string, unknown>;
  const limits = Object.fromEntries(Object.entries(production).filter(([k]) => k.startsWith("rc_")));
  const file = join(dir, "production-rate-limits.yaml");
  writeFileSync(file, stringify(limits), { mode: 0o600 });
  return file;
}

/**
 * The run's real Synapse (SQLite, production rate limits, shared-secret registration) on free
 * loopback ports, with the Rounds registration pointing at a port reserved for the appservice.
 */
export function getHomeserver(): Promise<TestHomeserver> {
  if (running) return Promise.resolve(running.hs);
  starting ??= (async () => {
    const dir = tempDir("hs");
    const [port, appservicePort] = [await freePort(), await freePort()];
    const serverName = "rounds.test";
    const secrets = generateSecrets();
    const registrationFile = join(dir, "registration.yaml");
    writeRegistration(registrationFile, {
      url: `http://127.0.0.1:${appservicePort}`,
      serverName,
      asToken: secrets.asToken,
      hsToken: secrets.hsToken,
    });
    const config = writeSynapseConfig({
      dataDir: dir,
      serverName,
      port,
      registrationFile,
      secrets,
      overlays: [productionRateLimitsOverlay(dir), join(repoRoot, "synapse-config", "test-overrides.yaml")],
    });
    const url = `http://127.0.0.1:${port}`;
    const synapse = await startSynapse(config, url);
    killOnExit(synapse.process);
    const hs: TestHomeserver = {
      url,
      serverName,
      dir,
      dbFile: join(dir, "homeserver.db"),
      secrets,
      registrationFile,
      appservicePort,
      register: testUserRegistrar(url, secrets.registrationSharedSecret),
    };
    running = { hs, synapse, configFile: config };
    return hs;
  })();
  return starting;
}

export async function stopHomeserver(): Promise<void> {
  if (running) await running.synapse.stop();
  running = null;
  starting = null;
}

/**
 * Stops the run's Synapse and starts it again on the same ports and database, as an operator's
 * restart would. Clients and Rounds keep running and must ride it out.
 */
export async function restartHomeserver(): Promise<void> {
  if (!running) throw new Error("no homeserver is running");
  await running.synapse.stop();
  running.synapse = await startSynapse(running.configFile, running.hs.url);
  killOnExit(running.synapse.process);
}
