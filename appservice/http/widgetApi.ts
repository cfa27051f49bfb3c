import express, { type Request, type Response } from "express";
import type { z } from "zod";
import { ConsultError, type ConsultService } from "../consult/consultService.js";
import type { Logger } from "../logging.js";
import type { OnCallService } from "../oncall/oncallService.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { ConsultEventType, ConsultReportContentSchema, ConsultRequestContentSchema, type Urgency } from "../shared/events.js";
import {
  AcceptBody,
  CancelBody,
  CompleteBody,
  CreateConsultBody,
  DeclineBody,
  FeedbackBody,
  RoomScopedBody,
  WIDGET_API_PREFIX,
  WidgetRoute,
  type ConsultView,
  type ServicesResponse,
} from "../shared/widgetApi.js";
import { HandoffError, type HandoffService } from "../handoff/handoffService.js";
import { handoffWidgetRoutes } from "./handoffWidgetRoutes.js";
import { HomeserverResolver, type ResolverIo } from "./homeserverResolver.js";
import { openIdExchange, WIDGET_TOKEN_PREFIX } from "./openIdExchange.js";
import { EXCHANGE_OPENID_PATH, FixedWindowLimit, widgetRequestGate } from "./widgetRequests.js";
import type { WidgetSessionStore } from "./widgetSessionStore.js";

export interface WidgetApiDeps {
  consults: ConsultService;
  oncall: OnCallService;
  /** The consult bot's view of Matrix: memberships and the encrypted events widgets sent. */
  rooms: RoomWriter;
  /** The handoff workflow, when its bot runs: its service and the handoff bot's view of Matrix. */
  handoffs?: { service: HandoffService; rooms: RoomWriter };
  sessions: WidgetSessionStore;
  serverName: string;
  homeserverUrl: string;
  /** Partner organisations' homeservers: trusted like our own, so they may be on private addresses. */
  partnerServers?: string[];
  /** DNS and HTTPS for reaching other homeservers; tests replace it. */
  resolverIo?: ResolverIo;
  rateLimitPerMinute: number;
  sessionSeconds: number;
  maxAttachmentBytes: number;
  expectedResponseMinutes: Record<Urgency, number>;
  log: Logger;
}

/** A refusal with a status and a plain-language message the widget shows as is. */
export class WidgetApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

/** A shared address (a ward behind one NAT) carries several users: allow it this many users' worth. */
const ADDRESS_LIMIT_FACTOR = 5;

const CONSULT_ERROR_STATUS: Record<ConsultError["code"], number> = {
  not_found: 404,
  forbidden: 403,
  invalid_transition: 409,
  invalid_input: 400,
  unknown_service: 404,
  nobody_available: 409,
};

const HANDOFF_ERROR_STATUS: Record<HandoffError["code"], number> = {
  not_found: 404,
  forbidden: 403,
  invalid_transition: 409,
  invalid_input: 400,
  sign_off_blocked: 409,
  unknown_unit: 404,
  unknown_user: 404,
};

export type WidgetRouteAdder = (method: "get" | "post", path: string, handler: (userId: string, req: Request) => Promise<unknown>) => void;

export function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join(".") || "body";
  throw new WidgetApiError(400, "M_BAD_JSON", `${field}: ${issue.message}`);
}

