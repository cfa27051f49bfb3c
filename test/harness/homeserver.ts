import { join } from "node:path";
import { registerUser, type RegisteredUser } from "../../appservice/setup/adminApi.js";
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

let running: { hs: TestHomeserver; synapse: RunningSynapse } | null = null;
let starting: Promise<TestHomeserver> | null = null;
let userCounter = 0;

/**
 * The run's real Synapse (SQLite, relaxed rate limits, shared-secret registration) on free
 * loopback ports, with the Rounds registration pointing at a port reserved for the appservice.
 */
/** Registers test users with unique localparts (name + counter + pid) through the shared-secret API. */
export function testUserRegistrar(url: string, sharedSecret: string): TestHomeserver["register"] {
  return (localpart, displayname) =>
    registerUser(url, sharedSecret, {
      localpart: `${localpart}${++userCounter}x${process.pid}`,
      password: `pw-${localpart}-${userCounter}-secret`,
      displayname,
    });
}

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
      overlays: [join(repoRoot, "synapse-config", "test-overrides.yaml")],
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
    running = { hs, synapse };
    return hs;
  })();
  return starting;
}

export async function stopHomeserver(): Promise<void> {
  if (running) await running.synapse.stop();
  running = null;
  starting = null;
}
