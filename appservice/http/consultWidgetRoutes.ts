import type { z } from "zod";
import { ConsultError } from "../consult/consultErrors.js";
import type { ConsultService } from "../consult/consultService.js";
import type { OnCallService } from "../oncall/oncallService.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { ConsultEventType, ConsultReportContentSchema, ConsultRequestContentSchema, type Urgency } from "../shared/events/index.js";
import {
  AcceptBody,
  CancelBody,
  CompleteBody,
  CreateConsultBody,
  DeclineBody,
  FeedbackBody,
  RoomScopedBody,
  WidgetRoute,
  type ConsultView,
  type ServicesResponse,
} from "../shared/consultWidgetApi.js";
import { ErrCode, parse, requireLocalUser, WidgetApiError, type WidgetRoutes } from "./widgetApi.js";

export interface ConsultWidgetDeps {
  consults: ConsultService;
  oncall: OnCallService;
  /** The consult bot's view of Matrix: memberships and the encrypted events widgets sent. */
  rooms: RoomWriter;
  serverName: string;
  maxAttachmentBytes: number;
  expectedResponseMinutes: Record<Urgency, number>;
}

/**
 * The consult calls of the widget API. Each is checked against the caller's membership of the
 * room it names and the consult's own rules; the domain service decides, this adapter only
 * translates.
 */
export function consultWidgetRoutes(deps: ConsultWidgetDeps): WidgetRoutes {
  return (route) => {
    /** The caller must be joined to the room the call is made from. */
    const requireJoined = async (roomId: string, userId: string) => {
      if (!roomId) throw new ConsultError("room_not_ready", "This consult's room is still being set up. Try again in a moment.");
      if ((await deps.rooms.membership(roomId, userId)) !== "join") {
        throw new WidgetApiError(ErrCode.Forbidden, "You are not a member of this room, so you cannot act on its consult.");
      }
    };
    /** The consult must be the one of the room the call is made from. */
    const consultInRoom = async (id: string, roomId: string, userId: string): Promise<ConsultView> => {
      await requireJoined(roomId, userId);
      const consult = await deps.consults.get(id);
      if (consult.room_id !== roomId) throw new WidgetApiError(ErrCode.Forbidden, "This consult belongs to another room.");
      return consult;
    };

    route("get", WidgetRoute.services, async (): Promise<ServicesResponse> => ({
      services: await deps.oncall.listServices(),
      max_attachment_bytes: deps.maxAttachmentBytes,
      expected_response_minutes: deps.expectedResponseMinutes,
    }));
    /** Staffing (who is on shift, response times) is for this hospital's own users, not the federation. */
    const requireLocal = (userId: string) =>
      requireLocalUser(userId, deps.serverName, "Only this hospital's own staff can see its specialists and response times. You can still request a consult.");
    route("get", WidgetRoute.specialists, async (userId, req) => (requireLocal(userId), deps.consults.specialists(String(req.params.service))));

    route("post", WidgetRoute.createConsult, async (userId, req) => {
      const body = parse(CreateConsultBody, req.body);
      await requireJoined(body.room_id, userId);
      const event = await deps.rooms.readEvent(body.room_id, body.event_id);
      if (!event) throw new WidgetApiError(ErrCode.NotFound, "Rounds cannot read that request yet. Wait a moment and try again.");
      if (event.type !== ConsultEventType.Request) throw new WidgetApiError(ErrCode.BadJson, "That event is not a consult request.");
      if (event.sender !== userId) throw new WidgetApiError(ErrCode.Forbidden, "You can only submit consult requests you sent yourself.");
      if (!event.encrypted) throw new WidgetApiError(ErrCode.BadJson, "That request was not end-to-end encrypted, so it was not sent. Send consults from an encrypted room.");
      const content = parse(ConsultRequestContentSchema, event.content);
      return { consult: await deps.consults.request({ requester: userId, content, source: { roomId: body.room_id, eventId: body.event_id } }) };
    });

    route("get", WidgetRoute.consult, async (userId, req) => {
      const consult = await deps.consults.get(String(req.params.id));
      await requireJoined(consult.room_id, userId);
      return { consult };
    });
    /** A call on one consult, from that consult's room. */
    const onConsult = <S extends z.ZodType<{ room_id: string }>>(path: string, schema: S, act: (c: ConsultView, userId: string, body: z.infer<S>) => Promise<ConsultView>) =>
      route("post", path, async (userId, req) => {
        const body = parse(schema, req.body);
        const c = await consultInRoom(String(req.params.id), body.room_id, userId);
        return { consult: await act(c, userId, body) };
      });
    onConsult(WidgetRoute.accept, AcceptBody, (c, userId, body) => deps.consults.accept(c.id, userId, { expectedMinutes: body.expected_minutes, via: "widget" }));
    onConsult(WidgetRoute.decline, DeclineBody, (c, userId, body) => deps.consults.decline(c.id, userId, { noteEventId: body.reason_event_id }));
    onConsult(WidgetRoute.start, RoomScopedBody, (c, userId) => deps.consults.start(c.id, userId));
    onConsult(WidgetRoute.complete, CompleteBody, async (c, userId, body) => {
      const event = await deps.rooms.readEvent(body.room_id, body.report_event_id);
      if (!event) throw new WidgetApiError(ErrCode.NotFound, "Rounds cannot read that report yet. Wait a moment and try again.");
      if (event.type !== ConsultEventType.Report || event.sender !== userId || !event.encrypted) {
        throw new WidgetApiError(ErrCode.BadJson, "That event is not a consult report you sent.");
      }
      const report = parse(ConsultReportContentSchema, event.content);
      if (report.consult_id !== c.id) throw new WidgetApiError(ErrCode.BadJson, "That report belongs to another consult.");
      return deps.consults.complete(c.id, userId, { report, billing: body.billing });
    });
    onConsult(WidgetRoute.cancel, CancelBody, (c, userId, body) => deps.consults.cancel(c.id, userId, body.reason_event_id ? { noteEventId: body.reason_event_id } : undefined));
    onConsult(WidgetRoute.feedback, FeedbackBody, (c, userId, body) => deps.consults.feedback(c.id, userId, { rating: body.rating, outcome: body.outcome }));
    route("get", WidgetRoute.mine, async (userId) => deps.consults.forUser(userId));
    route("get", WidgetRoute.metrics, async (userId, req) => {
      requireLocal(userId);
      const raw = typeof req.query.since === "string" ? req.query.since : null;
      const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
      if (Number.isNaN(since.getTime())) throw new WidgetApiError(ErrCode.BadJson, "since: must be an ISO date such as 2026-11-01");
      return deps.consults.responseTimes(since);
    });
  };
}
