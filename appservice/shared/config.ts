import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import cron from "node-cron";
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

// Plain decimal digits only: Number() would also take 0x4b64, 1e4, " 80" or 080.
export const port = z
  .string()
  .regex(/^[1-9]\d*$/, "must be a port number in plain decimal digits, e.g. 9100")
  .transform(Number)
  .refine((n) => n <= 65535, "must be between 1 and 65535");
export const positiveInt = z.coerce.number({ error: "must be a number" }).int("must be a whole number").positive("must be > 0");
export const seconds = z.coerce.number({ error: "must be a number of seconds" }).int("must be a whole number of seconds").min(0, "must be 0 or more");
export const url = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL such as http://127.0.0.1:8008" })
  .transform((u) => u.replace(/\/+$/, ""));

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
  ROUNDS_CRYPTO_STORE_PASSPHRASE: z
    .string()
    .min(16, "must be at least 16 characters (the bots' crypto store key)")
    .refine((v) => v.trim().length >= 16, "must have at least 16 characters other than spaces (the bots' crypto store key)"),
  ROUNDS_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters (the token for the admin API and CLI)").optional(),
  ROUNDS_BOTS: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/, "must be a comma-separated list of bot names, e.g. oncall,consult,handoff")
    .optional(),
  ROUNDS_INBOX_MAX_ATTEMPTS: positiveInt.default(8),
  ROUNDS_INBOX_RETRY_BASE_MS: positiveInt.default(500),
  ROUNDS_INBOX_POLL_MS: positiveInt.default(1000),
  ROUNDS_BOT_TIMELINE_EVENTS: positiveInt.min(10, "must be at least 10").default(100),
  /** Test hook: accept and store transactions without processing them, to simulate a crash. */
  ROUNDS_INBOX_PAUSED: z.enum(["0", "1"], { error: "must be 0 or 1" }).default("0"),
  ROUNDS_TIMER_POLL_MS: positiveInt.default(1000),
  /** Homeservers of partner organisations (e.g. referring clinics) whose clinicians may request consults. */
  ROUNDS_PARTNER_SERVERS: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+(:\d+)?(,[a-zA-Z0-9.-]+(:\d+)?)*$/, "must be a comma-separated list of homeserver names, e.g. clinic.example.org,gp.example.net")
    .optional(),
  /** Where the built widgets are (npm start and npm test build them). */
  ROUNDS_WIDGETS_DIR: z.string().min(1, "must be a directory path").default("widgets/dist"),
  /** Widget API calls allowed per session (or address) per minute. */
  ROUNDS_WIDGET_RATE_LIMIT: positiveInt.default(120),
  /** Lifetime in seconds of a widget API session made from an OpenID token. */
  ROUNDS_WIDGET_SESSION_SECONDS: positiveInt.max(86_400, "must be at most 86400 (a day)").default(3600),
  /** Where Twilio reaches the appservice; webhook signatures are checked against this URL. */
  ROUNDS_PUBLIC_URL: url.optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
    error: "must be one of trace, debug, info, warn, error, fatal, silent",
  }).default("info"),
});

/** A cron expression, for settings that say how often something is checked. */
export const cronExpression = (example: string) =>
  z.string().refine((v) => cron.validate(v), `must be a cron expression, e.g. '${example}' (every minute) or '*/10 * * * * *' (every 10 s)`);

/** A workflow's settings, as the workflow registry hands them to loadConfig. */
export interface ConfigSection {
  /** The workflow's name, the key of its section in `RoundsConfig.workflows`. */
  name: string;
  /** Its bot's name, as ROUNDS_BOTS lists it. */
  bot: string;
  env: z.ZodRawShape;
  read(e: Record<string, unknown>, core: CoreConfig): unknown;
}

const schemaOf = (sections: readonly ConfigSection[]) => EnvSchema.extend(Object.assign({}, ...sections.map((s) => s.env)) as z.ZodRawShape);

/** Every environment variable Rounds reads with these workflows, for docs and deployment checks. */
export function configKeys(sections: readonly ConfigSection[]): { all: string[]; required: string[] } {
  const shape = schemaOf(sections).shape as Record<string, z.ZodType>;
  const all = Object.keys(shape);
  return { all, required: all.filter((k) => !shape[k]!.safeParse(undefined).success) };
}

