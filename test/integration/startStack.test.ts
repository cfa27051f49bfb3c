import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { freePort } from "../harness/ports.js";
import { killOnExit } from "../harness/processes.js";
import { tempDir } from "../harness/tempDir.js";

/** What `npm start` runs after installing dependencies: config generation, then the stack. */
describe("npm start: the whole stack on embedded defaults", function () {
  const state = tempDir("start");
  let env: Record<string, string>;
  let stack: ChildProcess | null = null;
  let output = "";

  const tsx = (script: string) => ["--no-deprecation", "--import", "tsx", join(repoRoot, "appservice", "setup", script)];

  before(async function () {
    env = {
      PATH: process.env.PATH ?? "",
      ROUNDS_STATE_DIR: state,
      ROUNDS_SYNAPSE_PORT: String(await freePort()),
      ROUNDS_APPSERVICE_PORT: String(await freePort()),
      ROUNDS_METRICS_PORT: String(await freePort()),
    };
  });

  after(function () {
    if (stack?.exitCode === null) stack.kill("SIGKILL");
  });

  it("generates secrets, registration and homeserver config, and keeps them on a second run", function () {
    const first = spawnSync(process.execPath, tsx("devSetup.ts"), { env, encoding: "utf8" });
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.contain("generated new secrets").and.contain("generated");
    const second = spawnSync(process.execPath, tsx("devSetup.ts"), { env, encoding: "utf8" });
    expect(second.status, second.stderr).to.equal(0);
    expect(second.stdout).to.contain("secrets kept from").and.contain("refreshed");
  });

  it("starts Synapse and Rounds, says what runs where, and stops cleanly on Ctrl-C", async function () {
    stack = spawn(process.execPath, tsx("runStack.ts"), { env, stdio: ["ignore", "pipe", "pipe"] });
    killOnExit(stack);
    stack.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    stack.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes("Press Ctrl-C to stop.")) resolve();
        else if (stack!.exitCode !== null) reject(new Error(`the stack exited:\n${output}`));
      };
      stack!.stdout!.on("data", check);
      stack!.on("exit", check);
    });
    expect(output).to.contain(`Homeserver (Synapse)   http://127.0.0.1:${env.ROUNDS_SYNAPSE_PORT}`);
    expect(output).to.contain(`health: http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/health`);
    expect(output).to.contain("PGlite, embedded");
    expect(output).to.contain("@rounds_oncall:rounds.local");
    expect(output).to.contain("@rounds_consult:rounds.local");

    const health = await fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/health`);
    expect(health.status).to.equal(200);
    expect((await health.json()).checks).to.deep.equal({ database: true, homeserver: true, bots: true });
    // The built widgets are served from the appservice's origin.
    const widget = await fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/_rounds/widgets/consult/index.html`);
    expect(widget.status).to.equal(200);
    expect(widget.headers.get("content-type")).to.match(/^text\/html/);

    stack.kill("SIGINT");
    const [code] = await once(stack, "exit");
    expect(code).to.equal(0);
    expect(output).to.contain("[start] stopped.");
    const synapseGone = await fetch(`http://127.0.0.1:${env.ROUNDS_SYNAPSE_PORT}/_matrix/client/versions`).then(
      () => false,
      () => true,
    );
    expect(synapseGone, "Synapse still answers after Ctrl-C").to.equal(true);
  });
});
