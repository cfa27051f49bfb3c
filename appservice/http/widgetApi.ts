import express, { type Request, type Response } from "express";
import type { z } from "zod";
import type { Logger } from "../logging.js";
import { DomainError } from "../shared/domainError.js";
import { WIDGET_API_PREFIX } from "../shared/widgetApiPaths.js";
import { ErrCode, HttpRefusal as WidgetApiError, refusalOf } from "./errors.js";
import { HomeserverResolver, type ResolverIo } from "./homeserverResolver.js";
import { openIdExchange, WIDGET_TOKEN_PREFIX } from "./openIdExchange.js";
import { FixedWindowLimit } from "../shared/fixedWindowLimit.js";
import { EXCHANGE_OPENID_PATH, widgetRequestGate } from "./widgetRequests.js";
import type { WidgetSessionStore } from "./widgetSessionStore.js";

/** A widget API refusal, with a message the widget shows as is (see HttpRefusal). */
export { ErrCode, HttpRefusal as WidgetApiError } from "./errors.js";

export type WidgetRouteAdder = (method: "get" | "post", path: string, handler: (userId: string, req: Request) => Promise<unknown>) => void;

/** A workflow's calls of the widget API, added through `route`, which authenticates and limits each. */
export type WidgetRoutes = (route: WidgetRouteAdder) => void;

/**
 * Refuses a user of another homeserver. Staffing (who is on call or on shift, and how fast a
 * service answers) is for the hospital's own staff, not for the partners it federates with.
 */
export function requireLocalUser(userId: string, serverName: string, refusal: string): void {
  if (userId.slice(userId.indexOf(":") + 1) !== serverName) throw new WidgetApiError(ErrCode.Forbidden, refusal);
}

export function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join(".") || "body";
  throw new WidgetApiError(ErrCode.BadJson, `${field}: ${issue.message}`);
}

export interface WidgetApiDeps {
  /** Each workflow's calls; the API itself knows no workflow. */
  routes: WidgetRoutes[];
  sessions: WidgetSessionStore;
  serverName: string;
  homeserverUrl: string;
  /** Partner organisations' homeservers: trusted like our own, so they may be on private addresses. */
  partnerServers?: string[];
  /** DNS and HTTPS for reaching other homeservers; tests replace it. */
  resolverIo?: ResolverIo;
  rateLimitPerMinute: number;
  sessionSeconds: number;
  log: Logger;
}

/** Whether a path or query value (a string, or the arrays and objects a query string parses into) holds a NUL. */
function holdsNul(v: unknown): boolean {
  if (typeof v === "string") return v.includes("\0");
  return typeof v === "object" && v !== null && Object.values(v).some(holdsNul);
}

/** A shared address (a ward behind one NAT) carries several users: allow it this many users' worth. */
const ADDRESS_LIMIT_FACTOR = 5;

/**
 * The widgets' HTTP API. Authentication is the provisioning API of matrix-appservice-bridge: a
 * widget exchanges its OpenID token, which is checked at the user's homeserver
 * (/_matrix/federation/v1/openid/userinfo), for a short-lived session token. Each workflow's
 * routes then check the caller's membership of the room a call names; the domain service
 * decides, and its refusals are translated here, once, as for the admin API.
 */
export async function widgetApiApp(deps: WidgetApiDeps): Promise<express.Express> {
  // Loaded on first use: the bridge library costs half a second of start-up, and start-up is how
  // late overdue escalations fire after a crash.
  const { ProvisioningApi } = await import("matrix-appservice-bridge");
  const app = express();
  app.disable("x-powered-by");
  app.use(widgetRequestGate({ sessions: deps.sessions, perAddressPerMinute: deps.rateLimitPerMinute * ADDRESS_LIMIT_FACTOR }));
  // Ours, not the library's: its server discovery connects to an address before checking it.
  const resolver = new HomeserverResolver(deps.resolverIo, new Set(deps.partnerServers ?? []));
  app.post(EXCHANGE_OPENID_PATH, openIdExchange({ ...deps, resolver }));
  const api = new ProvisioningApi(deps.sessions, {
    expressApp: app,
    apiPrefix: WIDGET_API_PREFIX,
    widgetTokenPrefix: WIDGET_TOKEN_PREFIX,
    widgetTokenLifetimeMs: deps.sessionSeconds * 1000,
    // The per-address limit is in the request gate above, before the session check; each user's
    // own limit is applied once their session is known (below).
  });
  const perUser = new FixedWindowLimit(deps.rateLimitPerMinute, 60_000);

  const route: WidgetRouteAdder = (method, path, handler) =>
    api.addRoute(method, path, async (preq, res: Response) => {
      const userId = preq.userId;
      const req = preq.expressReq as Request;
      try {
        if (!userId) throw new WidgetApiError(ErrCode.Unauthorized, "This call needs a widget session.");
        if (!perUser.take(userId)) throw new WidgetApiError(ErrCode.LimitExceeded, "Too many requests from this widget. Wait a minute and try again.");
        // A NUL in a path or query value is never a name or an id, and Postgres cannot store or compare it.
        const nul = Object.entries({ ...req.params, ...req.query }).find(([, v]) => holdsNul(v));
        if (nul) throw new WidgetApiError(ErrCode.BadJson, `${nul[0]}: must not contain a NUL character`);
        res.json(await handler(userId, req));
        deps.log.info({ route: path, userId, outcome: "ok" }, "widget api");
      } catch (err) {
        // Only refusals: a request the client got wrong was answered before this (clientErrorHandler).
        const refusal = err instanceof WidgetApiError || err instanceof DomainError ? refusalOf(err) : null;
        if (!refusal) {
          deps.log.error({ err, route: path, userId }, "widget api: failed");
          res.status(500).json({ errcode: "M_UNKNOWN", error: "Something went wrong in Rounds. Try again; if it keeps failing, tell the Rounds administrators." });
          return;
        }
        deps.log.info({ route: path, userId, outcome: refusal.body.errcode }, "widget api: refused");
        res.status(refusal.status).json(refusal.body);
      }
    });
  for (const routes of deps.routes) routes(route);
  return app;
}
