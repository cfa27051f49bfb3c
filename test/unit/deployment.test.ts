import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import { configKeys } from "../../appservice/shared/config.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { configSections, WORKFLOWS } from "../../appservice/workflows.js";

const { all: CONFIG_KEYS, required: REQUIRED_CONFIG_KEYS } = configKeys(configSections(WORKFLOWS));

describe("deployment files stay in step with the code", function () {
  const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8")) as {
    services: Record<string, { environment?: Record<string, string>; env_file?: unknown; restart?: string }>;
  };

  it("docker-compose.yml runs postgres, synapse, rounds and element-web", function () {
    expect(Object.keys(compose.services)).to.have.members(["postgres", "synapse", "rounds", "element-web"]);
  });

  it("restarts every long-running service after a crash or a reboot, unless an operator stopped it", function () {
    const policies = Object.fromEntries(Object.entries(compose.services).map(([name, svc]) => [name, svc.restart]));
    expect(policies).to.deep.equal({ postgres: "unless-stopped", synapse: "unless-stopped", rounds: "unless-stopped", "element-web": "unless-stopped" });
  });

  it("gives the rounds service only configuration keys the code reads, and every required one", function () {
    const env = Object.keys(compose.services.rounds!.environment ?? {});
    expect(env.filter((k) => !CONFIG_KEYS.includes(k)), "unknown keys").to.deep.equal([]);
    expect(REQUIRED_CONFIG_KEYS.filter((k) => !env.includes(k)), "missing required keys").to.deep.equal([]);
  });

  it("lists no workflow's keys: they come from an optional rounds.env, so a new workflow changes nothing here", function () {
    const workflowKeys = configSections(WORKFLOWS).flatMap((s) => Object.keys(s.env));
    expect(workflowKeys, "the registry declares workflow keys").to.include("ROUNDS_CONSULT_ACCEPT_URGENT");
    const env = Object.keys(compose.services.rounds!.environment ?? {});
    expect(env.filter((k) => workflowKeys.includes(k))).to.deep.equal([]);
    // A key in `environment` overrides rounds.env, so settings a deployer sets there are not listed.
    expect(env).to.not.include.members(["ROUNDS_PUBLIC_URL"]);
    expect(compose.services.rounds!.env_file).to.deep.equal([{ path: "./rounds.env", required: false }]);
  });

  it("federates in the tests with the production template's retry intervals for a partner server", function () {
    const read = (f: string) => parse(readFileSync(join(repoRoot, "synapse-config", f), "utf8").replace(/\$\{[A-Z_]+\}/g, "x")) as { federation?: unknown };
    const production = read("homeserver.production.yaml").federation;
    expect(production).to.deep.equal({ destination_min_retry_interval: "30s", destination_max_retry_interval: "10m" });
    expect(read("test-federation.yaml").federation).to.deep.equal(production);
  });

  it("keeps the production homeserver template valid YAML with E2EE on and registration off", function () {
    const text = readFileSync(join(repoRoot, "synapse-config", "homeserver.production.yaml"), "utf8").replace(/\$\{[A-Z_]+\}/g, "x");
    const hs = parse(text) as Record<string, unknown>;
    expect(hs.encryption_enabled_by_default_for_room_type).to.equal("all");
    expect(hs.enable_registration).to.equal(false);
    expect(hs.app_service_config_files).to.deep.equal(["/config/registration.yaml"]);
    expect((hs.database as { name: string }).name).to.equal("psycopg2");
  });

  it("points Element at the dev homeserver", function () {
    const el = JSON.parse(readFileSync(join(repoRoot, "element-config", "config.json"), "utf8"));
    expect(el.default_server_config["m.homeserver"]).to.deep.equal({ base_url: "http://127.0.0.1:8008", server_name: "rounds.local" });
  });
});
