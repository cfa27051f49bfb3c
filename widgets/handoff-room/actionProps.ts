import type { IRoomEvent } from "matrix-widget-api";
import type { HandoffEventTypeName } from "../../appservice/shared/events/index.js";
import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import type { HandoffApi } from "../lib/handoffApi.js";
import type { MissingEvent } from "./missingEvents.js";
import type { HandoffContent } from "./roomData.js";

export type { HandoffEventTypeName };

/** What the widget does in its room through Element; a fake in tests. */
export interface HandoffRoomActions {
  /** Sends an encrypted handoff event into this room (Element encrypts it); returns its event id. */
  send: (type: HandoffEventTypeName, content: Record<string, unknown>) => Promise<string>;
  /** Reads the missing events again: from the client, and through the relations of what they refer to. */
  reread?: (missing: readonly MissingEvent[]) => Promise<IRoomEvent[]>;
}

/** What every action form gets: the API, the room it acts from, the handoff, and where the answer goes. */
export interface ActionProps {
  api: HandoffApi;
  roomId: string;
  handoff: HandoffView;
  room: HandoffRoomActions;
  onView: (view: HandoffView) => void;
}

/** What every patient's part of the page gets besides the action props. */
export interface EntryProps extends ActionProps {
  content: HandoffContent;
  viewer: string;
  now: number;
}

/** The m.reference relation every handoff event carries; none while the event it points to is unknown. */
export function reference(eventId: string | null): Record<string, unknown> {
  return eventId ? { "m.relates_to": { rel_type: "m.reference", event_id: eventId } } : {};
}
