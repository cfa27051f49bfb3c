import { expect } from "chai";
import { createLogger } from "../../appservice/logging.js";
import { startRounds, type RunningRounds } from "../../appservice/main.js";
import { ConfigError, loadConfig } from "../../appservice/shared/config.js";
import { configSections, WORKFLOWS } from "../../appservice/workflows.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";
import { RoundsProcess } from "../harness/rounds.js";
import { widgetSession } from "../harness/widgetCaller.js";
import { reminders } from "../workflows/reminders/index.js";

describe("a workflow joins Rounds through its declaration alone (test workflow 'reminders', real Synapse, E2EE)", function () {
  const registry = [...WORKFLOWS, reminders];
  let hs: TestHomeserver;
  let env: Record<string, string>;
  let running: RunningRounds | null = null;
  let wendy: TestClinician;
  let url: string;

  before(async function () {
    hs = await getHomeserver();
    // The harness's environment for a Rounds on the registered port; run here, in-process, with
    // the registry plus the test workflow, and only its bot.
    const proc = new RoundsProcess(hs, { ROUNDS_BOTS: "reminders", ROUNDS_TIMER_POLL_MS: "250" });
    proc.metricsPort = await freePort();
    env = proc.baseEnv();
    running = await startRounds(loadConfig(env, configSections(registry)), createLogger("error"), registry);
    url = proc.url;
    wendy = await TestClinician.create(hs, "wendy");
  });

  after(async function () {
    wendy?.stop();
    await running?.stop();
  });

  it("takes its config key from its declaration, validated with the rest and named when bad", function () {
    const bad = (() => {
      try {
        loadConfig({ ...env, ROUNDS_REMINDERS_MAX_SECONDS: "0" }, configSections(registry));
      } catch (err) {
        return err;
      }
    })();
    expect(bad).to.be.instanceOf(ConfigError);
    expect((bad as ConfigError).key).to.equal("ROUNDS_REMINDERS_MAX_SECONDS");
    // Without it in the registry, its bot is unknown to the config.
    expect(() => loadConfig(env, configSections(WORKFLOWS))).to.throw(ConfigError, /unknown bot 'reminders'/);
  });

  it("answers its bot command, and its timer posts the reminder encrypted in the room", async function () {
    const bot = `@rounds_reminders:${hs.serverName}`;
    const dm = await wendy.openEncryptedDm(bot);
    const help = await wendy.send(dm, "!help");
    expect((await wendy.waitForNotice(dm, bot, { after: help })).body).to.contain("!remind <seconds> <label>");
    const bad = await wendy.send(dm, "!remind soon ward round");
    expect((await wendy.waitForNotice(dm, bot, { after: bad })).body).to.match(/^Give whole seconds from 1 to 600/);
    const cmd = await wendy.send(dm, "!remind 1 ward round");
    const reply = await wendy.waitForNotice(dm, bot, { after: cmd });
    expect(reply.body).to.match(/^Reminder #\d+ set for 1 s\.$/);
    const id = /#(\d+)/.exec(reply.body)![1];
    const fired = await wendy.waitForMessage((b) => b === `⏰ Reminder #${id}: ward round`, { roomId: dm, what: "the reminder" });
    expect(fired.event.isEncrypted()).to.equal(true);

    // Its widget route, behind the widget API's own OpenID session and membership check.
    const widget = await widgetSession(url, wendy);
    const count = await widget.call("POST", "/v1/reminders/count", { room_id: dm });
    expect(count).to.deep.equal({ status: 200, json: { count: 1 } });
    const elsewhere = await widget.call("POST", "/v1/reminders/count", { room_id: "!not-a-room:rounds.test" });
    expect(elsewhere.status).to.equal(403);
    expect((await widget.call("POST", "/v1/reminders/count", { room_id: 42 })).status).to.equal(400);

    // Its admin route, behind the admin token.
    const admin = await fetch(`${url}/_rounds/admin/v1/reminders`, { headers: { authorization: `Bearer ${env.ROUNDS_ADMIN_TOKEN}` } });
    expect(admin.status).to.equal(200);
    expect(((await admin.json()) as { reminders: unknown[] }).reminders).to.deep.equal([{ id: Number(id), room_id: dm, author: wendy.userId, label: "ward round", sent: true }]);
    expect((await fetch(`${url}/_rounds/admin/v1/reminders`)).status).to.equal(403);
  });
});
