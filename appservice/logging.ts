import { pino, type Logger } from "pino";

/**
 * Structured logs. Log ids, statuses and Matrix user ids only: never message bodies, event
 * content, display names of patients or phone numbers. The redact list is a safety net for
 * fields that must never appear even by mistake.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { app: "rounds" },
    redact: {
      paths: ["content", "body", "*.content", "*.body", "phone", "*.phone", "password", "*.password", "access_token", "*.access_token"],
      censor: "[redacted]",
    },
  });
}

export type { Logger };
