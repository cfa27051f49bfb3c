import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logging.js";
import { DomainError, type DomainErrorCode } from "../shared/domainError.js";

/** Matrix error codes mapped to HTTP status in one table. */
export const ErrCode = {
  Forbidden: "M_FORBIDDEN",
  Unauthorized: "M_UNAUTHORIZED",
  BadJson: "M_BAD_JSON",
  NotJson: "M_NOT_JSON",
  InvalidParam: "M_INVALID_PARAM",
  NotFound: "M_NOT_FOUND",
  TooLarge: "M_TOO_LARGE",
  UnsupportedMediaType: "M_UNSUPPORTED_MEDIA_TYPE",
  LimitExceeded: "M_LIMIT_EXCEEDED",
  Unknown: "M_UNKNOWN",
  Unavailable: "M_UNAVAILABLE",
} as const;
export type ErrCode = (typeof ErrCode)[keyof typeof ErrCode];

const STATUS: Record<ErrCode, number> = {
  M_FORBIDDEN: 403,
  M_UNAUTHORIZED: 401,
  M_BAD_JSON: 400,
  M_NOT_JSON: 400,
  M_INVALID_PARAM: 400,
  M_NOT_FOUND: 404,
  M_TOO_LARGE: 413,
  M_UNSUPPORTED_MEDIA_TYPE: 415,
  M_LIMIT_EXCEEDED: 429,
  M_UNKNOWN: 500,
  M_UNAVAILABLE: 503,
};

export function sendError(res: Response, errcode: ErrCode, error: string): void {
  res.status(STATUS[errcode]).json({ errcode, error });
}

/** A refusal an HTTP handler throws: a Matrix errcode (its status from the table above) and what to do next. */
export class HttpRefusal extends Error {
  constructor(
    readonly errcode: ErrCode,
    message: string,
  ) {
    super(message);
  }
}

export type Refusal = { status: number; body: Record<string, unknown> & { errcode: string; error: string } };

/**
 * How any API of Rounds answers a refusal: a client's malformed request, an HttpRefusal or a
 * domain refusal, each with its status from one table. Null for anything else: our fault, a 500.
 */
export function refusalOf(err: unknown): Refusal | null {
  const known = clientErrorOf(err);
  if (known) return { status: STATUS[known.errcode], body: known };
  if (err instanceof HttpRefusal) return { status: STATUS[err.errcode], body: { errcode: err.errcode, error: err.message } };
  if (err instanceof DomainError) return domainRefusal(err);
  return null;
}

/**
 * A domain refusal's status, for the widget and admin APIs alike. "unavailable" (nobody on call
 * to take it) is 409, not 503: 503 tells a caller the service is down and to retry as is.
 */
const DOMAIN_STATUS: Record<DomainErrorCode, number> = {
  not_found: 404,
  forbidden: 403,
  invalid_transition: 409,
  invalid_input: 400,
  conflict: 409,
  unavailable: 409,
};

/** A domain refusal as JSON: RND_<WORKFLOW>_<REASON>, the message, and what the caller needs to try again. */
function domainRefusal(err: DomainError): Refusal {
  return { status: DOMAIN_STATUS[err.code], body: { ...err.details, errcode: err.errcode, error: err.message } };
}

/** What body parsers and the router throw for a request the client got wrong. */
type RequestError = Error & { type?: string; status?: number; expose?: boolean; encoding?: string; charset?: string; limit?: number };

/**
 * The client's mistake behind an error thrown while reading a request, or null when the fault is
 * ours. Covers body-parser's errors (bad JSON or form, too large, unknown charset or encoding,
 * a body that does not inflate) and the router's URIError for an undecodable %-escape.
 */
export function clientErrorOf(err: unknown): { errcode: ErrCode; error: string } | null {
  if (!(err instanceof Error)) return null;
  const e = err as RequestError;
  if (e instanceof URIError) {
    return { errcode: ErrCode.InvalidParam, error: "the request path holds an undecodable %-escape; write a literal '%' as %25" };
  }
  switch (e.type) {
    case "entity.parse.failed":
      return { errcode: ErrCode.NotJson, error: "the request body could not be parsed; send well-formed JSON (or a form, for Twilio)" };
    case "entity.too.large":
      return { errcode: ErrCode.TooLarge, error: `the request body is larger than the ${e.limit ?? "allowed"} bytes this endpoint accepts` };
    case "encoding.unsupported":
      return { errcode: ErrCode.UnsupportedMediaType, error: "this Content-Encoding is not supported; send the body uncompressed, or gzip, deflate or br" };
    case "charset.unsupported":
      return { errcode: ErrCode.UnsupportedMediaType, error: "this charset is not supported; send the body as UTF-8" };
  }
  // Anything else body-parser marks as the client's (a body that does not inflate, an aborted or
  // short body): its message is safe to show, and names no content.
  if (e.expose === true && e.status !== undefined && e.status >= 400 && e.status < 500) {
    return { errcode: ErrCode.NotJson, error: `the request body could not be read: ${e.message}` };
  }
  return null;
}

/** Answers a client error with its 4xx; passes anything else on. */
export function clientErrorHandler() {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const known = clientErrorOf(err);
    if (!known || res.headersSent) return next(err);
    sendError(res, known.errcode, known.error);
  };
}

/** The app-wide error handler: a client's mistake or a domain refusal gets its 4xx, anything else is logged. */
export function errorHandler(log: Logger) {
  return (err: Error, _req: Request, res: Response, _next: NextFunction): void => {
    const refusal = refusalOf(err);
    if (refusal && !res.headersSent) return void res.status(refusal.status).json(refusal.body);
    log.error({ err }, "http: unhandled error");
    if (res.headersSent) return void res.end();
    sendError(res, ErrCode.Unknown, "internal error; see the Rounds log");
  };
}
