import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { FixedWindowLimit } from "../shared/fixedWindowLimit.js";
import { WIDGET_API_PREFIX } from "../shared/widgetApiPaths.js";
import { bearerToken } from "./auth.js";
import { jsonBody, refuseUndecodablePath } from "./bodyParsing.js";
import { clientErrorHandler, ErrCode, sendError } from "./errors.js";
import type { WidgetSessionStore } from "./widgetSessionStore.js";

export const EXCHANGE_OPENID_PATH = `${WIDGET_API_PREFIX}/v1/exchange_openid`;

/**
 * What every widget API request goes through before the provisioning library sees it: the
 * library answers a malformed or oversized body, a bad %-escape or a body naming `userId` with
 * 500, so those are refused here with their 4xx. In order: the per-address limit (before
 * authentication only the address is known; a header would be the caller's choice of bucket),
 * the path, the session (so no body is read for a caller without one), then the body.
 */
export function widgetRequestGate(deps: { sessions: WidgetSessionStore; perAddressPerMinute: number }): Router {
  const router = express.Router();
  const perAddress = new FixedWindowLimit(deps.perAddressPerMinute, 60_000);
  router.use(WIDGET_API_PREFIX, (req: Request, res: Response, next: NextFunction) => {
    // The library sets these too, but only on the requests it answers.
    res.header("Access-Control-Allow-Origin", "*");
    res.header("Access-Control-Allow-Methods", "GET,PUT,POST,DELETE");
    if (!perAddress.take(req.ip ?? "unknown")) {
      res.status(429).json({ errcode: ErrCode.LimitExceeded, error: "Too many requests from this address. Wait a minute and try again.", retry_after_ms: 60_000 });
      return;
    }
    next();
  });
  router.use(WIDGET_API_PREFIX, refuseUndecodablePath);
  router.use(WIDGET_API_PREFIX, (req: Request, res: Response, next: NextFunction) => {
    if (req.originalUrl.split("?")[0] === EXCHANGE_OPENID_PATH) return next();
    requireSession(deps.sessions, req, res).then((ok) => ok && next(), next);
  });
  router.use(WIDGET_API_PREFIX, jsonBody("100kb"), (req: Request, res: Response, next: NextFunction) => {
    // The library reads `req.body.userId`, so a request without a body must still have one.
    req.body ??= {};
    // The library's own body parser (body-parser 1, under express 4) would read the consumed
    // stream again and fail with 500; this is its mark for "already parsed".
    (req as Request & { _body?: boolean })._body = true;
    // The library treats a userId in the body as an integration manager's call, which Rounds
    // does not take: the caller is whoever the session belongs to.
    if (typeof req.body === "object" && req.body !== null && "userId" in req.body) {
      return sendError(res, ErrCode.BadJson, "userId: not accepted; the widget session says who is calling. Remove it from the body.");
    }
    next();
  });
  router.use(WIDGET_API_PREFIX, clientErrorHandler());
  return router;
}

/** True when the request carries a live widget session; otherwise answers 401. */
async function requireSession(sessions: WidgetSessionStore, req: Request, res: Response): Promise<boolean> {
  const token = bearerToken(req);
  if (!token) {
    sendError(res, ErrCode.Unauthorized, "This call needs a widget session: exchange the widget's OpenID token first.");
    return false;
  }
  const session = await sessions.getSessionForToken(token);
  if (!session || session.expiresTs < Date.now()) {
    sendError(res, ErrCode.Unauthorized, session ? "This widget session has expired. Reload the widget." : "This widget session is unknown. Reload the widget.");
    return false;
  }
  return true;
}
