import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { makePrivateDir, makeTreePrivate, withPrivateUmask } from "../shared/privateFiles.js";
import { writeFileAtomic } from "../shared/writeFileAtomic.js";
import type { Secrets } from "./secrets.js";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const venvPython = join(repoRoot, ".venv", "bin", "python");

export interface SynapseSetup {
  dataDir: string;
  serverName: string;
  port: number;
  registrationFile: string;
  secrets: Secrets;
  /** Extra YAML files merged over the dev template, e.g. the test overlay. */
  overlays?: string[];
  logLevel?: string;
  retentionMaxLifetime?: string;
}

function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`synapse template placeholder {{${k}}} has no value`);
    return v;
  });
}

/**
 * Renders homeserver.yaml and log.config into dataDir and makes sure a signing key exists.
 * Everything in dataDir is made private (0700/0600), including what an older install left 0644.
 */
export function writeSynapseConfig(s: SynapseSetup): string {
  makePrivateDir(s.dataDir);
  makeTreePrivate(s.dataDir);
  const vars = {
    SERVER_NAME: s.serverName,
    SYNAPSE_PORT: String(s.port),
    DATA_DIR: s.dataDir,
    REGISTRATION_FILE: s.registrationFile,
    MACAROON_SECRET: s.secrets.macaroonSecret,
    FORM_SECRET: s.secrets.formSecret,
    REGISTRATION_SHARED_SECRET: s.secrets.registrationSharedSecret,
    RETENTION_MAX_LIFETIME: s.retentionMaxLifetime ?? "3650d",
    SYNAPSE_LOG_LEVEL: s.logLevel ?? "INFO",
  };
  const cfgDir = join(repoRoot, "synapse-config");
  let config = parse(render(readFileSync(join(cfgDir, "homeserver.dev.yaml"), "utf8"), vars)) as Record<string, unknown>;
  for (const overlay of s.overlays ?? []) {
    config = { ...config, ...(parse(readFileSync(overlay, "utf8")) as Record<string, unknown>) };
  }
  const configFile = join(s.dataDir, "homeserver.yaml");
  writeFileAtomic(configFile, stringify(config), 0o600);
  writeFileAtomic(join(s.dataDir, "log.config"), render(readFileSync(join(cfgDir, "log.config"), "utf8"), vars), 0o600);
  if (!existsSync(join(s.dataDir, "signing.key"))) {
    const r = withPrivateUmask(() =>
      spawnSync(venvPython, ["-m", "synapse.app.homeserver", "-c", configFile, "--generate-keys"], {
        encoding: "utf8",
      }),
    );
    if (r.status !== 0) throw new Error(`Synapse could not generate its signing key: ${r.stderr}`);
  }
  return configFile;
}
