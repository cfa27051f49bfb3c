import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { Logger } from "../logging.js";
import { verifyTwilioSignature, webhookUrl } from "../sms/twilioSignature.js";
import { formBody } from "./bodyParsing.js";
import { clientErrorHandler, ErrCode, sendError } from "./errors.js";
import type { TwilioWebhookReceipts } from "./twilioWebhookReceipts.js";

export interface InboundSms {
  from: string;
  body: string;
  messageSid: string;
}

export interface SmsStatusUpdate {
  messageSid: string;
  status: string;
  errorCode?: string;
}

export interface TwilioWebhookDeps {
  authToken: string;
  /** The public base URL configured in Twilio's console; the signature covers it. */
  publicBaseUrl: string;
  /** Returns the reply text for TwiML; "" sends no reply. */
  onInbound(sms: InboundSms): Promise<string>;
  onStatus(update: SmsStatusUpdate): Promise<void>;
  /** Which webhooks were already taken: a replay (same MessageSid, or same status) does nothing. */
  receipts?: TwilioWebhookReceipts;
  log: Logger;
}

export const INBOUND_PATH = "/_rounds/twilio/inbound";
export const STATUS_PATH = "/_rounds/twilio/status";

// Unknown fields (AccountSid, NumMedia, FromCity, ...) are tolerated and ignored.
const messageSid = z.string().regex(/^[A-Z]{2}[0-9a-f]{32}$/i, "is not a Twilio message SID");
const inboundSchema = z.object({ From: z.string().min(1), Body: z.string(), MessageSid: messageSid });
const statusSchema = z.object({
  MessageSid: messageSid,
  MessageStatus: z.string().regex(/^[a-z_]+$/, "is not a message status"),
  ErrorCode: z.string().regex(/^\d*$/, "is not a number").optional(),
});

/**
 * Twilio's webhooks: inbound SMS (replies that acknowledge pages) and delivery status. Nothing
 * reaches a handler unless X-Twilio-Signature matches and the form is well-formed. Logs carry
 * message SIDs and statuses, never phone numbers or message text.
 */
export function twilioWebhookRouter(deps: TwilioWebhookDeps): Router {
  const router = express.Router();
  const { receipts } = deps;
  if (!receipts) deps.log.warn("twilio webhook: no receipt store given, so a replayed webhook is handled again; pass receipts to twilioWebhookRouter");
  // The signature covers the form, so the body is read before it can be checked.
  const form = formBody("64kb");

  /** Answers 403 and returns false when the request is not signed by Twilio with our token. */
  function signed(req: Request, res: Response): boolean {
    const header = req.header("x-twilio-signature");
    const url = webhookUrl(deps.publicBaseUrl, req.originalUrl);
    if (verifyTwilioSignature(deps.authToken, header, url, formParams(req))) return true;
    const why = header
      ? "X-Twilio-Signature does not match this request; check that the Twilio auth token and the public base URL configured in Rounds match Twilio's"
      : "X-Twilio-Signature header is missing; only Twilio may call this endpoint";
    deps.log.warn({ path: req.path, signature: header ? "mismatch" : "missing" }, "twilio webhook: rejected unsigned request");
    sendError(res, ErrCode.Forbidden, why);
    return false;
  }

  router.post(INBOUND_PATH, form, async (req, res) => {
    if (!signed(req, res)) return;
    const parsed = inboundSchema.safeParse(formParams(req));
    if (!parsed.success) return badForm(res, "inbound SMS", parsed.error);
    const sms = { from: parsed.data.From, body: parsed.data.Body, messageSid: parsed.data.MessageSid };
    if (receipts && !(await receipts.claimInbound(sms.messageSid))) {
      deps.log.info({ messageSid: sms.messageSid }, "twilio webhook: inbound SMS replayed; already handled, nothing done");
      return void res.status(200).type("text/xml").send(twiml(""));
    }
    let reply: string;
    try {
      reply = await deps.onInbound(sms);
    } catch (err) {
      await receipts?.releaseInbound(sms.messageSid);
      return failed(res, deps.log, "inbound", sms.messageSid, err);
    }
    await receipts?.inboundHandled(sms.messageSid);
    deps.log.info({ messageSid: sms.messageSid, replied: reply !== "" }, "twilio webhook: inbound SMS handled");
    res.status(200).type("text/xml").send(twiml(reply));
  });

  router.post(STATUS_PATH, form, async (req, res) => {
    if (!signed(req, res)) return;
    const parsed = statusSchema.safeParse(formParams(req));
    if (!parsed.success) return badForm(res, "status callback", parsed.error);
    const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
    const update: SmsStatusUpdate = { messageSid: MessageSid, status: MessageStatus };
    if (ErrorCode) update.errorCode = ErrorCode;
    if (receipts && !(await receipts.claimStatus(MessageSid, MessageStatus))) {
      deps.log.info({ messageSid: MessageSid, status: MessageStatus }, "twilio webhook: status replayed; nothing done");
      return void res.status(204).end();
    }
    try {
      await deps.onStatus(update);
    } catch (err) {
      await receipts?.releaseStatus(MessageSid, MessageStatus);
      return failed(res, deps.log, "status", MessageSid, err);
    }
    deps.log.info({ messageSid: MessageSid, status: MessageStatus, errorCode: update.errorCode }, "twilio webhook: status");
    res.status(204).end();
  });

  // Oversized or badly encoded forms are the caller's fault.
  router.use(clientErrorHandler());
  return router;
}

/** The parsed form, or {} when the request was not form-encoded (express leaves body undefined). */
function formParams(req: Request): Record<string, unknown> {
  return req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
}

function badForm(res: Response, what: string, error: z.ZodError): void {
  // Field names and rules only: the zod issues never echo the submitted values.
  const fields = error.issues.map((i) => `${i.path.join(".") || "form"} ${i.message}`).join("; ");
  sendError(res, ErrCode.BadJson, `malformed Twilio ${what}: ${fields}`);
}

/** A 500 makes Twilio retry the webhook later. The handler logs its own details. */
function failed(res: Response, log: Logger, what: string, messageSid: string, err: unknown): void {
  const errorName = err instanceof Error ? err.name : typeof err;
  log.error({ messageSid, errorName }, `twilio webhook: ${what} handler failed; Twilio will retry`);
  sendError(res, ErrCode.Unknown, "could not handle this webhook now; Twilio will retry");
}

/** TwiML that replies `text` by SMS, or replies nothing when text is "". */
export function twiml(text: string): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  if (text === "") return `${head}<Response/>`;
  return `${head}<Response><Message>${xmlEscape(text)}</Message></Response>`;
}

function xmlEscape(s: string): string {
  return (
    s
      // Control characters are not allowed in XML 1.0 at all, escaped or not.
      .replace(/[\x00-\x08\x0B\x0C\x0E-\x1F]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}
