import { createHmac, randomBytes } from "node:crypto";
import { EventEmitter, once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express, { type Request, type Response } from "express";

/**
 * A local stand-in for Twilio's REST Messages API and its webhooks: the one fake of the test
 * suite, because Twilio is a paid cloud service. It answers like Twilio (JSON shapes, error
 * codes, basic auth) and signs its callbacks with Twilio's algorithm, implemented here from
 * Twilio's documentation rather than taken from the twilio package, so tests check our
 * verifier against an independent signer.
 */

export interface FakeMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  statusCallback: string | undefined;
  status: string;
  errorCode: string | undefined;
  dateCreated: Date;
}

export interface StatusCallbackAttempt {
  messageSid: string;
  status: string;
  /** HTTP status our webhook answered, or undefined when it could not be reached. */
  httpStatus: number | undefined;
}

interface PlannedFailure {
  errorCode: string;
  status: "failed" | "undelivered";
}

const API_VERSION = "2010-04-01";
const E164 = /^\+[1-9]\d{1,14}$/;

/** base64(HMAC-SHA1(authToken, url + each key and value, keys sorted)): Twilio's request signature. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf-8")).digest("base64");
}

export function messageSid(): string {
  return "SM" + randomBytes(16).toString("hex");
}

export class FakeTwilio {
  readonly messages: FakeMessage[] = [];
  readonly statusCallbacks: StatusCallbackAttempt[] = [];
  private readonly events = new EventEmitter();
  private readonly pending = new Set<Promise<void>>();
  private readonly failures: PlannedFailure[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly accountSid: string,
    private readonly authToken: string,
  ) {}

  static async start(opts: { accountSid: string; authToken: string }): Promise<FakeTwilio> {
    const app = express();
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const fake = new FakeTwilio(server, `http://127.0.0.1:${port}`, opts.accountSid, opts.authToken);
    app.post(`/${API_VERSION}/Accounts/:sid/Messages.json`, express.urlencoded({ extended: false }), (req, res) =>
      fake.createMessage(req, res),
    );
    app.use((_req, res) => twilioError(res, 404, 20404, "The requested resource was not found"));
    return fake;
  }

  /** The next message sent fails delivery: `undelivered` after `sent`, or `failed` at once. */
  failNext(errorCode: number | string, status: "failed" | "undelivered" = "undelivered"): void {
    this.failures.push({ errorCode: String(errorCode), status });
  }

  /** Resolves with the first recorded message matching `predicate`, now or when it arrives. */
  waitForMessage(predicate: (m: FakeMessage) => boolean, timeoutMs = 10_000): Promise<FakeMessage> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onMessage = (m: FakeMessage) => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        this.events.off("message", onMessage);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.events.off("message", onMessage);
        reject(new Error(`fake Twilio: no matching message within ${timeoutMs} ms (${this.messages.length} recorded)`));
      }, timeoutMs);
      this.events.on("message", onMessage);
    });
  }

  /** Posts an inbound SMS webhook as Twilio would; `tamper` changes the body after signing. */
  sendInbound(opts: { from: string; to: string; body: string; webhookUrl: string; tamper?: boolean }): Promise<globalThis.Response> {
    const sid = messageSid();
    const params: Record<string, string> = {
      ToCountry: "US",
      ToState: "",
      SmsMessageSid: sid,
      NumMedia: "0",
      ToCity: "",
      FromZip: "",
      SmsSid: sid,
      FromState: "",
      SmsStatus: "received",
      FromCity: "",
      Body: opts.body,
      FromCountry: "US",
      To: opts.to,
      ToZip: "",
      NumSegments: "1",
      MessageSid: sid,
      AccountSid: this.accountSid,
      From: opts.from,
      ApiVersion: API_VERSION,
    };
    const signature = twilioSignature(this.authToken, opts.webhookUrl, params);
    if (opts.tamper) params.Body = `${opts.body} (altered in transit)`;
    return postForm(opts.webhookUrl, params, signature);
  }

  /**
   * Posts any form signed with this account's token, for malformed-request tests. `signedUrl`
   * is the URL the signature covers when it differs from where the request goes (a proxy).
   */
  postSigned(url: string, params: Record<string, string>, opts: { signedUrl?: string } = {}): Promise<globalThis.Response> {
    return postForm(url, params, twilioSignature(this.authToken, opts.signedUrl ?? url, params));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createMessage(req: Request, res: Response): void {
    if (!this.authorized(req)) return twilioError(res, 401, 20003, "Authenticate");
    const p = (req.body ?? {}) as Record<string, unknown>;
    const to = str(p.To);
    const from = str(p.From);
    const body = str(p.Body);
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
    if (!E164.test(from)) {
      return twilioError(res, 400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    }
    if (!body) return twilioError(res, 400, 21602, "Message body is required.");

    const msg: FakeMessage = {
      sid: messageSid(),
      accountSid: this.accountSid,
      to,
      from,
      body,
      statusCallback: str(p.StatusCallback) || undefined,
      status: "queued",
      errorCode: undefined,
      dateCreated: new Date(),
    };
    this.messages.push(msg);
    const failure = this.failures.shift();
    // Callbacks go out once our answer has left, as Twilio's do.
    res.once("finish", () => this.track(this.deliver(msg, failure)));
    res.status(201).json(this.messageJson(msg));
    this.events.emit("message", msg);
  }

  private authorized(req: Request): boolean {
    const expected = "Basic " + Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64");
    return req.params.sid === this.accountSid && req.header("authorization") === expected;
  }

  private async deliver(msg: FakeMessage, failure: PlannedFailure | undefined): Promise<void> {
    const steps: Array<{ status: string; errorCode?: string }> =
      failure === undefined
        ? [{ status: "sent" }, { status: "delivered" }]
        : failure.status === "failed"
          ? [{ status: "failed", errorCode: failure.errorCode }]
          : [{ status: "sent" }, { status: "undelivered", errorCode: failure.errorCode }];
    for (const step of steps) {
      msg.status = step.status;
      msg.errorCode = step.errorCode;
      if (msg.statusCallback) await this.postStatus(msg, msg.statusCallback);
    }
  }

  private async postStatus(msg: FakeMessage, url: string): Promise<void> {
    const params: Record<string, string> = {
      AccountSid: msg.accountSid,
      ApiVersion: API_VERSION,
      From: msg.from,
      To: msg.to,
      MessageSid: msg.sid,
      SmsSid: msg.sid,
      SmsStatus: msg.status,
      MessageStatus: msg.status,
    };
    if (msg.errorCode) params.ErrorCode = msg.errorCode;
    let httpStatus: number | undefined;
    try {
      const res = await postForm(url, params, twilioSignature(this.authToken, url, params));
      await res.arrayBuffer();
      httpStatus = res.status;
    } catch {
      httpStatus = undefined; // recorded below: Twilio gives up on unreachable callbacks too
    }
    const attempt = { messageSid: msg.sid, status: msg.status, httpStatus };
    this.statusCallbacks.push(attempt);
    this.events.emit("statusCallback", attempt);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private messageJson(m: FakeMessage): Record<string, unknown> {
    const date = m.dateCreated.toUTCString().replace("GMT", "+0000");
    const uri = `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}.json`;
    return {
      account_sid: m.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: date,
      date_sent: null,
      date_updated: date,
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: null,
      num_media: "0",
      num_segments: "1",
      price: null,
      price_unit: "USD",
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: uri.replace(".json", "/Media.json") },
      to: m.to,
      uri,
    };
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function twilioError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function postForm(url: string, params: Record<string, string>, signature: string): Promise<globalThis.Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  });
}
