import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { stringify } from "yaml";
import { writeRegistration } from "../../appservice/setup/registration.js";
import { generateSecrets } from "../../appservice/setup/secrets.js";
import { writeFileAtomic } from "../../appservice/shared/writeFileAtomic.js";
import { repoRoot, writeSynapseConfig } from "../../appservice/setup/synapseConfig.js";
import { startSynapse, type RunningSynapse } from "../../appservice/setup/synapseProcess.js";
import { productionRateLimitsOverlay, testUserRegistrar, type TestHomeserver } from "./homeserver.js";
import { freePort } from "./ports.js";
import { killOnExit } from "./processes.js";
import { tempDir } from "./tempDir.js";

/** A test homeserver that federates: its name is `localhost:<fedPort>`, so peers connect straight to that port. */
export interface FederatedHomeserver extends TestHomeserver {
  fedPort: number;
  stop(): Promise<void>;
}

export interface Federation {
  /** The hospital's homeserver; it runs the Rounds appservice. */
  hospital: FederatedHomeserver;
  /** A referring clinic's homeserver: its own users, no Rounds. */
  clinic: FederatedHomeserver;
  stop(): Promise<void>;
}


function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "2", "-keyout", key, "-out", cert], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.error?.message ?? r.stderr}`);
  return { cert, key };
}

async function startFederatedHomeserver(opts: { label: string; fedPort: number; peers: string[]; withRounds: boolean }): Promise<FederatedHomeserver> {
  const dir = tempDir(`fed-${opts.label}`);
  const [port, appservicePort] = [await freePort(), await freePort()];
  const serverName = `localhost:${opts.fedPort}`;
  const secrets = generateSecrets();
  const registrationFile = join(dir, "registration.yaml");
  writeRegistration(registrationFile, { url: `http://127.0.0.1:${appservicePort}`, serverName, asToken: secrets.asToken, hsToken: secrets.hsToken });
  const tls = selfSignedCertificate(dir);
  // What differs per server: its two listeners, its certificate, the servers it federates with,
  // and whether it carries the Rounds registration.
  const ownOverlay = join(dir, "federation-overlay.yaml");
  writeFileAtomic(
    ownOverlay,
    stringify({
      listeners: [
        { port, bind_addresses: ["127.0.0.1"], type: "http", tls: false, x_forwarded: false, resources: [{ names: ["client", "openid"], compress: false }] },
        { port: opts.fedPort, bind_addresses: ["127.0.0.1"], type: "http", tls: true, x_forwarded: false, resources: [{ names: ["federation"], compress: false }] },
      ],
      tls_certificate_path: tls.cert,
      tls_private_key_path: tls.key,
      federation_domain_whitelist: [serverName, ...opts.peers],
      app_service_config_files: opts.withRounds ? [registrationFile] : [],
    }),
  );
  const config = writeSynapseConfig({
    dataDir: dir,
    serverName,
    port,
    registrationFile,
    secrets,
    overlays: [productionRateLimitsOverlay(dir), join(repoRoot, "synapse-config", "test-overrides.yaml"), join(repoRoot, "synapse-config", "test-federation.yaml"), ownOverlay],
  });
  const url = `http://127.0.0.1:${port}`;
  let synapse: RunningSynapse;
  try {
    synapse = await startSynapse(config, url);
  } catch (e) {
    throw new Error(`the ${opts.label} homeserver (${serverName}) did not start: ${(e as Error).message}`);
  }
  killOnExit(synapse.process);
  return {
    url,
    serverName,
    fedPort: opts.fedPort,
    dir,
    dbFile: join(dir, "homeserver.db"),
    secrets,
    registrationFile,
    appservicePort,
    register: testUserRegistrar(url, secrets.registrationSharedSecret),
    stop: () => synapse.stop(),
  };
}

/**
 * Two real Synapses that federate with each other over loopback (TLS with self-signed
 * certificates), separate from the run's shared homeserver: a hospital with the Rounds
 * registration, and a referring clinic.
 */
export async function startFederation(): Promise<Federation> {
  // A port found free can be taken (by another process's outgoing connection) before Synapse
  // binds it, seconds later: that start is retried on fresh ports, anything else is thrown.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startFederationOnce();
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !err.message.includes("Address already in use")) throw err;
    }
  }
}

async function startFederationOnce(): Promise<Federation> {
  const [hospitalFed, clinicFed] = [await freePort(), await freePort()];
  const hospitalName = `localhost:${hospitalFed}`;
  const clinicName = `localhost:${clinicFed}`;
  const started = await Promise.allSettled([
    startFederatedHomeserver({ label: "hospital", fedPort: hospitalFed, peers: [clinicName], withRounds: true }),
    startFederatedHomeserver({ label: "clinic", fedPort: clinicFed, peers: [hospitalName], withRounds: false }),
  ]);
  const running = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(running.map((hs) => hs.stop()));
    throw failed.reason;
  }
  const [hospital, clinic] = running as [FederatedHomeserver, FederatedHomeserver];
  return {
    hospital,
    clinic,
    async stop() {
      await Promise.all([hospital.stop(), clinic.stop()]);
    },
  };
}
