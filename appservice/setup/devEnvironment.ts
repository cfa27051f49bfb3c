import { join } from "node:path";
import { loadOrCreateSecrets, type Secrets } from "./secrets.js";
import { repoRoot } from "./synapseConfig.js";

/**
 * Where `npm start` keeps its state and which ports it uses. Everything lives under .rounds/
 * (git-ignored) except registration.yaml, which the layout keeps at the top level.
 */
export const devPaths = {
  state: join(repoRoot, ".rounds"),
  secrets: join(repoRoot, ".rounds", "secrets.json"),
  synapseDir: join(repoRoot, ".rounds", "synapse"),
  dataDir: join(repoRoot, ".rounds", "data"),
  logs: join(repoRoot, ".rounds", "logs"),
  registration: join(repoRoot, "registration.yaml"),
};

export interface DevSettings {
  serverName: string;
  synapsePort: number;
  appservicePort: number;
  metricsPort: number;
}

export function devSettings(env = process.env): DevSettings {
  return {
    serverName: env.ROUNDS_SERVER_NAME ?? "rounds.local",
    synapsePort: Number(env.ROUNDS_SYNAPSE_PORT ?? 8008),
    appservicePort: Number(env.ROUNDS_APPSERVICE_PORT ?? 9100),
    metricsPort: Number(env.ROUNDS_METRICS_PORT ?? 9101),
  };
}

export function devSecrets(): Secrets {
  return loadOrCreateSecrets(devPaths.secrets).secrets;
}

/** The environment the appservice runs with under `npm start`; the user's own env wins. */
export function devRoundsEnv(s: DevSettings, secrets: Secrets, env = process.env): Record<string, string> {
  const base: Record<string, string> = {
    ROUNDS_HOMESERVER_URL: `http://127.0.0.1:${s.synapsePort}`,
    ROUNDS_SERVER_NAME: s.serverName,
    ROUNDS_REGISTRATION_FILE: devPaths.registration,
    ROUNDS_APPSERVICE_PORT: String(s.appservicePort),
    ROUNDS_METRICS_PORT: String(s.metricsPort),
    ROUNDS_DATA_DIR: devPaths.dataDir,
    ROUNDS_CRYPTO_STORE_PASSPHRASE: secrets.cryptoStorePassphrase,
    ROUNDS_ADMIN_TOKEN: secrets.adminToken,
  };
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...base, ...env })) if (v !== undefined) merged[k] = v;
  return merged;
}
