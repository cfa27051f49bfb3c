import type { IRoomEvent } from "matrix-widget-api";
import type { z } from "zod";
import { BOT_PREFIX, StateType } from "../../appservice/shared/events/terms.js";
import type { RoundsEvent, HandoffAnswerContent, HandoffItemContent, HandoffNoteContent, HandoffQuestionContent, HandoffReadBackContent, HandoffState } from "../../appservice/shared/events/index.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { validContent } from "../lib/validEvents.js";
import { validators } from "../lib/validators.js";

/** The decrypted content of the handoff's trusted events, by event id. The server's view says which ones count. */
export interface HandoffContent {
  items: ReadonlyMap<string, HandoffItemContent>;
  readBacks: ReadonlyMap<string, HandoffReadBackContent>;
  questions: ReadonlyMap<string, HandoffQuestionContent>;
  answers: ReadonlyMap<string, HandoffAnswerContent>;
  notes: ReadonlyMap<string, HandoffNoteContent>;
}

/** What the handoff widget reads from its room, validated with the shared schemas. */
export interface HandoffRoomData {
  handoff: HandoffState | null;
  /** A new id means the bot rewrote the state, so the widget reloads the server's view. */
  stateEventId: string | null;
  content: HandoffContent;
}

/** The handoff bot's user; it sends events on behalf of clinicians on text-only clients. */
export const HANDOFF_BOT_PREFIX = `${BOT_PREFIX}handoff:`;

const serverOf = (userId: string) => userId.slice(userId.indexOf(":") + 1);
const isOpen = (h: HandoffState) => h.status !== "completed" && h.status !== "cancelled";

export function readHandoffRoom(feed: RoomFeed): HandoffRoomData {
  // One handoff per handoff room; should there be more, the open one, else the newest. Only the
  // bot can write this state (power levels), so its sender is the bot.
  const current =
    feed
      .stateOf(StateType.Handoff)
      .map((ev) => ({ ev, state: validContent(validators().HandoffStateEvent, ev) }))
      .filter((c): c is { ev: IRoomEvent; state: HandoffState } => c.state !== null)
      .sort((a, b) => Number(isOpen(b.state)) - Number(isOpen(a.state)) || b.state.created_ts - a.state.created_ts)[0] ?? null;
  if (!current) return { handoff: null, stateEventId: null, content: { items: new Map(), readBacks: new Map(), questions: new Map(), answers: new Map(), notes: new Map() } };
  const h = current.state;

  // Room events are encrypted, so power levels cannot say who may send them: anyone in the room
  // could post an item or a read-back for this handoff. Trust only the participants, and the bot
  // when it speaks for one of them (presented_by / by). The bot writes the state, or is the
  // handoff bot of the same server.
  const stateSender = current.ev.sender;
  const isBot = (sender: string) => sender === stateSender || (sender.startsWith(HANDOFF_BOT_PREFIX) && serverOf(sender) === serverOf(stateSender));
  const participants = [h.outgoing, h.incoming];
  /** The clinician an event speaks for: its sender, or whom the bot names. */
  const actsFor = (sender: string, by: string | undefined, allowed: string[]) => {
    const actor = by ?? sender;
    return allowed.includes(actor) && (sender === actor || isBot(sender));
  };

  function collect<S extends z.ZodType<{ handoff_id: string }>>(def: RoundsEvent<S>, trusted: (sender: string, c: z.infer<S>) => boolean): Map<string, z.infer<S>> {
    const out = new Map<string, z.infer<S>>();
    for (const ev of feed.eventsOf(def.type)) {
      const c = validContent(def, ev);
      if (c && c.handoff_id === h.id && trusted(ev.sender, c)) out.set(ev.event_id, c);
    }
    return out;
  }

  return {
    handoff: h,
    stateEventId: current.ev.event_id,
    content: {
      // The bot relays items of text-only clients without presented_by being anyone but the outgoing.
      items: collect(validators().HandoffItemEvent, (s, c) => (s === h.outgoing || isBot(s)) && (c.presented_by ?? h.outgoing) === h.outgoing),
      readBacks: collect(validators().HandoffReadBackEvent, (s, c) => actsFor(s, c.by, [h.incoming])),
      questions: collect(validators().HandoffQuestionEvent, (s, c) => actsFor(s, c.by, participants)),
      answers: collect(validators().HandoffAnswerEvent, (s, c) => actsFor(s, c.by, participants)),
      notes: collect(validators().HandoffNoteEvent, (s, c) => actsFor(s, c.by, participants)),
    },
  };
}
