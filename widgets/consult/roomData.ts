import {
  ConsultEventType,
  ConsultReportContentSchema,
  ConsultRequestContentSchema,
  ConsultStateSchema,
  StateType,
  type ConsultReportContent,
  type ConsultRequestContent,
  type ConsultState,
} from "../../appservice/shared/events.js";
import type { RoomFeed } from "../lib/roomFeed.js";

/** What the consult widget shows, read from its room and validated with the shared schemas. */
export interface ConsultRoomData {
  consult: ConsultState | null;
  request: { eventId: string; content: ConsultRequestContent } | null;
  report: ConsultReportContent | null;
}

const warned = new Set<string>();

/** Invalid events are dropped, as everywhere in Rounds; only their ids are logged (no PHI), once. */
function valid<T>(parse: (c: unknown) => { success: true; data: T } | { success: false }, eventId: string, content: unknown): T | null {
  const r = parse(content);
  if (r.success) return r.data;
  if (!warned.has(eventId)) console.warn(`Rounds: ignoring an invalid event ${eventId}`);
  warned.add(eventId);
  return null;
}

export function readConsultRoom(feed: RoomFeed): ConsultRoomData {
  // One consult per consult room; should there ever be more, the newest one is shown.
  const consult =
    feed
      .stateOf(StateType.Consult)
      .map((ev) => valid((c) => ConsultStateSchema.safeParse(c), ev.event_id, ev.content))
      .filter((c): c is ConsultState => c !== null)
      .sort((a, b) => b.created_ts - a.created_ts)[0] ?? null;

  const requests = feed
    .eventsOf(ConsultEventType.Request)
    .map((ev) => ({ eventId: ev.event_id, content: valid((c) => ConsultRequestContentSchema.safeParse(c), ev.event_id, ev.content) }))
    .filter((r): r is { eventId: string; content: ConsultRequestContent } => r.content !== null);
  // The bot's relay carries the consult id; a request without one is a fallback only.
  const request = requests.findLast((r) => consult && r.content.consult_id === consult.id) ?? requests.findLast((r) => !r.content.consult_id) ?? null;

  const reports = feed
    .eventsOf(ConsultEventType.Report)
    .map((ev) => ({ eventId: ev.event_id, content: valid((c) => ConsultReportContentSchema.safeParse(c), ev.event_id, ev.content) }))
    .filter((r) => r.content !== null && r.content.consult_id === consult?.id);
  // The report the completion named wins over drafts sent by a completion that failed.
  const report = (reports.find((r) => r.eventId === consult?.report_event_id) ?? reports.at(-1))?.content ?? null;

  return { consult, request, report };
}
