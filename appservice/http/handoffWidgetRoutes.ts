import type { Request } from "express";
import type { HandoffService } from "../handoff/handoffService.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { HandoffEventType } from "../shared/events/index.js";
import {
  CancelHandoffBody,
  ChecklistBody,
  HandoffEventBody,
  HandoffRoomBody,
  HandoffRoute,
  IncidentBody,
  OrderBody,
  SignOffBody,
  StartHandoffBody,
  type HandoffView,
  type IncidentResponse,
  type UnitPeopleResponse, type UnitsResponse,
} from "../shared/handoffApi.js";
import { ErrCode, parse, requireLocalUser, WidgetApiError, type WidgetRoutes } from "./widgetApi.js";

/**
 * The handoff calls of the widget API. Each names the room it is made from; the caller must be
 * joined to it (as the handoff bot sees the server's state), and an action on a handoff must come
 * from that handoff's own room. The domain service then checks who may do what.
 */
export function handoffWidgetRoutes(deps: { handoffs: HandoffService; rooms: RoomWriter; serverName: string }): WidgetRoutes {
  return (route) => {
    const { handoffs, rooms } = deps;

    const requireJoined = async (roomId: string, userId: string) => {
      if ((await rooms.membership(roomId, userId)) !== "join") {
        throw new WidgetApiError(ErrCode.Forbidden, "You are not a member of this room, so you cannot act on its handoff.");
      }
    };
    const handoffInRoom = async (id: string, roomId: string, userId: string): Promise<HandoffView> => {
      await requireJoined(roomId, userId);
      const h = await handoffs.get(id);
      if (h.room_id !== roomId) throw new WidgetApiError(ErrCode.Forbidden, "This handoff belongs to another room.");
      return h;
    };
    /** Reads the encrypted event the widget names, as the handoff bot decrypted it. */
    const sentEvent = async (roomId: string, eventId: string, type: string) => {
      const ev = await rooms.readEvent(roomId, eventId);
      if (!ev) throw new WidgetApiError(ErrCode.NotFound, "Rounds cannot read that event yet. Wait a moment and try again.");
      if (ev.type !== type) throw new WidgetApiError(ErrCode.BadJson, `That event is not a ${type.split(".").pop()} event.`);
      return { roomId, eventId, ...ev };
    };
    const roomOf = (req: Request) => (typeof req.query.room_id === "string" ? req.query.room_id : "");

    route("get", HandoffRoute.units, async (): Promise<UnitsResponse> => ({
      units: (await handoffs.listUnits()).map((u) => ({ id: u.id, name: u.name, template: u.template, checklist: u.checklist, room_id: u.room_id ?? null })),
    }));

    route("get", HandoffRoute.unitPeople, async (userId, req): Promise<UnitPeopleResponse> => {
      requireLocalUser(userId, deps.serverName, "Only this hospital's own staff can see who is on its units' shifts.");
      return { people: await handoffs.peopleNear(String(req.params.unit ?? ""), userId) };
    });

    route("post", HandoffRoute.start, async (userId, req) => {
      const body = parse(StartHandoffBody, req.body);
      await requireJoined(body.room_id, userId);
      return { handoff: await handoffs.start({ actor: userId, incoming: body.incoming, unit: body.unit, sourceRoomId: body.room_id }) };
    });

    route("get", HandoffRoute.handoff, async (userId, req) => {
      const h = await handoffs.get(String(req.params.id));
      const roomId = roomOf(req) || h.room_id;
      if (roomId !== h.room_id) throw new WidgetApiError(ErrCode.Forbidden, "This handoff belongs to another room.");
      await requireJoined(h.room_id, userId);
      return { handoff: h };
    });

    const eventRoute = (path: string, type: string, record: (userId: string, ev: Awaited<ReturnType<typeof sentEvent>>) => Promise<HandoffView>) =>
      route("post", path, async (userId, req) => {
        const body = parse(HandoffEventBody, req.body);
        await handoffInRoom(String(req.params.id), body.room_id, userId);
        return { handoff: await record(userId, await sentEvent(body.room_id, body.event_id, type)) };
      });
    eventRoute(HandoffRoute.items, HandoffEventType.Item, (u, ev) => handoffs.recordItem(u, ev));
    eventRoute(HandoffRoute.readBacks, HandoffEventType.ReadBack, (u, ev) => handoffs.recordReadBack(u, ev));
    eventRoute(HandoffRoute.questions, HandoffEventType.Question, (u, ev) => handoffs.recordQuestion(u, ev));
    eventRoute(HandoffRoute.answers, HandoffEventType.Answer, (u, ev) => handoffs.recordAnswer(u, ev));

    route("post", HandoffRoute.removeItem, async (userId, req) => {
      const body = parse(HandoffRoomBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return { handoff: await handoffs.removeEntry(h.id, userId, String(req.params.entry)) };
    });
    route("post", HandoffRoute.order, async (userId, req) => {
      const body = parse(OrderBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return { handoff: await handoffs.reorder(h.id, userId, body.entry_ids) };
    });
    route("post", HandoffRoute.checklist, async (userId, req) => {
      const body = parse(ChecklistBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return { handoff: await handoffs.setChecklist(h.id, userId, body.index, body.done) };
    });
    route("post", HandoffRoute.signOff, async (userId, req) => {
      const body = parse(SignOffBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return { handoff: await handoffs.signOff(h.id, userId, body.override_event_id ? { noteEventId: body.override_event_id } : undefined) };
    });
    route("post", HandoffRoute.cancel, async (userId, req) => {
      const body = parse(CancelHandoffBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return { handoff: await handoffs.cancel(h.id, userId, body.note_event_id ? { noteEventId: body.note_event_id } : undefined) };
    });
    route("post", HandoffRoute.incidents, async (userId, req): Promise<IncidentResponse> => {
      const body = parse(IncidentBody, req.body);
      const h = await handoffInRoom(String(req.params.id), body.room_id, userId);
      return handoffs.reportIncident(h.id, userId, { entryId: body.entry_id, category: body.category, note: body.note_event_id ? { noteEventId: body.note_event_id } : undefined });
    });

    route("get", HandoffRoute.mine, async (userId) => handoffs.forUser(userId));
    route("get", HandoffRoute.metrics, async (userId, req) => {
      requireLocalUser(userId, deps.serverName, "Only this hospital's own staff can see its handoff quality figures.");
      const raw = typeof req.query.since === "string" ? req.query.since : null;
      const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
      if (Number.isNaN(since.getTime())) throw new WidgetApiError(ErrCode.BadJson, "since: must be an ISO date such as 2026-11-01");
      const unit = typeof req.query.unit === "string" && req.query.unit ? req.query.unit : undefined;
      return handoffs.quality(since, unit);
    });
  };
}
