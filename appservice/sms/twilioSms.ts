import twilio from "twilio";
import type { Logger } from "../logging.js";
import { SmsSendError, type SmsSender, type SmsSendResult } from "./smsSender.js";

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** The Rounds sending number (E.164) or messaging service sender. */
  from: string;
  /** Where Twilio posts delivery status (the public URL of /_rounds/twilio/status). */
  statusCallbackUrl: string;
  /** Sends every Twilio API request here instead of https://*.twilio.com (tests, a relay). */
  apiBaseUrl?: string;
  log?: Logger;
}

type RequestOptions<T> = Parameters<typeof twilio.RequestClient.prototype.request<T>>[0];

/**
 * The twilio package hard-codes its hosts (api.twilio.com and the regional variants), so the
 * only way to aim it elsewhere is the HTTP client it calls: this one swaps scheme, host and
 * port of any Twilio URL for the configured base and keeps path and query.
 */
export class RewritingRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiBaseUrl: string) {
    super();
    this.base = new URL(apiBaseUrl);
  }

  override request<T>(opts: RequestOptions<T>) {
    return super.request<T>({ ...opts, uri: this.rewrite(opts.uri) });
  }

  rewrite(uri: string): string {
    const u = new URL(uri);
    const isTwilio = u.protocol === "https:" && (u.hostname === "twilio.com" || u.hostname.endsWith(".twilio.com"));
    if (!isTwilio) return uri;
    const prefix = this.base.pathname.replace(/\/+$/, "");
    return `${this.base.origin}${prefix}${u.pathname}${u.search}`;
  }
}

/** Sends SMS through Twilio's Messages API. Logs message SIDs and statuses only. */
export class TwilioSmsSender implements SmsSender {
  private readonly client: twilio.Twilio;

  constructor(private readonly opts: TwilioSmsOptions) {
    const httpClient = opts.apiBaseUrl ? new RewritingRequestClient(opts.apiBaseUrl) : undefined;
    this.client = twilio(opts.accountSid, opts.authToken, httpClient ? { httpClient } : {});
  }

  async send(to: string, body: string): Promise<SmsSendResult> {
    let msg;
    try {
      msg = await this.client.messages.create({ to, from: this.opts.from, body, statusCallback: this.opts.statusCallbackUrl });
    } catch (err) {
      const e = toSmsSendError(err);
      this.opts.log?.warn({ twilioCode: e.code, httpStatus: e.status, retryable: e.retryable }, "sms: Twilio did not accept a message");
      throw e;
    }
    this.opts.log?.info({ messageSid: msg.sid, status: msg.status }, "sms: message accepted by Twilio");
    return { sid: msg.sid, status: msg.status };
  }
}

/**
 * Plain-language reasons for the refusals a pager sees. Twilio's own messages quote the phone
 * number, so they are never copied into ours, nor kept as `cause` (pino's error serializer
 * appends the messages of causes to the logged message).
 */
const REASONS: Record<number, string> = {
  20003: "Twilio rejected the account SID or auth token",
  20429: "Twilio is rate-limiting this account",
  21211: "the recipient's phone number is not a valid phone number",
  21212: "the configured sending number is not a valid phone number",
  21408: "this Twilio account may not send SMS to the recipient's country",
  21606: "the configured sending number cannot send SMS",
  21610: "the recipient has opted out of SMS from this number (replied STOP)",
  21614: "the recipient's phone number cannot receive SMS",
};

export function toSmsSendError(err: unknown): SmsSendError {
  if (err instanceof twilio.RestException) {
    const status = err.status;
    // 429 is Twilio asking us to slow down: the same message can go through later.
    const retryable = status >= 500 || status === 429;
    const reason = (err.code !== undefined ? REASONS[err.code] : undefined) ?? (status >= 500 ? "Twilio had an internal error" : "Twilio refused the message");
    const code = err.code !== undefined ? `, Twilio error ${err.code}` : "";
    return new SmsSendError(`SMS not sent: ${reason} (HTTP ${status}${code})`, { code: err.code, status, retryable });
  }
  // No answer from Twilio: connection refused, DNS, timeout. Another attempt may reach it.
  const detail = err instanceof Error && "code" in err && typeof err.code === "string" ? ` (${err.code})` : "";
  return new SmsSendError(`SMS not sent: could not reach Twilio${detail}`, { retryable: true, cause: err });
}
