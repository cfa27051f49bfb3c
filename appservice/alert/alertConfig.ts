import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, port, positiveInt } from "../shared/config.js";
import type { WorkflowConfig } from "../workflow.js";
import { EMAIL_ADDRESS } from "./alertEmail.js";
import { parseSourcesFile, SourcesFileError, type AlertSource } from "./alertSources.js";

export interface AlertConfig {
  /** The configured sources; none means ingestion is off. */
  sources: AlertSource[];
  mllp: { host: string; port: number; tls: { cert: string; key: string } | null };
  /** How often the intake looks for recorded messages it has not processed (after a crash). */
  intakePollMs: number;
  /** Minutes an urgent alert may stay unacknowledged before it is paged to its unit's service. */
  escalateUrgentMinutes: number;
  /** The longest snooze of an urgent or informational alert. */
  maxSnoozeMinutes: number;
  /** How often informational alerts are gathered into one message per clinician. */
  digestMinutes: number;
  /** The shift window for the alert load, and the count above which coordinators are warned. */
  shiftHours: number;
  perShiftCap: number;
  /** Fault injection for the crash tests: "kill-after-store" SIGKILLs the process between storing an MLLP message and its ACK. */
  fault: "kill-after-store" | null;
  /** SMTP for email notices without PHI; null: no email. */
  email: { smtpUrl: string; from: string } | null;
}

const file = z.string().min(1);
const env = {
  /** The alert sources file (YAML): who may send results, with credentials and limits. Unset: no ingestion. */
  ROUNDS_ALERT_SOURCES_FILE: file.optional(),
  /** Where the HL7 v2 MLLP listener listens (when a source is of kind mllp). */
  ROUNDS_ALERT_MLLP_HOST: z.string().min(1).default("127.0.0.1"),
  ROUNDS_ALERT_MLLP_PORT: port.default(2575),
  /** PEM certificate and key: MLLP over TLS. Both or neither. */
  ROUNDS_ALERT_MLLP_TLS_CERT_FILE: file.optional(),
  ROUNDS_ALERT_MLLP_TLS_KEY_FILE: file.optional(),
  ROUNDS_ALERT_ESCALATE_URGENT_MINUTES: positiveInt.max(240, "must be at most 240 (4 hours)").default(15),
  ROUNDS_ALERT_SNOOZE_MAX_MINUTES: positiveInt.max(240, "must be at most 240 (4 hours)").default(60),
  ROUNDS_ALERT_DIGEST_MINUTES: positiveInt.max(1440, "must be at most 1440 (a day)").default(60),
  ROUNDS_ALERT_SHIFT_HOURS: positiveInt.max(24, "must be at most 24").default(12),
  ROUNDS_ALERT_PER_SHIFT_CAP: positiveInt.max(10_000).default(30),
  /** smtp:// or smtps:// URL (with credentials if the server needs them): email notices without PHI. */
  ROUNDS_ALERT_SMTP_URL: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL such as smtp://mail.hospital.example:587" }).optional(),
  ROUNDS_ALERT_EMAIL_FROM: z.string().regex(EMAIL_ADDRESS, "must be an email address such as rounds@hospital.example").optional(),
  /** For the crash tests only: where the process kills itself, as kill -9 would. */
  ROUNDS_ALERT_FAULT: z.enum(["kill-after-store"], { error: "must be kill-after-store (for crash tests) or unset" }).optional(),
  ROUNDS_ALERT_INTAKE_POLL_MS: z.coerce.number({ error: "must be a number of milliseconds" }).int().min(50).max(60_000).default(1000),
};

function readText(key: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(key, `names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}: ${path})`);
  }
}

export const alertConfig: WorkflowConfig<AlertConfig> = {
  env,
  read(raw) {
    const e = raw as Record<string, string | number | undefined>;
    const sourcesFile = e.ROUNDS_ALERT_SOURCES_FILE as string | undefined;
    let sources: AlertSource[] = [];
    if (sourcesFile) {
      try {
        sources = parseSourcesFile(readText("ROUNDS_ALERT_SOURCES_FILE", sourcesFile), process.env);
      } catch (err) {
        if (err instanceof SourcesFileError) throw new ConfigError("ROUNDS_ALERT_SOURCES_FILE", `has problems:\n${err.problems.map((p) => `  - ${p}`).join("\n")}`);
        throw err;
      }
    }
    const certFile = e.ROUNDS_ALERT_MLLP_TLS_CERT_FILE as string | undefined;
    const keyFile = e.ROUNDS_ALERT_MLLP_TLS_KEY_FILE as string | undefined;
    if (!!certFile !== !!keyFile) throw new ConfigError(certFile ? "ROUNDS_ALERT_MLLP_TLS_KEY_FILE" : "ROUNDS_ALERT_MLLP_TLS_CERT_FILE", "must be set together with its pair, or neither (MLLP over TLS needs both)");
    const tls = certFile && keyFile ? { cert: readText("ROUNDS_ALERT_MLLP_TLS_CERT_FILE", certFile), key: readText("ROUNDS_ALERT_MLLP_TLS_KEY_FILE", keyFile) } : null;
    const smtpUrl = e.ROUNDS_ALERT_SMTP_URL as string | undefined;
    const from = e.ROUNDS_ALERT_EMAIL_FROM as string | undefined;
    if (smtpUrl && !from) throw new ConfigError("ROUNDS_ALERT_EMAIL_FROM", "is required with ROUNDS_ALERT_SMTP_URL: the address alert emails come from");
    const email = smtpUrl && from ? { smtpUrl, from } : null;
    return { fault: (e.ROUNDS_ALERT_FAULT as "kill-after-store" | undefined) ?? null, email, sources, mllp: { host: e.ROUNDS_ALERT_MLLP_HOST as string, port: e.ROUNDS_ALERT_MLLP_PORT as number, tls }, intakePollMs: e.ROUNDS_ALERT_INTAKE_POLL_MS as number, escalateUrgentMinutes: e.ROUNDS_ALERT_ESCALATE_URGENT_MINUTES as number, maxSnoozeMinutes: e.ROUNDS_ALERT_SNOOZE_MAX_MINUTES as number, digestMinutes: e.ROUNDS_ALERT_DIGEST_MINUTES as number, shiftHours: e.ROUNDS_ALERT_SHIFT_HOURS as number, perShiftCap: e.ROUNDS_ALERT_PER_SHIFT_CAP as number };
  },
};
