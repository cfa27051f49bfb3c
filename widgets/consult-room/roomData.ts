import { ConsultEventType, StateType } from "../../appservice/shared/events/terms.js";
import type { ConsultReportContent, ConsultRequestContent, ConsultState } from "../../appservice/shared/events/index.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { validContent } from "../lib/validEvents.js";
import { validators } from "../lib/validators.js";

/** What the consult widget shows, read from its room and validated with the shared schemas. */
export interface ConsultRoomData {
  consult: ConsultState | null;
  request: { eventId: string; content: ConsultRequestContent } | null;
  report: ConsultReportContent | null;
}

export function readConsultRoom(feed: RoomFeed): ConsultRoomData {
  // One consult per consult room; should there ever be more, the newest one is shown. Only the
  // bot can write this state (power levels), so its sender is the bot.
  const current =
    feed
      .stateOf(StateType.Consult)
      .map((ev) => ({ sender: ev.sender, state: validContent(validators().ConsultStateEvent, ev) }))
      .filter((c): c is { sender: string; state: ConsultState } => c.state !== null)
      .sort((a, b) => b.state.created_ts - a.state.created_ts)[0] ?? null;
  const consult = current?.state ?? null;

  // Room events are encrypted, so power levels cannot say who may send them: anyone in the room
  // could post a request or report with this consult's id. Trust only the bot's relay of the
  // request and the consultant's own report.
  const requests = feed
    .eventsOf(ConsultEventType.Request)
    .filter((ev) => current !== null && ev.sender === current.sender)
    .map((ev) => ({ eventId: ev.event_id, content: validContent(validators().ConsultRequestEvent, ev) }))
    .filter((r): r is { eventId: string; content: ConsultRequestContent } => r.content !== null);
  const request = requests.findLast((r) => consult !== null && r.content.consult_id === consult.id) ?? null;

  const reports = feed
    .eventsOf(ConsultEventType.Report)
    .filter((ev) => consult?.consultant != null && ev.sender === consult.consultant)
    .map((ev) => validContent(validators().ConsultReportEvent, ev))
    .filter((r): r is ConsultReportContent => r !== null && r.consult_id === consult?.id);
  // The last report the consultant sent is the one the completion read (a failed completion's draft comes before it).
  const report = reports.at(-1) ?? null;

  return { consult, request, report };
}
