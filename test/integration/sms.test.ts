import { EventEmitter, once } from "node:events";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { expect } from "chai";
import express from "express";
import { pino } from "pino";
import { INBOUND_PATH, STATUS_PATH, twilioWebhookRouter, type InboundSms, type SmsStatusUpdate } from "../../appservice/http/twilioWebhooks.js";
import { SmsSendError } from "../../appservice/sms/smsSender.js";
import { RewritingRequestClient, TwilioSmsSender } from "../../appservice/sms/twilioSms.js";
import { FakeTwilio, messageSid } from "../harness/fakeTwilio.js";
import { freePort } from "../harness/ports.js";

const ACCOUNT_SID = "AC" + "0123456789abcdef".repeat(2);
const AUTH_TOKEN = "fake-twilio-auth-token-000000001";
const FROM = "+15005550006";
const TO = "+15551230001";
const PAGE_TEXT = "URGENT page 42 from Rounds, reply 42 to acknowledge";

/** Every log line of the run, to check that no phone number or message text is ever logged. */
const logLines: string[] = [];
const log = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);

/** A local Rounds HTTP server with only the Twilio webhooks mounted, recording handler calls. */
class WebhookApp {
  readonly inbound: InboundSms[] = [];
  readonly statuses: SmsStatusUpdate[] = [];
  readonly events = new EventEmitter();
  reply = "";
  failHandlers = false;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(publicBaseUrl?: string): Promise<WebhookApp> {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const app = express();
    const server = app.listen(port, "127.0.0.1");
    await once(server, "listening");
    const wa = new WebhookApp(server, baseUrl);
    app.use(
      twilioWebhookRouter({
        authToken: AUTH_TOKEN,
        publicBaseUrl: publicBaseUrl ?? baseUrl,
        log,
        onInbound: async (sms) => {
          if (wa.failHandlers) throw new Error(`no clinician with number ${sms.from}`);
          wa.inbound.push(sms);
          return wa.reply;
        },
        onStatus: async (update) => {
          if (wa.failHandlers) throw new Error("database unavailable");
          wa.statuses.push(update);
          wa.events.emit("status", update);
        },
      }),
    );
    return wa;
  }

