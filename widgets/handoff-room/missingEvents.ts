import { HandoffEventType } from "../../appservice/shared/events/terms.js";
import type { HandoffEventTypeName } from "../../appservice/shared/events/index.js";
import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import type { HandoffContent } from "./roomData.js";

/** Where a missing event can be fetched from: the event it refers to (m.reference), and its type. */
export interface MissingEvent {
  eventId: string;
  type: HandoffEventTypeName;
  relatesTo: string | null;
}

/**
 * The events the server's view names that the room has not given the widget: still waiting for
 * their key, or dropped from the client's timeline by a sync gap. Each says what it refers to, so
 * it can be fetched through the homeserver's relations.
 */
export function missingEvents(view: HandoffView, content: HandoffContent): MissingEvent[] {
  const out: MissingEvent[] = [];
  const want = (eventId: string | null, type: HandoffEventTypeName, held: ReadonlyMap<string, unknown>, relatesTo: string | null) => {
    if (eventId && !held.has(eventId)) out.push({ eventId, type, relatesTo });
  };
  for (const e of view.entries) {
    want(e.item_event_id, HandoffEventType.Item, content.items, view.anchor_event_id);
    want(e.readback_event_id, HandoffEventType.ReadBack, content.readBacks, e.item_event_id);
  }
  for (const q of view.questions) {
    const entry = view.entries.find((e) => e.entry_id === q.entry_id);
    want(q.event_id, HandoffEventType.Question, content.questions, entry?.item_event_id ?? null);
    want(q.answer_event_id, HandoffEventType.Answer, content.answers, q.event_id);
  }
  return out;
}

/** One key per set of missing events, so a re-read restarts only when the set changes. */
export const missingKey = (missing: readonly MissingEvent[]) => missing.map((m) => m.eventId).join(" ");
