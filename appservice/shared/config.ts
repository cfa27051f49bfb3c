import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import cron from "node-cron";
import { z } from "zod";
import type { Urgency } from "./events.js";

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
const port = z
  .string()
  .regex(/^[1-9]\d*$/, "must be a port number in plain decimal digits, e.g. 9100")
  .transform(Number)
  .refine((n) => n <= 65535, "must be between 1 and 65535");
const positiveInt = z.coerce.number({ error: "must be a number" }).int("must be a whole number").positive("must be > 0");
const seconds = z.coerce.number({ error: "must be a number of seconds" }).int("must be a whole number of seconds").min(0, "must be 0 or more");
const smsDelay = z
  .string()
  .regex(/^(off|\d{1,6})$/, "must be a number of seconds, or off")
  .transform((v) => (v === "off" ? null : Number(v)));
const url = z
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
    .default("oncall,consult,handoff"),
  ROUNDS_INBOX_MAX_ATTEMPTS: positiveInt.default(8),
  ROUNDS_INBOX_RETRY_BASE_MS: positiveInt.default(500),
  ROUNDS_INBOX_POLL_MS: positiveInt.default(1000),
  ROUNDS_BOT_TIMELINE_EVENTS: positiveInt.min(10, "must be at least 10").default(100),
  /** Test hook: accept and store transactions without processing them, to simulate a crash. */
  ROUNDS_INBOX_PAUSED: z.enum(["0", "1"], { error: "must be 0 or 1" }).default("0"),
  ROUNDS_PAGE_DELAY_EMERGENT: seconds.default(60),
  ROUNDS_PAGE_DELAY_URGENT: seconds.default(300),
  ROUNDS_PAGE_DELAY_ROUTINE: seconds.default(1800),
  /** Default personal rule: seconds after the in-app page before an SMS, per urgency. */
  ROUNDS_SMS_AFTER_EMERGENT: smsDelay.default(30),
  ROUNDS_SMS_AFTER_URGENT: smsDelay.default(120),
  ROUNDS_SMS_AFTER_ROUTINE: smsDelay.default(600),
  ROUNDS_TIMER_POLL_MS: positiveInt.default(1000),
  ROUNDS_SHIFT_CHECK_CRON: z
    .string()
    .refine((v) => cron.validate(v), "must be a cron expression, e.g. '* * * * *' (every minute) or '*/10 * * * * *' (every 10 s)")
    .default("* * * * *"),
  ROUNDS_FATIGUE_WINDOW_HOURS: positiveInt.default(168),
  ROUNDS_FATIGUE_LIMIT_HOURS: positiveInt.default(80),
  /** Seconds a consult candidate has to accept or decline before the consult escalates. */
  ROUNDS_CONSULT_ACCEPT_EMERGENT: positiveInt.default(300),
  ROUNDS_CONSULT_ACCEPT_URGENT: positiveInt.default(900),
  ROUNDS_CONSULT_ACCEPT_ROUTINE: positiveInt.default(7200),
  /** Default expected response time a consultant commits to on accepting, per urgency. */
  ROUNDS_CONSULT_RESPONSE_EMERGENT_MINUTES: positiveInt.default(30),
  ROUNDS_CONSULT_RESPONSE_URGENT_MINUTES: positiveInt.default(240),
  ROUNDS_CONSULT_RESPONSE_ROUTINE_MINUTES: positiveInt.default(2880),
  ROUNDS_CONSULT_MAX_ATTACHMENT_MB: positiveInt.max(1024, "must be at most 1024 (MB)").default(25),
  /** Minutes a handoff has to be signed off by both, for units that set no deadline of their own. */
  ROUNDS_HANDOFF_DEADLINE_MINUTES: positiveInt.max(1440, "must be at most 1440 (a day)").default(15),
  /** Minutes after the overdue reminder before the unit's charge role is told. */
  ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES: positiveInt.max(1440, "must be at most 1440 (a day)").default(5),
  /** How often (cron) the units' shift changes are checked to start scheduled handoffs. */
  ROUNDS_HANDOFF_SHIFT_CRON: z.string().refine((v) => cron.validate(v), "must be a cron expression such as '* * * * *'").default("* * * * *"),
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
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio account SID (AC followed by 32 hex digits)").optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, "must be the Twilio auth token").optional(),
  TWILIO_FROM_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be a phone number in E.164 format, e.g. +15005550006").optional(),
  /** Only for tests or a regional edge: where the Twilio REST API is. */
  TWILIO_API_URL: url.optional(),
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
  // The bots send their messages, state, invites and joins with the as_token so that Synapse
  // does not hold them to a clinician's rate limits; that holds only with rate_limited: false.
  rate_limited: z.literal(false, { error: "must be false, or Synapse throttles the bots to 0.2 messages/s: set rate_limited: false and restart Synapse" }),
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
  /** Events each bot keeps in memory per room; older ones are dropped (they are in Synapse). */
  botTimelineEvents: number;
  logLevel: string;
  paging: {
    delaysSeconds: Record<Urgency, number>;
    smsAfter: Record<Urgency, number | null>;
    timerPollMs: number;
    shiftCheckCron: string;
    fatigue: { windowHours: number; limitHours: number };
  };
  consult: {
    acceptSeconds: Record<Urgency, number>;
    expectedResponseMinutes: Record<Urgency, number>;
    maxAttachmentBytes: number;
  };
  handoff: { deadlineMinutes: number; escalateAfterMinutes: number; shiftCron: string };
  widgets: { dir: string; rateLimitPerMinute: number; sessionSeconds: number };
  partnerServers: string[];
  publicUrl: string;
  /** Unset: SMS fallback is off, and pages notify in Matrix only. */
  twilio: { accountSid: string; authToken: string; from: string; apiUrl?: string } | null;
  registration: { id: string; asToken: string; hsToken: string; senderLocalpart: string };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): RoundsConfig {
  // An empty value (e.g. `${TWILIO_AUTH_TOKEN:-}` in docker-compose) means "not set".
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const parsed = EnvSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "?");
    const got = given[key];
    const why = got === undefined ? `is required: ${issue.message}` : `${issue.message} (got '${got}')`;
    throw new ConfigError(key, why);
  }
  const e = parsed.data;
  const bots = e.ROUNDS_BOTS.split(",");
  for (const [i, b] of bots.entries()) {
    if (!KNOWN_BOTS.includes(b)) throw new ConfigError("ROUNDS_BOTS", `names an unknown bot '${b}'; known: ${KNOWN_BOTS.join(", ")}`);
    if (bots.indexOf(b) !== i) throw new ConfigError("ROUNDS_BOTS", `names the bot '${b}' twice; list each bot once (got '${e.ROUNDS_BOTS}')`);
  }
  checkDataDir(e.ROUNDS_DATA_DIR);
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
    botTimelineEvents: e.ROUNDS_BOT_TIMELINE_EVENTS,
    inbox: {
      maxAttempts: e.ROUNDS_INBOX_MAX_ATTEMPTS,
      retryBaseMs: e.ROUNDS_INBOX_RETRY_BASE_MS,
      pollMs: e.ROUNDS_INBOX_POLL_MS,
      paused: e.ROUNDS_INBOX_PAUSED === "1",
    },
    logLevel: e.LOG_LEVEL,
    paging: {
      delaysSeconds: { emergent: e.ROUNDS_PAGE_DELAY_EMERGENT, urgent: e.ROUNDS_PAGE_DELAY_URGENT, routine: e.ROUNDS_PAGE_DELAY_ROUTINE },
      smsAfter: { emergent: e.ROUNDS_SMS_AFTER_EMERGENT, urgent: e.ROUNDS_SMS_AFTER_URGENT, routine: e.ROUNDS_SMS_AFTER_ROUTINE },
      timerPollMs: e.ROUNDS_TIMER_POLL_MS,
      shiftCheckCron: e.ROUNDS_SHIFT_CHECK_CRON,
      fatigue: { windowHours: e.ROUNDS_FATIGUE_WINDOW_HOURS, limitHours: e.ROUNDS_FATIGUE_LIMIT_HOURS },
    },
    consult: {
      acceptSeconds: { emergent: e.ROUNDS_CONSULT_ACCEPT_EMERGENT, urgent: e.ROUNDS_CONSULT_ACCEPT_URGENT, routine: e.ROUNDS_CONSULT_ACCEPT_ROUTINE },
      expectedResponseMinutes: {
        emergent: e.ROUNDS_CONSULT_RESPONSE_EMERGENT_MINUTES,
        urgent: e.ROUNDS_CONSULT_RESPONSE_URGENT_MINUTES,
        routine: e.ROUNDS_CONSULT_RESPONSE_ROUTINE_MINUTES,
      },
      maxAttachmentBytes: e.ROUNDS_CONSULT_MAX_ATTACHMENT_MB * 1024 * 1024,
    },
    handoff: { deadlineMinutes: e.ROUNDS_HANDOFF_DEADLINE_MINUTES, escalateAfterMinutes: e.ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES, shiftCron: e.ROUNDS_HANDOFF_SHIFT_CRON },
    partnerServers: e.ROUNDS_PARTNER_SERVERS ? e.ROUNDS_PARTNER_SERVERS.split(",") : [],
    widgets: { dir: e.ROUNDS_WIDGETS_DIR, rateLimitPerMinute: e.ROUNDS_WIDGET_RATE_LIMIT, sessionSeconds: e.ROUNDS_WIDGET_SESSION_SECONDS },
    publicUrl: e.ROUNDS_PUBLIC_URL ?? `http://${e.ROUNDS_BIND_ADDRESS}:${e.ROUNDS_APPSERVICE_PORT}`,
    twilio: twilioConfig(e),
    registration: loadRegistration(e.ROUNDS_REGISTRATION_FILE),
  };
}

/** All three Twilio settings or none: half a configuration is a mistake worth stopping for. */
function twilioConfig(e: z.infer<typeof EnvSchema>): RoundsConfig["twilio"] {
  const keys = { TWILIO_ACCOUNT_SID: e.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: e.TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER: e.TWILIO_FROM_NUMBER };
  const missing = Object.entries(keys).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length === 3) return null;
  if (missing.length) throw new ConfigError(missing[0]!, `is required when any TWILIO_* setting is given (set ${missing.join(", ")}, or unset all to turn SMS off)`);
  if (!e.ROUNDS_PUBLIC_URL) {
    throw new ConfigError("ROUNDS_PUBLIC_URL", "is required with Twilio: the https URL where Twilio reaches Rounds for SMS replies and delivery receipts (webhook signatures are checked against it)");
  }
  return { accountSid: e.TWILIO_ACCOUNT_SID!, authToken: e.TWILIO_AUTH_TOKEN!, from: e.TWILIO_FROM_NUMBER!, apiUrl: e.TWILIO_API_URL };
}

export const KNOWN_BOTS = ["oncall", "consult", "handoff"];

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