  /** Resolves with the status updates for `sid` once `count` of them have arrived. */
  statusesFor(sid: string, count: number): Promise<SmsStatusUpdate[]> {
    const mine = () => this.statuses.filter((s) => s.messageSid === sid);
    if (mine().length >= count) return Promise.resolve(mine());
    return new Promise((resolve) => {
      const check = () => {
        if (mine().length < count) return;
        this.events.off("status", check);
        resolve(mine());
      };
      this.events.on("status", check);
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe("SMS through Twilio", function () {
  this.timeout(20_000);
  let fake: FakeTwilio;
  let app: WebhookApp;
  let sender: TwilioSmsSender;

  before(async function () {
    fake = await FakeTwilio.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    app = await WebhookApp.start();
    sender = new TwilioSmsSender({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      statusCallbackUrl: `${app.baseUrl}${STATUS_PATH}`,
      apiBaseUrl: fake.url,
      log,
    });
  });

  after(async function () {
    await fake?.stop();
    await app?.stop();
  });

  afterEach(function () {
    app.reply = "";
    app.failHandlers = false;
  });

  describe("sending", function () {
    it("sends through the twilio package to the fake API, and delivery status comes back signed", async function () {
      const result = await sender.send(TO, PAGE_TEXT);
      expect(result.sid).to.match(/^SM[0-9a-f]{32}$/);
      expect(result.status).to.equal("queued");

      const msg = await fake.waitForMessage((m) => m.sid === result.sid, 5000);
      expect(msg).to.include({ to: TO, from: FROM, body: PAGE_TEXT, accountSid: ACCOUNT_SID });
      expect(msg.statusCallback).to.equal(`${app.baseUrl}${STATUS_PATH}`);

      const updates = await app.statusesFor(result.sid, 2);
      expect(updates).to.deep.equal([
        { messageSid: result.sid, status: "sent" },
        { messageSid: result.sid, status: "delivered" },
      ]);
    });

    it("reports an undelivered message with Twilio's error code", async function () {
      fake.failNext(30003);
      const { sid } = await sender.send(TO, PAGE_TEXT);
      const updates = await app.statusesFor(sid, 2);
      expect(updates).to.deep.equal([
        { messageSid: sid, status: "sent" },
        { messageSid: sid, status: "undelivered", errorCode: "30003" },
      ]);
    });

    it("refuses an invalid number with a non-retryable SmsSendError that does not quote the number", async function () {
      const before = fake.messages.length;
      const err = await sender.send("555-0100", PAGE_TEXT).then(
        () => expect.fail("send should have failed"),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(SmsSendError);
      const e = err as SmsSendError;
      expect(e).to.include({ code: 21211, status: 400, retryable: false });
      expect(e.message).to.match(/not a valid phone number/);
      expect(e.message).not.to.include("555-0100");
      expect(fake.messages.length).to.equal(before);
    });

    it("refuses wrong credentials as not retryable", async function () {
      const wrong = new TwilioSmsSender({
        accountSid: ACCOUNT_SID,
        authToken: "not-the-token-not-the-token-0000",
        from: FROM,
        statusCallbackUrl: `${app.baseUrl}${STATUS_PATH}`,
        apiBaseUrl: fake.url,
      });
      const err = await wrong.send(TO, PAGE_TEXT).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SmsSendError);
      expect(err).to.include({ code: 20003, status: 401, retryable: false });
    });

    it("reports an unreachable Twilio as retryable", async function () {
      const nowhere = new TwilioSmsSender({
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        from: FROM,
        statusCallbackUrl: `${app.baseUrl}${STATUS_PATH}`,
        apiBaseUrl: `http://127.0.0.1:${await freePort()}`,
      });
      const err = await nowhere.send(TO, PAGE_TEXT).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SmsSendError);
      expect(err).to.include({ retryable: true, code: undefined, status: undefined });
      expect((err as Error).message).to.match(/could not reach Twilio/);
    });

    it("rewrites every Twilio host to the configured base and leaves other URLs alone", function () {
      const client = new RewritingRequestClient("http://127.0.0.1:9999/relay/");
      expect(client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")).to.equal(
        "http://127.0.0.1:9999/relay/2010-04-01/Accounts/AC1/Messages.json?x=1",
      );
      expect(client.rewrite("https://messaging.sydney.au1.twilio.com/v1/Services")).to.equal("http://127.0.0.1:9999/relay/v1/Services");
      expect(client.rewrite("https://example.org/x")).to.equal("https://example.org/x");
      expect(client.rewrite("https://nottwilio.com/x")).to.equal("https://nottwilio.com/x");
    });
  });

  describe("webhooks", function () {
    it("hands a signed inbound SMS to the handler and replies in escaped TwiML", async function () {
      app.reply = 'Page 42 acknowledged <by you> & "logged"';
      const res = await fake.sendInbound({ from: TO, to: FROM, body: "42", webhookUrl: `${app.baseUrl}${INBOUND_PATH}` });
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^text\/xml/);
      expect(await res.text()).to.equal(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Page 42 acknowledged &lt;by you&gt; &amp; &quot;logged&quot;</Message></Response>',
      );
      const sms = app.inbound.at(-1);
      expect(sms).to.include({ from: TO, body: "42" });
      expect(sms?.messageSid).to.match(/^SM[0-9a-f]{32}$/);
    });

    it("answers an empty Response when the handler has nothing to say", async function () {
      const res = await fake.sendInbound({ from: TO, to: FROM, body: "hello", webhookUrl: `${app.baseUrl}${INBOUND_PATH}` });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    });

    it("rejects a tampered inbound SMS with 403 and never calls the handler", async function () {
      const before = app.inbound.length;
      const res = await fake.sendInbound({ from: TO, to: FROM, body: "42", webhookUrl: `${app.baseUrl}${INBOUND_PATH}`, tamper: true });
      expect(res.status).to.equal(403);
      expect((await res.json()).error).to.match(/X-Twilio-Signature does not match/);
      expect(app.inbound.length).to.equal(before);
    });

    it("rejects requests without a signature with 403", async function () {
      const before = { inbound: app.inbound.length, statuses: app.statuses.length };
      for (const path of [INBOUND_PATH, STATUS_PATH]) {
        const res = await fetch(`${app.baseUrl}${path}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ From: TO, Body: "42", MessageSid: messageSid(), MessageStatus: "delivered" }),
        });
        expect(res.status).to.equal(403);
        expect((await res.json()).error).to.match(/X-Twilio-Signature header is missing/);
      }
      expect({ inbound: app.inbound.length, statuses: app.statuses.length }).to.deep.equal(before);
    });

    it("rejects a signed but malformed form with 400 and calls nothing", async function () {
      const before = { inbound: app.inbound.length, statuses: app.statuses.length };
      const noFrom = await fake.postSigned(`${app.baseUrl}${INBOUND_PATH}`, { Body: "42", MessageSid: messageSid() });
      expect(noFrom.status).to.equal(400);
      expect((await noFrom.json()).error).to.match(/malformed Twilio inbound SMS: From/);

      const badSid = await fake.postSigned(`${app.baseUrl}${STATUS_PATH}`, { MessageSid: "not-a-sid", MessageStatus: "sent" });
      expect(badSid.status).to.equal(400);
      expect((await badSid.json()).error).to.match(/MessageSid is not a Twilio message SID/);

      const badCode = await fake.postSigned(`${app.baseUrl}${STATUS_PATH}`, { MessageSid: messageSid(), MessageStatus: "failed", ErrorCode: "x1" });
      expect(badCode.status).to.equal(400);
      expect({ inbound: app.inbound.length, statuses: app.statuses.length }).to.deep.equal(before);
    });

    it("answers 500 when a handler fails, so that Twilio retries", async function () {
      app.failHandlers = true;
      const inbound = await fake.sendInbound({ from: TO, to: FROM, body: "42", webhookUrl: `${app.baseUrl}${INBOUND_PATH}` });
      expect(inbound.status).to.equal(500);
      const status = await fake.postSigned(`${app.baseUrl}${STATUS_PATH}`, { MessageSid: messageSid(), MessageStatus: "sent" });
      expect(status.status).to.equal(500);
    });

    it("checks the signature against the configured public URL, not the Host the request arrived on", async function () {
      const publicBase = "https://rounds.example.org";
      const proxied = await WebhookApp.start(publicBase);
      try {
        const params = { From: TO, Body: "42", MessageSid: messageSid() };
        const ok = await fake.postSigned(`${proxied.baseUrl}${INBOUND_PATH}`, params, { signedUrl: `${publicBase}${INBOUND_PATH}` });
        expect(ok.status).to.equal(200);
        expect(proxied.inbound).to.have.length(1);
        const local = await fake.postSigned(`${proxied.baseUrl}${INBOUND_PATH}`, params);
        expect(local.status).to.equal(403);
        expect(proxied.inbound).to.have.length(1);
      } finally {
        await proxied.stop();
      }
    });
  });

  // Last, so that it sees the logs of every test above (mocha runs nested suites after plain tests).
  describe("logs", function () {
    it("never contain a phone number or message text", function () {
      const all = logLines.join("");
      expect(all).to.include("messageSid"); // the logs were captured at all
      for (const secret of [TO, FROM, TO.slice(1), PAGE_TEXT, "555-0100", "acknowledged"]) expect(all).not.to.include(secret);
    });
  });
});
