import { HandoffEventType, StateType } from "../../appservice/shared/events/terms.js";

const EVENT_TYPES = [HandoffEventType.Item, HandoffEventType.ReadBack, HandoffEventType.Question, HandoffEventType.Answer, HandoffEventType.Note];

/**
 * Everything the handoff widget asks Element for, and nothing else: the handoff's state, and
 * reading and sending its encrypted events (items, read-backs, questions, answers, notes). The
 * timeline capability for its own room lets every read and send name that room, so clinical text
 * can never land in whichever room the user happens to be viewing. OpenID needs no capability.
 */
export function handoffCapabilities(roomId: string): string[] {
  return [
    `org.matrix.msc2762.receive.state_event:${StateType.Handoff}`,
    ...EVENT_TYPES.map((t) => `org.matrix.msc2762.receive.event:${t}`),
    ...EVENT_TYPES.map((t) => `org.matrix.msc2762.send.event:${t}`),
    `org.matrix.msc2762.timeline:${roomId}`,
  ];
}

export const handoffWatch = { state: [StateType.Handoff], events: EVENT_TYPES } as const;
