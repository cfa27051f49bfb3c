import type { Server } from "node:http";
import { once } from "node:events";
import { expect } from "chai";
import express from "express";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { INBOUND_PATH, STATUS_PATH, twilioWebhookRouter, type InboundSms, type SmsStatusUpdate } from "../../appservice/http/twilioWebhooks.js";
import { TwilioWebhookReceipts } from "../../appservice/http/twilioWebhookReceipts.js";
import { createLogger } from "../../appservice/logging.js";
import { twilioSignature } from "../harness/fakeTwilio.js";
import { freePort } from "../harness/ports.js";
import { migrateAll } from "../harness/migrateAll.js";

const TOKEN = "12345678901234567890123456789012";
const sid = (c: string) => "SM" + c.repeat(32);

describe("Twilio webhooks: a replayed webhook does nothing twice", function () {
  let db: Db;
  let server: Server;
  let base: string;
  const inbound: InboundSms[] = [];
  const statuses: SmsStatusUpdate[] = [];
  let failNext = false;

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const app = express().use(
      twilioWebhookRouter({
        authToken: TOKEN,
        publicBaseUrl: base,
        receipts: new TwilioWebhookReceipts(db),
        onInbound: async (sms) => {
          if (failNext) throw ((failNext = false), new Error("database down"));
          inbound.push(sms);
          return `Page ${sms.body} acknowledged.`;
        },
        onStatus: async (u) => void statuses.push(u),
        log: createLogger("silent"),
      }),
    );
    server = app.listen(port, "127.0.0.1");
    await once(server, "listening");
  });
  after(async function () {
    server.close();
    await db.destroy();
  });
  beforeEach(() => ((inbound.length = 0), (statuses.length = 0)));

  const post = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(TOKEN, `${base}${path}`, params) },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, text: await res.text() };
  };

  it("handles a signed inbound SMS once, however often Twilio sends it", async function () {
    const sms = { MessageSid: sid("a"), From: "+15550001111", Body: "42" };
    const first = await post(INBOUND_PATH, sms);
    expect(first.status).to.equal(200);
    expect(first.text).to.contain("<Message>Page 42 acknowledged.</Message>");
    for (let i = 0; i < 2; i++) {
      const replay = await post(INBOUND_PATH, sms);
      expect(replay.status).to.equal(200);
      expect(replay.text).to.equal('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    }
    expect(inbound.map((m) => m.messageSid)).to.deep.equal([sid("a")]);
  });

  it("handles concurrent deliveries of one MessageSid once", async function () {
    const sms = { MessageSid: sid("b"), From: "+15550001111", Body: "43" };
    const answers = await Promise.all([1, 2, 3].map(() => post(INBOUND_PATH, sms)));
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200]);
    expect(inbound.length).to.equal(1);
  });

  it("handles Twilio's retry of an inbound SMS whose handling failed", async function () {
    const sms = { MessageSid: sid("c"), From: "+15550001111", Body: "44" };
    failNext = true;
    expect((await post(INBOUND_PATH, sms)).status).to.equal(500);
    expect((await post(INBOUND_PATH, sms)).text).to.contain("Page 44 acknowledged.");
    expect(inbound.length).to.equal(1);
  });

  it("applies each status once, so a replayed earlier status cannot follow a later one", async function () {
    const s = sid("d");
    for (const status of ["sent", "delivered", "sent", "delivered"]) {
      expect((await post(STATUS_PATH, { MessageSid: s, MessageStatus: status })).status).to.equal(204);
    }
    expect(statuses.map((u) => u.status)).to.deep.equal(["sent", "delivered"]);
  });

  it("remembers across a restart: a new Rounds on the same database ignores a replay", async function () {
    const sms = { MessageSid: sid("e"), From: "+15550001111", Body: "45" };
    expect((await post(INBOUND_PATH, sms)).text).to.contain("Page 45 acknowledged.");
    // A fresh receipts store and router, as after a restart: nothing of the first is in memory.
    const port = await freePort();
    const restartedBase = `http://127.0.0.1:${port}`;
    const handled: InboundSms[] = [];
    const restarted = express()
      .use(
        twilioWebhookRouter({
          authToken: TOKEN,
          publicBaseUrl: base,
          receipts: new TwilioWebhookReceipts(db),
          onInbound: async (m) => (handled.push(m), "handled again"),
          onStatus: async () => undefined,
          log: createLogger("silent"),
        }),
      )
      .listen(port, "127.0.0.1");
    await once(restarted, "listening");
    try {
      // Signed for the public URL, as Twilio signs it; delivered to the restarted process.
      const res = await fetch(`${restartedBase}${INBOUND_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(TOKEN, `${base}${INBOUND_PATH}`, sms) },
        body: new URLSearchParams(sms).toString(),
      });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      expect(handled).to.deep.equal([]);
    } finally {
      restarted.close();
    }
  });
});
