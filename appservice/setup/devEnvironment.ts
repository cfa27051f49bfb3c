import { join, relative, resolve } from "node:path";
import { ConfigError } from "../shared/config.js";
import { loadOrCreateSecrets, type Secrets } from "./secrets.js";
import { repoRoot } from "./synapseConfig.js";

/**
 * Where `npm start` keeps its state and which ports it uses. Everything lives under .rounds/
 * (git-ignored) except registration.yaml, which the layout keeps at the top level.
 * ROUNDS_STATE_DIR moves all of it elsewhere, e.g. for a second stack beside the first.
 */
const customState = process.env.ROUNDS_STATE_DIR ? resolve(process.env.ROUNDS_STATE_DIR) : null;
const state = customState ?? join(repoRoot, ".rounds");
export const devPaths = {
  state,
  secrets: join(state, "secrets.json"),
  synapseDir: join(state, "synapse"),
  dataDir: join(state, "data"),
  logs: join(state, "logs"),
  registration: customState ? join(customState, "registration.yaml") : join(repoRoot, "registration.yaml"),
};

/** A path as the user should read it: relative to where they ran the command. */
export function showPath(p: string): string {
  return relative(process.cwd(), p) || ".";
}

export interface DevSettings {
  serverName: string;
  synapsePort: number;
  appservicePort: number;
  metricsPort: number;
  /** Synapse duration for the default retention policy, e.g. 3650d. */
  retentionMaxLifetime: string;
}

export function devSettings(env = process.env): DevSettings {
  for (const key of ["ROUNDS_SYNAPSE_PORT", "ROUNDS_APPSERVICE_PORT", "ROUNDS_METRICS_PORT"]) {
    const v = env[key];
    // Plain decimal digits, as the appservice's own configuration takes them (no 080, no 1e4).
    if (v !== undefined && !(/^[1-9]\d*$/.test(v) && Number(v) < 65536)) {
      throw new ConfigError(key, `must be a port number in plain decimal digits between 1 and 65535 (got '${v}')`);
    }
  }
  const retention = env.ROUNDS_RETENTION_MAX_LIFETIME;
  if (retention !== undefined && !/^\d+[smhdwy]$/.test(retention)) {
    throw new ConfigError("ROUNDS_RETENTION_MAX_LIFETIME", `must be a duration such as 30d or 10y (got '${retention}')`);
  }
  return {
    serverName: env.ROUNDS_SERVER_NAME ?? "rounds.local",
    synapsePort: Number(env.ROUNDS_SYNAPSE_PORT ?? 8008),
    appservicePort: Number(env.ROUNDS_APPSERVICE_PORT ?? 9100),
    metricsPort: Number(env.ROUNDS_METRICS_PORT ?? 9101),
    retentionMaxLifetime: env.ROUNDS_RETENTION_MAX_LIFETIME ?? "3650d",
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
