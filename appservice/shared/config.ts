import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

/**
 * Rounds is configured by environment variables, the same names in `npm start`, the tests and
 * docker-compose.yml. Each is validated here at start-up; a bad value stops Rounds with a message
 * naming the variable and what it expects.
 */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly why: string,
  ) {
    super(`Invalid configuration: ${key} ${why}`);
    this.name = "ConfigError";
  }
}

const port = z.coerce
  .number({ error: "must be a port number" })
  .int("must be a whole number")
  .min(1, "must be between 1 and 65535")
  .max(65535, "must be between 1 and 65535");
const positiveInt = z.coerce.number({ error: "must be a number" }).int("must be a whole number").positive("must be > 0");
const url = z.url({ error: "must be a URL such as http://127.0.0.1:8008" }).transform((u) => u.replace(/\/+$/, ""));

const EnvSchema = z.object({
  ROUNDS_HOMESERVER_URL: url,
  ROUNDS_SERVER_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+(:\d+)?$/, "must be a Matrix server name such as rounds.local or hospital.example.org"),
  ROUNDS_REGISTRATION_FILE: z.string().min(1, "must be the path of the appservice registration.yaml"),
  ROUNDS_BIND_ADDRESS: z.ipv4({ error: "must be an IPv4 address such as 127.0.0.1" }).default("127.0.0.1"),
  ROUNDS_APPSERVICE_PORT: port.default(9100),
  ROUNDS_METRICS_PORT: port.default(9101),
  ROUNDS_DATA_DIR: z.string().min(1, "must be a directory path").default(".rounds/data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL, or unset to use the embedded PGlite database")
    .optional(),
  ROUNDS_CRYPTO_STORE_PASSPHRASE: z.string().min(16, "must be at least 16 characters (the bots' crypto store key)"),
  ROUNDS_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters (the token for the admin API and CLI)").optional(),
  ROUNDS_BOTS: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/, "must be a comma-separated list of bot names, e.g. oncall")
    .default("oncall"),
  ROUNDS_INBOX_MAX_ATTEMPTS: positiveInt.default(8),
  ROUNDS_INBOX_RETRY_BASE_MS: positiveInt.default(500),
  ROUNDS_INBOX_POLL_MS: positiveInt.default(1000),
  /** Test hook: accept and store transactions without processing them, to simulate a crash. */
  ROUNDS_INBOX_PAUSED: z.enum(["0", "1"], { error: "must be 0 or 1" }).default("0"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
    error: "must be one of trace, debug, info, warn, error, fatal, silent",
  }).default("info"),
});

/** Every environment variable Rounds reads, for docs and deployment checks. */
export const CONFIG_KEYS = Object.keys(EnvSchema.shape);
export const REQUIRED_CONFIG_KEYS = CONFIG_KEYS.filter((k) => !EnvSchema.shape[k as keyof typeof EnvSchema.shape].safeParse(undefined).success);

const RegistrationSchema = z.object({
  id: z.string().min(1),
  as_token: z.string().min(16),
  hs_token: z.string().min(16),
  sender_localpart: z.string().min(1),
});

export interface RoundsConfig {
  homeserverUrl: string;
  serverName: string;
  bindAddress: string;
  appservicePort: number;
  metricsPort: number;
  dataDir: string;
  databaseUrl?: string;
  cryptoStorePassphrase: string;
  /** Unset disables the admin API. */
  adminToken?: string;
  bots: string[];
  inbox: { maxAttempts: number; retryBaseMs: number; pollMs: number; paused: boolean };
  logLevel: string;
  registration: { id: string; asToken: string; hsToken: string; senderLocalpart: string };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): RoundsConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "?");
    const got = env[key];
    const why = got === undefined ? `is required: ${issue.message}` : `${issue.message} (got '${got}')`;
    throw new ConfigError(key, why);
  }
  const e = parsed.data;
  const bots = e.ROUNDS_BOTS.split(",");
  for (const b of bots) {
    if (!KNOWN_BOTS.includes(b)) throw new ConfigError("ROUNDS_BOTS", `names an unknown bot '${b}'; known: ${KNOWN_BOTS.join(", ")}`);
  }
  return {
    homeserverUrl: e.ROUNDS_HOMESERVER_URL,
    serverName: e.ROUNDS_SERVER_NAME,
    bindAddress: e.ROUNDS_BIND_ADDRESS,
    appservicePort: e.ROUNDS_APPSERVICE_PORT,
    metricsPort: e.ROUNDS_METRICS_PORT,
    dataDir: e.ROUNDS_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    cryptoStorePassphrase: e.ROUNDS_CRYPTO_STORE_PASSPHRASE,
    adminToken: e.ROUNDS_ADMIN_TOKEN,
    bots,
    inbox: {
      maxAttempts: e.ROUNDS_INBOX_MAX_ATTEMPTS,
      retryBaseMs: e.ROUNDS_INBOX_RETRY_BASE_MS,
      pollMs: e.ROUNDS_INBOX_POLL_MS,
      paused: e.ROUNDS_INBOX_PAUSED === "1",
    },
    logLevel: e.LOG_LEVEL,
    registration: loadRegistration(e.ROUNDS_REGISTRATION_FILE),
  };
}

export const KNOWN_BOTS = ["oncall"];

function loadRegistration(file: string): RoundsConfig["registration"] {
  if (!existsSync(file)) {
    throw new ConfigError("ROUNDS_REGISTRATION_FILE", `points at '${file}', which does not exist; run 'npm start' once to generate it`);
  }
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError("ROUNDS_REGISTRATION_FILE", `is not valid YAML: ${(err as Error).message}`);
  }
  const r = RegistrationSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError("ROUNDS_REGISTRATION_FILE", `lacks a valid '${issue.path.join(".")}': ${issue.message}`);
  }
  return { id: r.data.id, asToken: r.data.as_token, hsToken: r.data.hs_token, senderLocalpart: r.data.sender_localpart };
}
