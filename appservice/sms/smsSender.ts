/**
 * The port through which the paging service sends an SMS. An SMS leaves Matrix in plain text,
 * so callers keep PHI out of `body` ("URGENT page 42 from Rounds, reply 42 to acknowledge").
 */
export interface SmsSendResult {
  /** The provider's message id (Twilio: "SM..."); delivery status callbacks refer to it. */
  sid: string;
  /** The provider's first status for the message, usually "queued". */
  status: string;
}

export interface SmsSender {
  send(to: string, body: string): Promise<SmsSendResult>;
}

/**
 * A message the provider did not accept. `retryable` tells the caller whether sending the
 * same message again later can succeed (provider outage, network) or cannot (bad number,
 * bad credentials), so a page escalates instead of retrying forever.
 */
export class SmsSendError extends Error {
  override readonly name = "SmsSendError";
  /** The provider's error code (Twilio: 21211 for an invalid "To" number), when it gave one. */
  readonly code: number | undefined;
  /** The HTTP status of the provider's answer; undefined when no answer arrived. */
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, opts: { code?: number; status?: number; retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code;
    this.status = opts.status;
    this.retryable = opts.retryable;
  }
}
