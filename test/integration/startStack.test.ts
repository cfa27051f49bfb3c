import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { SecretsSchema } from "../../appservice/setup/secrets.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { TestClinician } from "../harness/clinician.js";
import { testUserRegistrar, type TestHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";
import { portFree, StackProcess } from "../harness/stackProcess.js";
import { tempDir } from "../harness/tempDir.js";
import { waitUntil } from "../harness/waitUntil.js";

const READY = /Rounds is running \(ready in ([\d.]+) s\)/;
const ONCALL_BOT = "@rounds_oncall:rounds.local";

/** What `npm start` runs after installing dependencies: config generation, then the stack. */
describe("npm start: the whole stack on embedded defaults", function () {
  const state = tempDir("start");
  let env: Record<string, string>;
  const stacks: StackProcess[] = [];
  const clinicians: TestClinician[] = [];

  const tsx = (script: string) => ["--no-deprecation", "--import", "tsx", join(repoRoot, "appservice", "setup", script)];
  const ports = () => [env.ROUNDS_SYNAPSE_PORT, env.ROUNDS_APPSERVICE_PORT, env.ROUNDS_METRICS_PORT].map(Number);
  const started = (stack: StackProcess) => (stacks.push(stack), stack);
  const health = () =>
    fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/health`).then(
      async (r) => ((await r.json()) as { checks: { bots: boolean } }).checks,
      () => null,
    );

  /** The homeserver the stack started, as the E2EE test clients need it. */
  function stackHomeserver(): TestHomeserver {
    const url = `http://127.0.0.1:${env.ROUNDS_SYNAPSE_PORT}`;
    const secrets = SecretsSchema.parse(JSON.parse(readFileSync(join(state, "secrets.json"), "utf8")));
    return {
      url,
      serverName: "rounds.local",
      dir: join(state, "synapse"),
      dbFile: join(state, "synapse", "homeserver.db"),
      secrets,
      registrationFile: join(state, "registration.yaml"),
      appservicePort: Number(env.ROUNDS_APPSERVICE_PORT),
      register: testUserRegistrar(url, secrets.registrationSharedSecret),
    };
  }

  /** Rounds' JSON log lines in rounds.log (the supervisor's own lines there are plain text). */
  function roundsLogEntries(): { time: number; msg: string; [k: string]: unknown }[] {
    return readFileSync(join(state, "logs", "rounds.log"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { time: number; msg: string });
  }

  /**
   * Sends a stop request and checks that the stack took everything it started with it, freeing
   * the ports. `exitCode`: what npm start exits with (npm itself re-raises the signal it got).
   */
  async function expectStopsEverything(stack: StackProcess, send: () => void, exitCode: number | null = 0): Promise<void> {
    const tree = stack.descendants();
    expect(tree.length, "processes below npm start").to.be.greaterThan(1);
    const exit = once(stack.child, "exit");
    send();
    await stack.waitForOutput(/\[start\] stopped\./, 60_000, { afterExit: true });
    const [code] = (await exit) as [number | null];
    if (exitCode !== null) expect(code, stack.output).to.equal(exitCode);
    await waitUntil(async () => stack.leftovers().length === 0, `every process of the stack to exit (left: ${stack.leftovers().join(", ")})`, 10_000);
    for (const port of ports()) expect(await portFree(port), `port ${port} still taken`).to.equal(true);
  }

  before(async function () {
    env = {
      PATH: process.env.PATH ?? "",
      ROUNDS_STATE_DIR: state,
      ROUNDS_SYNAPSE_PORT: String(await freePort()),
      ROUNDS_APPSERVICE_PORT: String(await freePort()),
      ROUNDS_METRICS_PORT: String(await freePort()),
    };
  });

  afterEach(function () {
    const failed = this.currentTest?.state === "failed";
    if (failed) for (const s of stacks) process.stderr.write(`--- npm start output ---\n${s.output}\n`);
    // What a failed or stopped stack left behind would hold the ports the next test needs.
    for (const s of stacks) if (failed || s.child.exitCode !== null || s.child.signalCode !== null) s.killAll();
  });

  after(function () {
    for (const c of clinicians) c.stop();
    for (const s of stacks) s.killAll();
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
    this.timeout(180_000);
    const stack = started(StackProcess.runStack(env));
    await stack.waitForOutput(/Press Ctrl-C to stop\./, 150_000);
    const { output } = stack;
    expect(output).to.match(READY);
    expect(output).to.contain(`Homeserver (Synapse)   http://127.0.0.1:${env.ROUNDS_SYNAPSE_PORT}`);
    expect(output).to.contain(`health: http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/health`);
    expect(output).to.contain("PGlite, embedded");
    expect(output).to.contain("@rounds_oncall:rounds.local");
    expect(output).to.contain("@rounds_consult:rounds.local");

    expect(await health()).to.deep.equal({ database: true, homeserver: true, bots: true });
    // The built widgets are served from the appservice's origin.
    const widget = await fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/_rounds/widgets/consult-room/index.html`);
    expect(widget.status).to.equal(200);
    expect(widget.headers.get("content-type")).to.match(/^text\/html/);
    // A widget pinned in a room under its former folder name still loads: redirected, query kept.
    const query = "?roomId=%21r%3Arounds.local&userId=%40a%3Arounds.local";
    const pinned = await fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/_rounds/widgets/consults/index.html${query}`, { redirect: "manual" });
    expect(pinned.status).to.equal(308);
    expect(pinned.headers.get("location")).to.equal(`/_rounds/widgets/consult-dashboard/index.html${query}`);
    const followed = await fetch(`http://127.0.0.1:${env.ROUNDS_APPSERVICE_PORT}/_rounds/widgets/handoff/index.html${query}`);
    expect(followed.status).to.equal(200);
    expect(followed.url).to.contain("/_rounds/widgets/handoff-room/index.html");

    await expectStopsEverything(stack, () => stack.child.kill("SIGINT"));
  });

  describe("under npm start (scripts/setup.mjs)", function () {
    let stack: StackProcess;
    let alice: TestClinician;
    let roomId: string;

    it("times the ready line from the start of npm start", async function () {
      this.timeout(180_000);
      // Debug logs show when each appservice transaction arrives, to time Synapse's resend.
      stack = started(StackProcess.npmStart({ ...env, LOG_LEVEL: "debug" }));
      const [, seconds] = await stack.waitForOutput(READY, 150_000);
      expect(stack.output).to.match(/\[setup\] done in [\d.]+ s; starting the stack/);
      expect(stack.output).not.to.match(/\[setup\] ready in/);
      // Measured from setup.mjs's start, so it includes the setup steps as well as the stack's start.
      const setupSeconds = Number(/\[setup\] done in ([\d.]+) s/.exec(stack.output)![1]);
      expect(Number(seconds)).to.be.greaterThan(setupSeconds);
    });

    it("restarts Rounds after kill -9, shows it, and answers a DM sent while Rounds was down without a later event", async function () {
      this.timeout(240_000);
      const hs = stackHomeserver();
      alice = await TestClinician.create(hs, "alice", "Dr Alice Chen");
      clinicians.push(alice);
      roomId = await alice.openEncryptedDm(ONCALL_BOT);
      const firstId = await alice.send(roomId, "!help");
      expect((await alice.waitForNotice(roomId, ONCALL_BOT, { after: firstId })).body).to.contain("!help — Show this help");

      const pid = stack.processRunning("scripts/appservice.mjs");
      const mark = stack.output.length;
      const killedAt = Date.now();
      process.kill(pid, "SIGKILL");
      await stack.waitForOutput(/\[start\] Rounds exited \(signal SIGKILL\); restarting in 1 s \(restart 1\)/, 10_000, { from: mark });

      // Sent while Rounds is down: the appservice port answers nothing until the new child listens.
      const downId = await alice.send(roomId, "!help");
      expect(await health(), "Rounds answered /health while it should be down").to.equal(null);

      const [, newPid] = await stack.waitForOutput(/\[start\] Rounds appservice started \(pid (\d+)\)/, 30_000, { from: mark });
      const restartedAt = Date.now();
      expect(Number(newPid)).not.to.equal(pid);
      const answer = await alice.waitForNotice(roomId, ONCALL_BOT, { after: downId, timeoutMs: 90_000 });
      const answeredAt = Date.now();
      expect(answer.body).to.contain("!help — Show this help");
      await stack.waitForOutput(/\[start\] Rounds is running again after restart 1/, 30_000, { from: mark });
      expect(await health()).to.deep.equal({ database: true, homeserver: true, bots: true });
      // The restart is in the log as well as on the terminal.
      expect(readFileSync(join(state, "logs", "rounds.log"), "utf8")).to.contain("[start] Rounds exited (signal SIGKILL); restarting in 1 s (restart 1)");
      // The new run's ping made Synapse resend what it queued, instead of waiting out its backoff.
      const logs = roundsLogEntries().filter((l) => l.time > killedAt);
      const ping = logs.find((l) => l.msg === "homeserver reached us: appservice link is up");
      const delivery = logs.find((l) => l.msg === "appservice: transaction committed" && Number(l.stored) > 0);
      // The ping is how the restarted Rounds asks for it at once; on a loaded machine Synapse can
      // answer the ping late or with an error, and its own retry delivers instead, so only the
      // delivery is required.
      expect(delivery, "a transaction after the restart").to.not.equal(undefined);
      console.log(
        `      kill -9 to the answer of the DM sent while down: ${((answeredAt - killedAt) / 1000).toFixed(1)} s; ` +
          `restart (new child spawned) to that answer: ${((answeredAt - restartedAt) / 1000).toFixed(1)} s; ` +
          (ping ? `ping to the resent transaction: ${delivery!.time - ping.time} ms` : "the ping did not succeed; Synapse's retry delivered"),
      );

      // And it keeps answering new commands.
      const afterId = await alice.send(roomId, "!help");
      expect((await alice.waitForNotice(roomId, ONCALL_BOT, { after: afterId })).body).to.contain("!help — Show this help");
    });

    it("stops Rounds and Synapse and frees their ports on SIGTERM to the npm start process alone", async function () {
      alice?.stop();
      await expectStopsEverything(stack, () => process.kill(stack.pid, "SIGTERM"));
      expect(stack.output).to.contain("[start] stopping Rounds and Synapse");
    });
  });

  for (const [signal, target] of [
    ["SIGHUP", "setup.mjs alone"],
    ["SIGINT", "setup.mjs alone"],
    ["SIGINT", "its process group, as Ctrl-C does"],
  ] as const) {
    it(`stops everything and frees the ports on ${signal} to ${target}`, async function () {
      this.timeout(180_000);
      const stack = started(StackProcess.npmStart(env));
      await stack.waitForOutput(READY, 150_000);
      const pid = target.startsWith("its") ? -stack.pid : stack.pid;
      await expectStopsEverything(stack, () => process.kill(pid, signal));
    });
  }

  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    it(`stops everything and frees the ports on ${signal} to npm's own pid, which never reaches setup.mjs`, async function () {
      this.timeout(180_000);
      const stack = started(StackProcess.npmRunStart(env, tempDir("npm-home")));
      await stack.waitForOutput(READY, 150_000);
      await expectStopsEverything(stack, () => process.kill(stack.pid, signal), null);
    });
  }

  it("does not restart a Rounds that fails on its configuration, and stops the stack with the reason", async function () {
    this.timeout(120_000);
    const stack = started(StackProcess.runStack({ ...env, ROUNDS_PAGE_DELAY_URGENT: "soon" }));
    const [code] = (await once(stack.child, "exit")) as [number | null];
    expect(code, stack.output).to.equal(1);
    expect(stack.output).to.contain("ROUNDS_PAGE_DELAY_URGENT");
    expect(stack.output).to.match(/\[start\] Rounds cannot start: its configuration is wrong/);
    expect(stack.output).not.to.contain("restarting in");
    for (const port of ports()) expect(await portFree(port), `port ${port} still taken`).to.equal(true);
  });

  it("leaves nothing running when the stack's own process is killed -9", async function () {
    this.timeout(180_000);
    const stack = started(StackProcess.runStack(env));
    await stack.waitForOutput(READY, 150_000);
    const tree = stack.descendants();
    expect(tree.length, "Synapse and Rounds below the stack").to.be.greaterThan(1);
    process.kill(stack.pid, "SIGKILL");
    // No stop code runs: Synapse gets its parent-death signal, Rounds notices its IPC channel close.
    await waitUntil(async () => stack.leftovers().length === 0, `every process of the stack to exit (left: ${stack.leftovers().join(", ")})`, 30_000);
    for (const port of ports()) expect(await portFree(port), `port ${port} still taken`).to.equal(true);
  });

  it("reports a Synapse crash and stops Rounds with it", async function () {
    this.timeout(180_000);
    const stack = started(StackProcess.runStack(env));
    await stack.waitForOutput(READY, 150_000);
    process.kill(stack.processRunning("synapse.app.homeserver"), "SIGKILL");
    const [code] = (await once(stack.child, "exit")) as [number | null];
    expect(code, stack.output).to.equal(1);
    expect(stack.output).to.contain("[start] Synapse exited (signal SIGKILL)");
    await waitUntil(async () => stack.leftovers().length === 0, "the stack's processes to be gone", 5_000);
    for (const port of ports()) expect(await portFree(port), `port ${port} still taken`).to.equal(true);
  });

  it("after a whole-stack restart (Ctrl-C, then npm start again), answers the next commands exactly once", async function () {
    this.timeout(360_000);
    const first = started(StackProcess.npmStart(env));
    await first.waitForOutput(READY, 150_000);
    const carol = await TestClinician.create(stackHomeserver(), "carol", "Dr Carol Diaz");
    clinicians.push(carol);
    const room = await carol.openEncryptedDm(ONCALL_BOT);
    for (let i = 0; i < 3; i++) {
      const id = await carol.send(room, "!help");
      await carol.waitForNotice(room, ONCALL_BOT, { after: id });
    }
    await expectStopsEverything(first, () => process.kill(-first.pid, "SIGINT"));

    // Synapse on SQLite numbers its appservice transactions from 1 again: ids Rounds has seen.
    const restartedAt = Date.now();
    const second = started(StackProcess.npmStart(env));
    await second.waitForOutput(READY, 150_000);
    const readyAt = Date.now();
    const asked = await carol.send(room, "!oncall cardiology");
    const reply = await carol.waitForNotice(room, ONCALL_BOT, { after: asked, timeoutMs: 90_000 });
    const answeredAt = Date.now();
    expect(reply.body).to.contain("on-call services");
    const next = await carol.send(room, "!help");
    await carol.waitForNotice(room, ONCALL_BOT, { after: next });
    for (const id of [asked, next]) expect(await carol.noticesReplyingTo(room, ONCALL_BOT, id), "replies to one command").to.equal(1);
    console.log(`      whole-stack restart to ready: ${((readyAt - restartedAt) / 1000).toFixed(1)} s; first command after ready answered in ${((answeredAt - readyAt) / 1000).toFixed(1)} s`);
    await expectStopsEverything(second, () => process.kill(-second.pid, "SIGINT"));
  });
});
