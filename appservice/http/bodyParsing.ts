import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";

/**
 * The one way every Rounds router reads a request body. A body is JSON (or Twilio's form) in
 * UTF-8, plain or gzip/deflate/br; anything else fails with an error that errors.ts maps to a
 * 4xx. Mount a parser after the route's authentication, so nobody's body is read before we
 * know who sent it.
 */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit });
}

/** Twilio's webhooks: application/x-www-form-urlencoded. */
export function formBody(limit: string): RequestHandler {
  return express.urlencoded({ extended: false, limit });
}

/**
 * Refuses a path with an undecodable %-escape before any route sees it. The main app's error
 * handler maps the router's URIError itself; a sub-app whose error handler is a library's (the
 * widget API's) needs this in front, followed by clientErrorHandler().
 */
export function refuseUndecodablePath(req: Request, _res: Response, next: NextFunction): void {
  try {
    decodeURIComponent(req.path);
  } catch (err) {
    return next(err);
  }
  next();
}
