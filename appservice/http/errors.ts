import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logging.js";

/** Matrix error codes mapped to HTTP status in one table. */
export const ErrCode = {
  Forbidden: "M_FORBIDDEN",
  Unauthorized: "M_UNAUTHORIZED",
  BadJson: "M_BAD_JSON",
  NotFound: "M_NOT_FOUND",
  Unknown: "M_UNKNOWN",
  Unavailable: "M_UNAVAILABLE",
} as const;
export type ErrCode = (typeof ErrCode)[keyof typeof ErrCode];

const STATUS: Record<ErrCode, number> = {
  M_FORBIDDEN: 403,
  M_UNAUTHORIZED: 401,
  M_BAD_JSON: 400,
  M_NOT_FOUND: 404,
  M_UNKNOWN: 500,
  M_UNAVAILABLE: 503,
};

export function sendError(res: Response, errcode: ErrCode, error: string): void {
  res.status(STATUS[errcode]).json({ errcode, error });
}

/** The app-wide error handler: malformed JSON is the client's fault, anything else is logged. */
export function errorHandler(log: Logger) {
  return (err: Error & { type?: string }, _req: Request, res: Response, _next: NextFunction): void => {
    if (err.type === "entity.parse.failed") return sendError(res, ErrCode.BadJson, "request body is not valid JSON");
    if (err.type === "entity.too.large") return sendError(res, ErrCode.BadJson, "request body is too large");
    log.error({ err }, "http: unhandled error");
    sendError(res, ErrCode.Unknown, "internal error; see the Rounds log");
  };
}
