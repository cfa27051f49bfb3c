import { existsSync } from "node:fs";
import { ConfigError } from "../shared/config.js";
import { writeRegistration } from "./registration.js";
import { join } from "node:path";
import { devPaths, devSettings, showPath } from "./devEnvironment.js";
import { makePrivateDir, makeTreePrivate } from "../shared/privateFiles.js";
import { loadOrCreateSecrets } from "./secrets.js";
import { writeSynapseConfig } from "./synapseConfig.js";

/** Generates secrets (once), registration.yaml and the dev homeserver config. Idempotent. */
let settings;
try {
  settings = devSettings();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`[setup] ${err.message}`);
  process.exit(2);
}
const { secrets, created } = loadOrCreateSecrets(devPaths.secrets);
console.log(`[setup] ${created ? "generated new secrets in" : "secrets kept from"} ${showPath(devPaths.secrets)}`);
const hadRegistration = existsSync(devPaths.registration);
writeRegistration(devPaths.registration, {
  url: `http://127.0.0.1:${settings.appservicePort}`,
  serverName: settings.serverName,
  asToken: secrets.asToken,
  hsToken: secrets.hsToken,
});
console.log(`[setup] ${hadRegistration ? "refreshed" : "generated"} ${showPath(devPaths.registration)}`);
writeSynapseConfig({
  dataDir: devPaths.synapseDir,
  serverName: settings.serverName,
  port: settings.synapsePort,
  registrationFile: devPaths.registration,
  secrets,
  retentionMaxLifetime: settings.retentionMaxLifetime,
});
console.log(`[setup] homeserver config in ${showPath(join(devPaths.synapseDir, "homeserver.yaml"))}`);
// The state (databases, crypto stores, logs, secrets) is private; an older install left it 0644/0755.
makePrivateDir(devPaths.state);
makeTreePrivate(devPaths.state);
