import type { Request } from "express";
import type { AlertService } from "../alert/alertService.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { AlertRoomBody, AlertRoute, FalsePositiveBody, QuietHoursBody, SnoozeBody, type MyAlertsResponse, type QuietHoursResponse } from "../shared/alertApi.js";
import { ErrCode, parse, requireLocalUser, WidgetApiError, type WidgetRoutes } from "./widgetApi.js";

/**
 * The alerts calls of the widget API. An action names the room it is made from: the caller must
 * be joined to it and the alert must have reached them there. The service decides the rest
 * (who may acknowledge, how long a snooze may be). No call carries or returns a value or a patient.
 */
export function alertWidgetRoutes(deps: { alerts: AlertService; rooms: RoomWriter; serverName: string; defaultZone: () => Promise<string> }): WidgetRoutes {
  return (route) => {
    const { alerts, rooms } = deps;
    const numberOf = (req: Request) => {
      const n = Number(req.params.number);
      if (!Number.isSafeInteger(n) || n < 1) throw new WidgetApiError(ErrCode.BadJson, "the alert number must be a whole number such as 12");
      return n;
    };
    const requireJoined = async (roomId: string, userId: string) => {
      if ((await rooms.membership(roomId, userId)) !== "join") throw new WidgetApiError(ErrCode.Forbidden, "You are not a member of this room, so you cannot act on its alerts.");
    };
    const inRoom = async (userId: string, req: Request, roomId: string) => {
      const n = numberOf(req);
      // Where it reached them first (a room the bot is not in says nothing), then still a member there.
      await alerts.requireDeliveredIn(userId, n, roomId);
      await requireJoined(roomId, userId);
      return n;
    };

    route("get", AlertRoute.mine, async (userId): Promise<MyAlertsResponse> => ({
      alerts: await alerts.mine(userId),
      max_snooze_minutes: alerts.maxSnoozeMinutes,
      coordinator: await alerts.isCoordinator(userId),
    }));

    route("get", AlertRoute.alert, async (userId, req) => {
      const roomId = typeof req.query.room_id === "string" && req.query.room_id ? req.query.room_id : undefined;
      if (roomId) await requireJoined(roomId, userId);
      return alerts.alertFor(userId, numberOf(req), roomId);
    });

    route("post", AlertRoute.ack, async (userId, req) => {
      const body = parse(AlertRoomBody, req.body);
      const number = await inRoom(userId, req, body.room_id);
      await alerts.acknowledge({ by: userId, number });
      return alerts.alertFor(userId, number, body.room_id);
    });

    route("post", AlertRoute.snooze, async (userId, req) => {
      const body = parse(SnoozeBody, req.body);
      const number = await inRoom(userId, req, body.room_id);
      await alerts.snooze({ by: userId, number, minutes: body.minutes });
      return alerts.alertFor(userId, number, body.room_id);
    });

    route("post", AlertRoute.falsePositive, async (userId, req) => {
      const body = parse(FalsePositiveBody, req.body);
      const number = await inRoom(userId, req, body.room_id);
      // The reason is the caller's own encrypted message in this room; Rounds keeps only its id.
      const ev = await rooms.readEvent(body.room_id, body.reason_event_id);
      if (!ev) throw new WidgetApiError(ErrCode.NotFound, "Rounds cannot read your reason yet. Wait a moment and try again.");
      if (ev.sender !== userId) throw new WidgetApiError(ErrCode.Forbidden, "The reason must be a message you sent.");
      if (!ev.encrypted) throw new WidgetApiError(ErrCode.Forbidden, "The reason was not sent encrypted, so it is not private; nothing was marked.");
      await alerts.markFalsePositive({ by: userId, number, reasonEventId: body.reason_event_id });
      return alerts.alertFor(userId, number, body.room_id);
    });

    route("get", AlertRoute.quietHours, async (userId): Promise<QuietHoursResponse> => ({ quiet: await alerts.quietHoursOf(userId), default_zone: await deps.defaultZone() }));
    route("post", AlertRoute.quietHours, async (userId, req): Promise<QuietHoursResponse> => {
      const body = parse(QuietHoursBody, req.body);
      await alerts.setQuietHours(userId, body.quiet);
      return { quiet: await alerts.quietHoursOf(userId), default_zone: await deps.defaultZone() };
    });

    route("get", AlertRoute.rules, async (userId, req) => {
      requireLocalUser(userId, deps.serverName, "Only this hospital's own staff can see its alert rules and their figures.");
      const raw = typeof req.query.since === "string" ? req.query.since : null;
      const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
      if (Number.isNaN(since.getTime())) throw new WidgetApiError(ErrCode.BadJson, "since: must be an ISO date such as 2026-11-01");
      return alerts.rulesOverview(userId, since);
    });
  };
}
