import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { testSchedule } from "../harness/fixtures.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";
import { RoundsProcess } from "../harness/rounds.js";
import { tempDir } from "../harness/tempDir.js";

describe("the rounds admin CLI (real Synapse, running Rounds)", function () {
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  const dir = tempDir("cli");

  function cli(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, [join(repoRoot, "scripts", "rounds.mjs"), ...args], {
      env: {
        PATH: process.env.PATH,
        ROUNDS_HOMESERVER_URL: hs.url,
        ROUNDS_APPSERVICE_URL: rounds.url,
        ROUNDS_ADMIN_TOKEN: rounds.adminToken,
        ROUNDS_REGISTRATION_SHARED_SECRET: hs.secrets.registrationSharedSecret,
        ROUNDS_SERVER_NAME: hs.serverName,
        ...env,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  before(async function () {
    hs = await getHomeserver();
    rounds = new RoundsProcess(hs);
    await rounds.start();
  });
  after(async () => rounds?.stop());

  it("creates an account on the homeserver that can then sign in", async function () {
    const name = `nurse${process.pid}`;
    const r = cli(["user", "create", name, "--password", "a-good-password", "--name", "Nurse Test"]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain(`Created @${name}:${hs.serverName}`);
    const login = await fetch(`${hs.url}/_matrix/client/v3/login`, {
      method: "POST",
      body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: name }, password: "a-good-password" }),
    });
    expect(login.status).to.equal(200);
  });

  it("refuses a weak password or a bad user name with the usage", function () {
    const weak = cli(["user", "create", "someone", "--password", "short"]);
    expect(weak.code).to.equal(1);
    expect(weak.err).to.contain("--password of at least 8 characters").and.contain("Usage: npm run rounds");
    expect(cli(["user", "create", "Bad Name!", "--password", "long-enough-pw"]).err).to.contain("localpart");
  });

  it("imports a schedule file and answers who is on call", function () {
    const file = join(dir, "schedule.yaml");
    const { yaml, primary } = testSchedule(hs.serverName);
    writeFileSync(file, yaml);
    const imp = cli(["schedule", "import", file]);
    expect(imp.code, imp.err).to.equal(0);
    expect(imp.out).to.contain("Imported 2 service(s): cardiology, icu; 3 clinician name(s).");
    const who = cli(["oncall", "cardiology"]);
    expect(who.code, who.err).to.equal(0);
    expect(who.out).to.contain(`primary: ${primary.name} (${primary.user})`);
  });

  it("refuses a bad schedule file, lists every problem and changes nothing", function () {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "services:\n  - id: cardiology\n    name: Cardiology\n    timezone: Nowhere/Land\n    levels: []\n");
    const r = cli(["schedule", "import", file]);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain("services.0.timezone: must be an IANA time zone").and.contain("services.0.levels: a service needs at least one level");
    expect(cli(["oncall", "cardiology"]).out).to.contain("Europe/London");
  });

  it("is refused by the admin API with a wrong admin token, and nothing is imported", function () {
    const file = join(dir, "other.yaml");
    writeFileSync(file, testSchedule(hs.serverName).yaml.replace("id: icu", "id: neonatal"));
    const r = cli(["schedule", "import", file], { ROUNDS_ADMIN_TOKEN: "wrong-token-wrong-token-wrong-token" });
    expect(r.code).to.equal(1);
    expect(r.err).to.contain("bad or missing admin token");
    expect(cli(["oncall", "neonatal"]).err).to.contain("unknown service 'neonatal'");
  });

  it("lists dead letters and refuses to replay one that does not exist", function () {
    const list = cli(["dead-letters", "list"]);
    expect(list.code, list.err).to.equal(0);
    const replay = cli(["dead-letters", "replay", "$no-such-event"]);
    expect(replay.code).to.equal(1);
    expect(replay.err).to.contain("no dead letter for event $no-such-event");
    expect(cli(["dead-letters", "replay"]).err).to.contain("needs the event id");
  });

  it("explains an unknown service, an unknown command and a stack that is not running", async function () {
    expect(cli(["oncall", "dermatology"]).err).to.contain("unknown service 'dermatology'");
    const unknown = cli(["frobnicate"]);
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain("unknown command 'frobnicate'");
    const down = cli(["oncall", "icu"], { ROUNDS_APPSERVICE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(down.err).to.contain("is not reachable").and.contain("npm start");
  });

  it("sets a clinician's phone and SMS rules without ever printing the whole number, and refuses bad values", function () {
    const set = cli(["contact", "set", "@quinn:rounds.test", "--phone", "+447700900123", "--urgent", "90", "--routine", "off"]);
    expect(set.code, set.err).to.equal(0);
    expect(set.out).to.contain("@quinn:rounds.test: phone …123; emergent: SMS after 30 s, urgent: SMS after 90 s, routine: no SMS");
    expect(set.out).to.not.contain("7700900");
    expect(cli(["contact", "show", "@quinn:rounds.test"]).out).to.contain("urgent: SMS after 90 s");
    const badPhone = cli(["contact", "set", "@quinn:rounds.test", "--phone", "07700 900123"]);
    expect(badPhone.code).to.equal(1);
    expect(badPhone.err).to.contain("phone: must be an E.164 phone number");
    expect(cli(["contact", "set", "@quinn:rounds.test", "--urgent", "soon"]).err).to.contain("--urgent takes a number of seconds or 'off'");
    expect(cli(["contact", "set", "not-a-user", "--urgent", "5"]).err).to.contain("is not a Matrix user id");
    expect(cli(["contact", "show", "@quinn:rounds.test"]).out).to.contain("urgent: SMS after 90 s");
    expect(cli(["pages"]).out).to.contain("No open pages.");
  });

  it("sets a handoff unit from a file, lists it, reports quality, and refuses a bad unit naming the field", function () {
    // The example unit, without its roster and charge service (this test schedule has no such ids).
    const example = readFileSync(join(repoRoot, "appservice", "handoff", "example-unit.yaml"), "utf8");
    const file = join(dir, "unit.yaml");
    writeFileSync(file, example.replace(/^roster:.*$/m, "").replace(/^charge:.*$/m, `charge: { users: ["@charge4w:${hs.serverName}"] }`));
    const set = cli(["handoffs", "unit", "set", file]);
    expect(set.code, set.err).to.equal(0);
    expect(set.out).to.contain("Saved unit 4west (4 West, SBAR).");
    const units = cli(["handoffs", "units"]);
    expect(units.code, units.err).to.equal(0);
    expect(units.out).to.contain("id: 4west").and.contain("Lines and drains checked").and.contain("07:30");
    expect(cli(["handoffs", "metrics"]).out).to.match(/^No handoffs since /);

    const bad = join(dir, "bad-unit.yaml");
    writeFileSync(bad, "id: 5north\nname: 5 North\nshift_times: ['7am']\n");
    const refused = cli(["handoffs", "unit", "set", bad]);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain("shift_times.0: must be a time like 07:00");
    expect(cli(["handoffs", "units"]).out).to.not.contain("5north");
    expect(cli(["handoffs", "audit", "twelve"]).err).to.contain("needs a handoff number");
    expect(cli(["handoffs", "audit", "999"]).err).to.contain("There is no handoff #999.");
  });

  it("prints the usage for help, --help and -h, and the docs it points to exist", function () {
    for (const args of [["help"], ["--help"], ["-h"], []]) {
      const r = cli(args);
      expect(r.code, args.join(" ")).to.equal(0);
      expect(r.out).to.contain("Usage: npm run rounds -- <command>");
      expect(r.err).to.not.contain("unknown command");
    }
    for (const doc of cli(["help"]).out.match(/docs\/[\w./-]+\.md/g) ?? []) expect(existsSync(join(repoRoot, doc)), doc).to.equal(true);
  });

  it("refuses a schedule or unit file with an unknown key, naming the nearest known key, and saves nothing", function () {
    const { yaml } = testSchedule(hs.serverName);
    const file = join(dir, "typo.yaml");
    writeFileSync(file, `holidayz: ["2026-12-25"]\n${yaml.replace("id: icu", "id: burns")}`);
    for (const sub of ["check", "import"]) {
      const r = cli(["schedule", sub, file]);
      expect(r.code, sub).to.equal(1);
      expect(r.err).to.contain("unknown key 'holidayz' at top level; did you mean 'holidays'?");
    }
    expect(cli(["oncall", "burns"]).err).to.contain("unknown service 'burns'");
    const unit = join(dir, "typo-unit.yaml");
    writeFileSync(unit, "id: 6south\nname: 6 South\nshift_time: ['07:30']\ncharge: { user: ['@c:x.org'] }\n");
    const refused = cli(["handoffs", "unit", "set", unit]);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain("unknown key 'shift_time' at top level; did you mean 'shift_times'?").and.contain("unknown key 'user' at charge; did you mean 'users'?");
    expect(cli(["handoffs", "units"]).out).to.not.contain("6south");
  });

  it("warns, by user id, about each user of an imported schedule who has no account", function () {
    const { yaml, primary, backup, intensivist } = testSchedule(hs.serverName);
    const file = join(dir, "warn.yaml");
    writeFileSync(file, yaml);
    const imp = cli(["schedule", "import", file, "--force"]);
    expect(imp.code, imp.err).to.equal(0);
    for (const u of [primary.user, backup.user, intensivist.user]) expect(imp.out).to.contain(`warning: ${u} does not exist on the homeserver`);
    expect(cli(["schedule", "check", file]).out).to.contain(`warning: ${primary.user} does not exist on the homeserver`);
  });

  it("creates the accounts a schedule and a unit name, printing each password once, and skips them on a second run", async function () {
    const tag = `ex${process.pid}`;
    const users = { a: `@${tag}a:${hs.serverName}`, b: `@${tag}b:${hs.serverName}`, charge: `@${tag}c:${hs.serverName}` };
    const schedule = join(dir, "people.yaml");
    writeFileSync(
      schedule,
      `clinicians: [{ user: "${users.a}", name: "Dr Example A" }]
services:
  - id: ${tag}
    name: Example
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["${users.a}", "${users.b}", "@far:elsewhere.example"] }
`,
    );
    const unit = join(dir, "people-unit.yaml");
    writeFileSync(unit, `id: ${tag}\nname: Example\ncharge: { users: ["${users.charge}", "${users.a}"] }\n`);
    const first = cli(["user", "create-examples", schedule, unit]);
    expect(first.code, first.err).to.equal(0);
    expect(first.out).to.contain(`Created ${users.a} (Dr Example A)  password: `).and.contain(`Created ${users.charge}  password: `);
    expect(first.out).to.contain("Skipped @far:elsewhere.example").and.contain("Created 3 account(s).");
    const password = /Created .*?b:\S+ {2}password: (\S+)/.exec(first.out)?.[1];
    const login = await fetch(`${hs.url}/_matrix/client/v3/login`, {
      method: "POST",
      body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: `${tag}b` }, password }),
    });
    expect(login.status).to.equal(200);
    const second = cli(["user", "create-examples", schedule, unit]);
    expect(second.code, second.err).to.equal(0);
    expect(second.out).to.contain(`${users.a} exists already`).and.contain("No accounts to create.").and.not.contain("password:");
    expect(cli(["user", "create-examples", join(dir, "nope.yaml")]).err).to.contain("cannot read");
  });
});
