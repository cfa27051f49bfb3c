import { logger as globalSdkLogger, type Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { Logger } from "../logging.js";

/**
 * Routes matrix-js-sdk and rust-crypto logging into pino at warn and above: their debug output
 * is very chatty and can quote event content, which must stay out of our logs.
 */
export function sdkLogger(log: Logger, namespace = "matrix-sdk"): SdkLogger {
  const child = log.child({ component: namespace });
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === "string" ? m : "")).join(" ").slice(0, 300);
  const noop = () => {};
  return {
    trace: noop,
    debug: noop,
    info: noop,
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    getChild: (ns: string) => sdkLogger(log, `${namespace}:${ns}`),
  };
}

/**
 * Some matrix-js-sdk modules log through its global (loglevel) logger, including event details;
 * raise its threshold so that output stays out of our logs.
 */
export function quietGlobalSdkLogger(level: "warn" | "error" = "warn"): void {
  (globalSdkLogger as unknown as { setLevel(l: string): void }).setLevel(level);
  // Its per-module child loggers pin themselves to debug and print through console.debug;
  // Rounds itself never logs through console, so silencing debug output loses nothing of ours.
  console.debug = () => {};
  console.trace = () => {};
}