const RegistrationSchema = z.object({
  id: z.string().min(1),
  as_token: z.string().min(16),
  hs_token: z.string().min(16),
  sender_localpart: z.string().min(1),
  // The bots send their messages, state, invites and joins with the as_token so that Synapse
  // does not hold them to a clinician's rate limits; that holds only with rate_limited: false.
  rate_limited: z.literal(false, { error: "must be false, or Synapse throttles the bots to 0.2 messages/s: set rate_limited: false and restart Synapse" }),
});

export interface CoreConfig {
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
  /** Events each bot keeps in memory per room; older ones are dropped (they are in Synapse). */
  botTimelineEvents: number;
  logLevel: string;
  timerPollMs: number;
  widgets: { dir: string; rateLimitPerMinute: number; sessionSeconds: number };
  partnerServers: string[];
  publicUrl: string;
  /** Whether ROUNDS_PUBLIC_URL was given, rather than derived from the bind address and port. */
  publicUrlGiven: boolean;
  registration: { id: string; asToken: string; hsToken: string; senderLocalpart: string };
}

export interface RoundsConfig extends CoreConfig {
  /** Each workflow's own section, by workflow name, as its declaration read it. */
  workflows: Record<string, unknown>;
}

/** Reads and checks the whole configuration: the core keys, then each workflow's section. */
export function loadConfig(env: Record<string, string | undefined>, sections: readonly ConfigSection[]): RoundsConfig {
  // An empty value (e.g. `${TWILIO_AUTH_TOKEN:-}` in docker-compose) means "not set".
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const known = sections.map((s) => s.bot);
  const parsed = schemaOf(sections)
    .extend({ ROUNDS_BOTS: EnvSchema.shape.ROUNDS_BOTS.unwrap().default(known.join(",")) })
    .safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "?");
    const got = given[key];
    const why = got === undefined ? `is required: ${issue.message}` : `${issue.message} (got '${got}')`;
    throw new ConfigError(key, why);
  }
  const e = parsed.data as z.infer<typeof EnvSchema> & Record<string, unknown>;
  const bots = (e.ROUNDS_BOTS as string).split(",");
  for (const [i, b] of bots.entries()) {
    if (!known.includes(b)) throw new ConfigError("ROUNDS_BOTS", `names an unknown bot '${b}'; known: ${known.join(", ")}`);
    if (bots.indexOf(b) !== i) throw new ConfigError("ROUNDS_BOTS", `names the bot '${b}' twice; list each bot once (got '${e.ROUNDS_BOTS}')`);
  }
  checkDataDir(e.ROUNDS_DATA_DIR);
  const core: CoreConfig = {
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
    botTimelineEvents: e.ROUNDS_BOT_TIMELINE_EVENTS,
    inbox: {
      maxAttempts: e.ROUNDS_INBOX_MAX_ATTEMPTS,
      retryBaseMs: e.ROUNDS_INBOX_RETRY_BASE_MS,
      pollMs: e.ROUNDS_INBOX_POLL_MS,
      paused: e.ROUNDS_INBOX_PAUSED === "1",
    },
    logLevel: e.LOG_LEVEL,
    timerPollMs: e.ROUNDS_TIMER_POLL_MS,
    partnerServers: e.ROUNDS_PARTNER_SERVERS ? e.ROUNDS_PARTNER_SERVERS.split(",") : [],
    widgets: { dir: e.ROUNDS_WIDGETS_DIR, rateLimitPerMinute: e.ROUNDS_WIDGET_RATE_LIMIT, sessionSeconds: e.ROUNDS_WIDGET_SESSION_SECONDS },
    publicUrl: e.ROUNDS_PUBLIC_URL ?? `http://${e.ROUNDS_BIND_ADDRESS}:${e.ROUNDS_APPSERVICE_PORT}`,
    publicUrlGiven: e.ROUNDS_PUBLIC_URL !== undefined,
    registration: loadRegistration(e.ROUNDS_REGISTRATION_FILE),
  };
  return { ...core, workflows: Object.fromEntries(sections.map((s) => [s.name, s.read(e, core)])) };
}

/** The data directory, or the nearest part of its path that exists, must be a directory. */
function checkDataDir(dir: string): void {
  for (let p = resolve(dir); ; p = dirname(p)) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) return;
    if (st) {
      const where = p === resolve(dir) ? "is a file" : `lies under '${p}', which is a file`;
      throw new ConfigError("ROUNDS_DATA_DIR", `${where} (got '${dir}'); point it at a directory, or at a path where one can be created`);
    }
    if (dirname(p) === p) return;
  }
}

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