/**
 * The widgets' HTTP API. Authentication is the provisioning API of matrix-appservice-bridge: a
 * widget exchanges its OpenID token, which is checked at the user's homeserver
 * (/_matrix/federation/v1/openid/userinfo), for a short-lived session token. Each action is then
 * checked against the caller's membership of the room it names and the consult's own rules; the
 * domain service decides, this adapter only translates.
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
        if (!userId) throw new WidgetApiError(401, "M_UNAUTHORIZED", "This call needs a widget session.");
        if (!perUser.take(userId)) throw new WidgetApiError(429, "M_LIMIT_EXCEEDED", "Too many requests from this widget. Wait a minute and try again.");
        res.json(await handler(userId, req));
        deps.log.info({ route: path, userId, outcome: "ok" }, "widget api");
      } catch (err) {
        const e =
          err instanceof WidgetApiError
            ? err
            : err instanceof ConsultError
              ? new WidgetApiError(CONSULT_ERROR_STATUS[err.code], `RND_CONSULT_${err.code.toUpperCase()}`, err.humanMessage)
              : err instanceof HandoffError
                ? new WidgetApiError(HANDOFF_ERROR_STATUS[err.code], `RND_HANDOFF_${err.code.toUpperCase()}`, err.humanMessage)
                : null;
        if (!e) {
          deps.log.error({ err, route: path, userId }, "widget api: failed");
          res.status(500).json({ errcode: "M_UNKNOWN", error: "Something went wrong in Rounds. Try again; if it keeps failing, tell the Rounds administrators." });
          return;
        }
        deps.log.info({ route: path, userId, outcome: e.errcode }, "widget api: refused");
        res.status(e.status).json({ errcode: e.errcode, error: e.message });
      }
    });

  if (deps.handoffs) {
    handoffWidgetRoutes(route, { handoffs: deps.handoffs.service, rooms: deps.handoffs.rooms, serverName: deps.serverName });
  }

  /** The caller must be joined to the room the call is made from. */
  const requireJoined = async (roomId: string, userId: string) => {
    if (!roomId) throw new WidgetApiError(409, "M_NOT_FOUND", "This consult's room is still being set up. Try again in a moment.");
    if ((await deps.rooms.membership(roomId, userId)) !== "join") {
      throw new WidgetApiError(403, "M_FORBIDDEN", "You are not a member of this room, so you cannot act on its consult.");
    }
  };
  /** The consult must be the one of the room the call is made from. */
  const consultInRoom = async (id: string, roomId: string, userId: string): Promise<ConsultView> => {
    await requireJoined(roomId, userId);
    const consult = await deps.consults.get(id);
    if (consult.room_id !== roomId) throw new WidgetApiError(403, "M_FORBIDDEN", "This consult belongs to another room.");
    return consult;
  };

  route("get", WidgetRoute.services, async (): Promise<ServicesResponse> => ({
    services: await deps.oncall.listServices(),
    max_attachment_bytes: deps.maxAttachmentBytes,
    expected_response_minutes: deps.expectedResponseMinutes,
  }));
  /** Staffing (who is on shift, response times) is for this hospital's own users, not the federation. */
  const requireLocal = (userId: string) => {
    if (userId.slice(userId.indexOf(":") + 1) !== deps.serverName) {
      throw new WidgetApiError(403, "M_FORBIDDEN", "Only this hospital's own staff can see its specialists and response times. You can still request a consult.");
    }
  };
  route("get", WidgetRoute.specialists, async (userId, req) => (requireLocal(userId), deps.consults.specialists(String(req.params.service))));

  route("post", WidgetRoute.createConsult, async (userId, req) => {
    const body = parse(CreateConsultBody, req.body);
    await requireJoined(body.room_id, userId);
    const event = await deps.rooms.readEvent(body.room_id, body.event_id);
    if (!event) throw new WidgetApiError(404, "M_NOT_FOUND", "Rounds cannot read that request yet. Wait a moment and try again.");
    if (event.type !== ConsultEventType.Request) throw new WidgetApiError(400, "M_BAD_JSON", "That event is not a consult request.");
    if (event.sender !== userId) throw new WidgetApiError(403, "M_FORBIDDEN", "You can only submit consult requests you sent yourself.");
    if (!event.encrypted) throw new WidgetApiError(400, "M_BAD_JSON", "That request was not end-to-end encrypted, so it was not sent. Send consults from an encrypted room.");
    const content = parse(ConsultRequestContentSchema, event.content);
    return { consult: await deps.consults.request({ requester: userId, content, source: { roomId: body.room_id, eventId: body.event_id } }) };
  });

  route("get", WidgetRoute.consult, async (userId, req) => {
    const consult = await deps.consults.get(String(req.params.id));
    await requireJoined(consult.room_id, userId);
    return { consult };
  });
  route("post", WidgetRoute.accept, async (userId, req) => {
    const body = parse(AcceptBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    return { consult: await deps.consults.accept(c.id, userId, { expectedMinutes: body.expected_minutes, via: "widget" }) };
  });
  route("post", WidgetRoute.decline, async (userId, req) => {
    const body = parse(DeclineBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    return { consult: await deps.consults.decline(c.id, userId, body.reason) };
  });
  route("post", WidgetRoute.start, async (userId, req) => {
    const body = parse(RoomScopedBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    return { consult: await deps.consults.start(c.id, userId) };
  });
  route("post", WidgetRoute.complete, async (userId, req) => {
    const body = parse(CompleteBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    const event = await deps.rooms.readEvent(body.room_id, body.report_event_id);
    if (!event) throw new WidgetApiError(404, "M_NOT_FOUND", "Rounds cannot read that report yet. Wait a moment and try again.");
    if (event.type !== ConsultEventType.Report || event.sender !== userId || !event.encrypted) {
      throw new WidgetApiError(400, "M_BAD_JSON", "That event is not a consult report you sent.");
    }
    const report = parse(ConsultReportContentSchema, event.content);
    if (report.consult_id !== c.id) throw new WidgetApiError(400, "M_BAD_JSON", "That report belongs to another consult.");
    return { consult: await deps.consults.complete(c.id, userId, { report, billing: body.billing }) };
  });
  route("post", WidgetRoute.cancel, async (userId, req) => {
    const body = parse(CancelBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    return { consult: await deps.consults.cancel(c.id, userId, body.reason) };
  });
  route("post", WidgetRoute.feedback, async (userId, req) => {
    const body = parse(FeedbackBody, req.body);
    const c = await consultInRoom(String(req.params.id), body.room_id, userId);
    return { consult: await deps.consults.feedback(c.id, userId, { rating: body.rating, outcome: body.outcome }) };
  });
  route("get", WidgetRoute.mine, async (userId) => deps.consults.forUser(userId));
  route("get", WidgetRoute.metrics, async (userId, req) => {
    requireLocal(userId);
    const raw = typeof req.query.since === "string" ? req.query.since : null;
    const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
    if (Number.isNaN(since.getTime())) throw new WidgetApiError(400, "M_BAD_JSON", "since: must be an ISO date such as 2026-11-01");
    return deps.consults.responseTimes(since);
  });
  return app;
}
