import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { AlertConfig } from "../../appservice/alert/alertConfig.js";
import type { ConsultConfig } from "../../appservice/consult/consultConfig.js";
import type { HandoffConfig } from "../../appservice/handoff/handoffConfig.js";
import type { PagingConfig } from "../../appservice/paging/pagingConfig.js";
import { ConfigError, loadConfig as loadWith, type RoundsConfig } from "../../appservice/shared/config.js";
import { configSections, WORKFLOWS } from "../../appservice/workflows.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { tempDir } from "../harness/tempDir.js";

/** The configuration as Rounds reads it, with every registered workflow's section. */
const loadConfig = (env: Record<string, string>) => {
  const c = loadWith(env, configSections(WORKFLOWS));
  return Object.assign(c, {
    paging: c.workflows.paging as PagingConfig,
    consult: c.workflows.consult as ConsultConfig,
    handoff: c.workflows.handoff as HandoffConfig,
    twilio: (c.workflows.paging as PagingConfig).twilio,
  }) as RoundsConfig & { paging: PagingConfig; consult: ConsultConfig; handoff: HandoffConfig; twilio: PagingConfig["twilio"] };
};

const dir = tempDir("config");
const registration = join(dir, "registration.yaml");
writeFileSync(registration, "id: rounds\nas_token: aaaaaaaaaaaaaaaaaaaa\nhs_token: bbbbbbbbbbbbbbbbbbbb\nsender_localpart: rounds_bot\nrate_limited: false\n");
const valid = {
  ROUNDS_HOMESERVER_URL: "http://127.0.0.1:8008/",
  ROUNDS_SERVER_NAME: "rounds.local",
  ROUNDS_REGISTRATION_FILE: registration,
  ROUNDS_CRYPTO_STORE_PASSPHRASE: "a-long-enough-passphrase",
};

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", function () {
  it("accepts a valid environment and fills in defaults", function () {
    const c = loadConfig(valid);
    expect(c.homeserverUrl).to.equal("http://127.0.0.1:8008");
    expect(c.appservicePort).to.equal(9100);
    expect(c.bots).to.deep.equal(["oncall", "consult", "handoff", "alerts"]);
    expect(c.registration.hsToken).to.equal("bbbbbbbbbbbbbbbbbbbb");
  });

  it("has paging defaults (escalate 60 s / 5 min / 30 min) and SMS off without Twilio", function () {
    const c = loadConfig(valid);
    expect(c.paging.delaysSeconds).to.deep.equal({ emergent: 60, urgent: 300, routine: 1800 });
    expect(c.paging.smsAfter).to.deep.equal({ emergent: 30, urgent: 120, routine: 600 });
    expect(c.twilio).to.equal(null);
    expect(c.publicUrl).to.equal("http://127.0.0.1:9100");
  });

  it("has consult and widget defaults, and names a bad consult or widget setting", function () {
    const c = loadConfig(valid);
    expect(c.consult.acceptSeconds).to.deep.equal({ emergent: 300, urgent: 900, routine: 7200 });
    expect(c.consult.expectedResponseMinutes).to.deep.equal({ emergent: 30, urgent: 240, routine: 2880 });
    expect(c.consult.maxAttachmentBytes).to.equal(25 * 1024 * 1024);
    expect(c.widgets).to.deep.equal({ dir: "widgets/dist", rateLimitPerMinute: 120, sessionSeconds: 3600 });
    expect(errorFor({ ...valid, ROUNDS_CONSULT_ACCEPT_URGENT: "0" }).key).to.equal("ROUNDS_CONSULT_ACCEPT_URGENT");
    expect(errorFor({ ...valid, ROUNDS_CONSULT_MAX_ATTACHMENT_MB: "2048" }).message).to.contain("at most 1024");
    expect(errorFor({ ...valid, ROUNDS_WIDGET_SESSION_SECONDS: "soon" }).key).to.equal("ROUNDS_WIDGET_SESSION_SECONDS");
    expect(errorFor({ ...valid, ROUNDS_BOTS: "oncall,consults" }).message).to.contain("known: oncall, consult");
    expect(c.partnerServers).to.deep.equal([]);
    expect(loadConfig({ ...valid, ROUNDS_PARTNER_SERVERS: "clinic.example.org,localhost:8448" }).partnerServers).to.deep.equal(["clinic.example.org", "localhost:8448"]);
    expect(errorFor({ ...valid, ROUNDS_PARTNER_SERVERS: "clinic.example.org; gp.example" }).key).to.equal("ROUNDS_PARTNER_SERVERS");
  });

  it("has handoff defaults (15 min to sign off, 5 more before the charge role), and names a bad handoff setting", function () {
    const c = loadConfig(valid);
    expect(c.handoff).to.deep.equal({ deadlineMinutes: 15, escalateAfterMinutes: 5, shiftCron: "* * * * *" });
    expect(errorFor({ ...valid, ROUNDS_HANDOFF_DEADLINE_MINUTES: "0" }).key).to.equal("ROUNDS_HANDOFF_DEADLINE_MINUTES");
    expect(errorFor({ ...valid, ROUNDS_HANDOFF_ESCALATE_AFTER_MINUTES: "2000" }).message).to.contain("at most 1440");
    expect(errorFor({ ...valid, ROUNDS_HANDOFF_SHIFT_CRON: "every minute" }).key).to.equal("ROUNDS_HANDOFF_SHIFT_CRON");
    expect(loadConfig({ ...valid, ROUNDS_BOTS: "handoff" }).bots).to.deep.equal(["handoff"]);
  });

  it("takes Twilio settings as a set, and names the one missing from a partial set", function () {
    const twilio = { TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`, TWILIO_AUTH_TOKEN: "0123456789abcdef0123", TWILIO_FROM_NUMBER: "+15005550006" };
    expect(errorFor({ ...valid, ...twilio }).key).to.equal("ROUNDS_PUBLIC_URL");
    expect(loadConfig({ ...valid, ...twilio, ROUNDS_PUBLIC_URL: "https://rounds.example.org/" }).publicUrl).to.equal("https://rounds.example.org");
    expect(loadConfig({ ...valid, ...twilio, ROUNDS_PUBLIC_URL: "https://rounds.example.org" }).twilio).to.deep.equal({ accountSid: twilio.TWILIO_ACCOUNT_SID, authToken: twilio.TWILIO_AUTH_TOKEN, from: "+15005550006", apiUrl: undefined });
    const missing = errorFor({ ...valid, TWILIO_ACCOUNT_SID: twilio.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: twilio.TWILIO_AUTH_TOKEN });
    expect(missing.key).to.equal("TWILIO_FROM_NUMBER");
    expect(missing.message).to.contain("or unset all to turn SMS off");
    expect(errorFor({ ...valid, ...twilio, TWILIO_FROM_NUMBER: "07700 900123" }).key).to.equal("TWILIO_FROM_NUMBER");
    expect(errorFor({ ...valid, ...twilio, TWILIO_ACCOUNT_SID: "SK123" }).key).to.equal("TWILIO_ACCOUNT_SID");
  });

  it("treats an empty value as unset, as docker-compose passes `${VAR:-}`", function () {
    const c = loadConfig({ ...valid, TWILIO_ACCOUNT_SID: "", TWILIO_AUTH_TOKEN: "", TWILIO_FROM_NUMBER: "", ROUNDS_PUBLIC_URL: "" });
    expect(c.twilio).to.equal(null);
    expect(errorFor({ ...valid, ROUNDS_SERVER_NAME: "" }).message).to.contain("ROUNDS_SERVER_NAME is required");
  });

  it("rejects a bad cron expression, SMS delay or escalation delay by name", function () {
    expect(errorFor({ ...valid, ROUNDS_SHIFT_CHECK_CRON: "every minute" }).key).to.equal("ROUNDS_SHIFT_CHECK_CRON");
    expect(errorFor({ ...valid, ROUNDS_SMS_AFTER_URGENT: "soon" }).key).to.equal("ROUNDS_SMS_AFTER_URGENT");
    expect(errorFor({ ...valid, ROUNDS_PAGE_DELAY_EMERGENT: "-5" }).key).to.equal("ROUNDS_PAGE_DELAY_EMERGENT");
    expect(loadConfig({ ...valid, ROUNDS_SMS_AFTER_ROUTINE: "off" }).paging.smsAfter.routine).to.equal(null);
  });

  it("names the bad key and what it expects", function () {
    const e = errorFor({ ...valid, ROUNDS_APPSERVICE_PORT: "ninety" });
    expect(e.key).to.equal("ROUNDS_APPSERVICE_PORT");
    expect(e.message).to.contain("ROUNDS_APPSERVICE_PORT").and.contain("'ninety'");
    expect(errorFor({ ...valid, ROUNDS_HOMESERVER_URL: "not a url" }).key).to.equal("ROUNDS_HOMESERVER_URL");
    expect(errorFor({ ...valid, DATABASE_URL: "mysql://x" }).message).to.contain("postgres://");
    expect(errorFor({ ...valid, ROUNDS_BOTS: "oncall,pharmacy" }).message).to.contain("unknown bot 'pharmacy'");
  });

  it("takes ports in plain decimal digits only, from 1 to 65535", function () {
    for (const bad of ["0x4b64", "1e4", " 80", "80 ", "080", "0", "9100.0", "+80", "-1", "65536"]) {
      const e = errorFor({ ...valid, ROUNDS_APPSERVICE_PORT: bad });
      expect(e.key, bad).to.equal("ROUNDS_APPSERVICE_PORT");
      expect(e.message).to.contain(`(got '${bad}')`);
    }
    expect(errorFor({ ...valid, ROUNDS_METRICS_PORT: "1e4" }).message).to.contain("plain decimal digits");
    expect(loadConfig({ ...valid, ROUNDS_APPSERVICE_PORT: "65535", ROUNDS_METRICS_PORT: "1" })).to.include({ appservicePort: 65535, metricsPort: 1 });
  });

  it("takes only http and https URLs for the homeserver and the public URL", function () {
    for (const bad of ["ftp://127.0.0.1:8008", "file:///etc/passwd", "javascript:alert(1)", "ws://127.0.0.1:8008"]) {
      const e = errorFor({ ...valid, ROUNDS_HOMESERVER_URL: bad });
      expect(e.key, bad).to.equal("ROUNDS_HOMESERVER_URL");
      expect(e.message).to.contain("http:// or https://");
    }
    expect(errorFor({ ...valid, ROUNDS_PUBLIC_URL: "ftp://rounds.example.org" }).key).to.equal("ROUNDS_PUBLIC_URL");
    expect(loadConfig({ ...valid, ROUNDS_HOMESERVER_URL: "https://matrix.example.org" }).homeserverUrl).to.equal("https://matrix.example.org");
  });

  it("refuses a passphrase that is blank or mostly spaces, and keeps the 16-character minimum", function () {
    for (const bad of [" ".repeat(16), "\t".repeat(20), `  ${"x".repeat(10)}      `, "short"]) {
      expect(errorFor({ ...valid, ROUNDS_CRYPTO_STORE_PASSPHRASE: bad }).key, JSON.stringify(bad)).to.equal("ROUNDS_CRYPTO_STORE_PASSPHRASE");
    }
    expect(loadConfig({ ...valid, ROUNDS_CRYPTO_STORE_PASSPHRASE: "correct horse battery staple" }).cryptoStorePassphrase).to.equal("correct horse battery staple");
  });

  it("refuses a bot listed twice in ROUNDS_BOTS, naming it", function () {
    const e = errorFor({ ...valid, ROUNDS_BOTS: "oncall,oncall" });
    expect(e.key).to.equal("ROUNDS_BOTS");
    expect(e.message).to.contain("names the bot 'oncall' twice");
    expect(errorFor({ ...valid, ROUNDS_BOTS: "oncall,consult,handoff,consult" }).message).to.contain("'consult' twice");
  });

  it("names ROUNDS_DATA_DIR when it is a file or lies under one", function () {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    for (const bad of [file, join(file, "data"), join(file, "deeper", "data")]) {
      const e = errorFor({ ...valid, ROUNDS_DATA_DIR: bad });
      expect(e.key, bad).to.equal("ROUNDS_DATA_DIR");
      expect(e.message).to.contain(bad === file ? "is a file" : `lies under '${file}', which is a file`);
    }
    mkdirSync(join(dir, "real"), { recursive: true });
    expect(loadConfig({ ...valid, ROUNDS_DATA_DIR: join(dir, "real", "not", "yet") }).dataDir).to.equal(join(dir, "real", "not", "yet"));
  });

  it("stops the appservice with ROUNDS_DATA_DIR named, not a stack trace, when the data dir cannot be created", function () {
    const file = join(dir, "in-the-way");
    writeFileSync(file, "x");
    const r = spawnSync(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
      env: { PATH: process.env.PATH, ...valid, ROUNDS_DATA_DIR: join(file, "data"), LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("Invalid configuration: ROUNDS_DATA_DIR").and.not.contain("    at ");
  });

  it("names a missing required key", function () {
    const { ROUNDS_SERVER_NAME: _omit, ...rest } = valid;
    const e = errorFor(rest);
    expect(e.key).to.equal("ROUNDS_SERVER_NAME");
    expect(e.message).to.contain("is required");
  });

  it("explains a missing or broken registration file", function () {
    expect(errorFor({ ...valid, ROUNDS_REGISTRATION_FILE: join(dir, "nope.yaml") }).message).to.contain("run 'npm start' once");
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "id: rounds\n");
    expect(errorFor({ ...valid, ROUNDS_REGISTRATION_FILE: broken }).message).to.contain("as_token");
  });

  it("takes the bots' in-memory timeline bound, and refuses one too small to keep a conversation", function () {
    expect(loadConfig({ ...valid, ROUNDS_BOT_TIMELINE_EVENTS: "40" }).botTimelineEvents).to.equal(40);
    expect(loadConfig(valid).botTimelineEvents).to.equal(100);
    const e = errorFor({ ...valid, ROUNDS_BOT_TIMELINE_EVENTS: "5" });
    expect(e.key).to.equal("ROUNDS_BOT_TIMELINE_EVENTS");
    expect(e.message).to.contain("at least 10");
  });

  it("refuses a registration that lets Synapse rate-limit the bots", function () {
    for (const line of ["", "rate_limited: true\n"]) {
      const limited = join(dir, "limited.yaml");
      writeFileSync(limited, `id: rounds\nas_token: aaaaaaaaaaaaaaaaaaaa\nhs_token: bbbbbbbbbbbbbbbbbbbb\nsender_localpart: rounds_bot\n${line}`);
      const e = errorFor({ ...valid, ROUNDS_REGISTRATION_FILE: limited });
      expect(e.key).to.equal("ROUNDS_REGISTRATION_FILE");
      expect(e.message).to.contain("rate_limited").and.contain("must be false");
    }
  });

  it("names the port setting when the port is already taken", async function () {
    const { createServer } = await import("node:net");
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const port = String((busy.address() as { port: number }).port);
    const r = spawnSync(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
      env: { PATH: process.env.PATH, ...valid, ROUNDS_DATA_DIR: dir, ROUNDS_METRICS_PORT: port, LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 60_000,
    });
    busy.close();
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain(`Invalid configuration: ROUNDS_METRICS_PORT port ${port} on 127.0.0.1 is already in use`);
  });

  it("stops the appservice at start-up with a message naming the bad key", function () {
    const r = spawnSync(process.execPath, ["--no-deprecation", join(repoRoot, "scripts", "appservice.mjs")], {
      env: { PATH: process.env.PATH, ...valid, ROUNDS_METRICS_PORT: "70000" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("Invalid configuration: ROUNDS_METRICS_PORT must be between 1 and 65535 (got '70000')");
  });

  it("reads the alert sources file at start-up, and names the key and every problem of a bad one", function () {
    const good = join(dir, "sources.yaml");
    writeFileSync(good, 'sources:\n  - { id: lab, kind: mllp, allow: ["10.0.0.0/8"] }\n');
    const alert = loadConfig({ ...valid, ROUNDS_ALERT_SOURCES_FILE: good }).workflows.alert as AlertConfig;
    expect(alert.sources.map((x) => x.id)).to.deep.equal(["lab"]);
    expect(alert.mllp).to.deep.equal({ host: "127.0.0.1", port: 2575, tls: null });
    expect((loadConfig(valid).workflows.alert as AlertConfig).sources).to.deep.equal([]);

    const bad = join(dir, "bad-sources.yaml");
    writeFileSync(bad, "sources:\n  - { id: lab, kind: mllp, alow: [10.0.0.1] }\n");
    const e = errorFor({ ...valid, ROUNDS_ALERT_SOURCES_FILE: bad });
    expect(e.key).to.equal("ROUNDS_ALERT_SOURCES_FILE");
    expect(e.message).to.contain("unknown key 'alow' at sources.0; did you mean 'allow'?");
    expect(errorFor({ ...valid, ROUNDS_ALERT_SOURCES_FILE: join(dir, "missing.yaml") }).message).to.contain("names a file that cannot be read (ENOENT");
    expect(errorFor({ ...valid, ROUNDS_ALERT_MLLP_TLS_CERT_FILE: good }).key).to.equal("ROUNDS_ALERT_MLLP_TLS_KEY_FILE");
    expect(errorFor({ ...valid, ROUNDS_ALERT_MLLP_PORT: "0x9ff" }).key).to.equal("ROUNDS_ALERT_MLLP_PORT");
    expect(errorFor({ ...valid, ROUNDS_ALERT_SMTP_URL: "smtp://mail.hospital.example:587" }).key).to.equal("ROUNDS_ALERT_EMAIL_FROM");
    expect(errorFor({ ...valid, ROUNDS_ALERT_SMTP_URL: "http://mail.hospital.example" }).message).to.contain("must be an smtp:// or smtps:// URL");
    const mailing = loadConfig({ ...valid, ROUNDS_ALERT_SMTP_URL: "smtp://mail.hospital.example:587", ROUNDS_ALERT_EMAIL_FROM: "rounds@hospital.example" }).workflows.alert as AlertConfig;
    expect(mailing.email).to.deep.equal({ smtpUrl: "smtp://mail.hospital.example:587", from: "rounds@hospital.example" });
  });
});
