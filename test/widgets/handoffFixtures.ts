import type { IRoomEvent } from "matrix-widget-api";
import { StateType, type HandoffItemContent, type HandoffState } from "../../appservice/shared/events/index.js";
import type { HandoffEntryView, HandoffQuestionView, HandoffView } from "../../appservice/shared/handoffApi.js";
import type { HandoffApi } from "../../widgets/lib/handoffApi.js";
import { RoomFeed } from "../../widgets/lib/roomFeed.js";
import type { HandoffRoomActions } from "../../widgets/handoff-room/actionProps.js";
import { NOW } from "./fixtures.js";

export const HANDOFF_ROOM = "!handoff:rounds.test";
export const OUT = "@day.nurse:rounds.test";
export const IN = "@night.nurse:rounds.test";
export const BOT = "@rounds_handoff:rounds.test";
export const ANCHOR = "$anchor";
export const HANDOFF_ID = "01JHANDOFF";

export function handoffState(over: Partial<HandoffState> = {}): HandoffState {
  return {
    id: HANDOFF_ID,
    number: 4,
    unit: "4west",
    unit_name: "4 West",
    template: "sbar",
    mode: "face_to_face",
    status: "presenting",
    outgoing: OUT,
    incoming: IN,
    patient_count: 0,
    read_back_count: 0,
    open_questions: 0,
    checklist_done: 0,
    checklist_total: 0,
    signed_off_by: [],
    scheduled_for_ts: null,
    created_ts: NOW - 10 * 60_000,
    deadline_ts: NOW + 20 * 60_000,
    overdue: false,
    escalated_to: [],
    escalated_ts: null,
    completed_ts: null,
    cancelled_ts: null,
    anchor_event_id: ANCHOR,
    report_event_id: null,
    overridden: false,
    ...over,
  };
}

export function handoffView(over: Partial<HandoffView> = {}): HandoffView {
  return {
    ...handoffState(),
    room_id: HANDOFF_ROOM,
    time_zone: "Europe/London",
    entries: [],
    questions: [],
    tasks: [],
    checklist: [],
    sign_offs: [],
    outstanding: { missing_read_back: [], open_questions: [], checklist: [] },
    duration_s: null,
    ...over,
  };
}

export function entryView(over: Partial<HandoffEntryView> & { entry_id: string; item_event_id: string }): HandoffEntryView {
  return {
    number: 1,
    version: 1,
    history: [],
    presented_by: OUT,
    presented_ts: NOW - 5 * 60_000,
    read_back: false,
    readback_event_id: null,
    readback_by: null,
    readback_ts: null,
    ...over,
  };
}

export function questionView(over: Partial<HandoffQuestionView> & { entry_id: string; event_id: string }): HandoffQuestionView {
  return { number: 1, asked_by: IN, asked_ts: NOW - 60_000, answer_event_id: null, answered_by: null, answered_ts: null, ...over };
}

/** A complete SBAR item for one patient, as the outgoing clinician's widget would send it. */
export function sbarItem(over: Partial<HandoffItemContent> = {}): HandoffItemContent {
  return {
    handoff_id: HANDOFF_ID,
    entry_id: "entry-aaaa01",
    version: 1,
    template: "sbar",
    patient_ref: "Patient/p-1001",
    label: "Bed 12",
    sbar: {
      situation: "Day 2 after hip replacement, new confusion since 16:00",
      background: "Age 84, mild dementia, on oxycodone",
      assessment: "Likely delirium, possibly opioid-related",
      recommendation: "Reduce oxycodone, check sodium in the morning",
    },
    critical_alerts: ["Penicillin allergy: anaphylaxis"],
    tasks: [{ id: "task-aaaa01", text: "Check sodium result", due_ts: NOW + 2 * 3_600_000 }],
    medication_changes: ["Oxycodone reduced to 5 mg"],
    recent_events: "Fell at 14:00 without injury",
    code_status: "Full code",
    contingencies: [{ if: "agitated and pulling lines", then: "call the on-call registrar" }],
    "m.relates_to": { rel_type: "m.reference", event_id: ANCHOR },
    ...over,
  } as HandoffItemContent;
}

let n = 0;
/** A timeline event in the handoff room, sent by the outgoing clinician unless told otherwise. */
export function roomEvent(type: string, content: Record<string, unknown>, extra: Partial<IRoomEvent> = {}): IRoomEvent {
  n += 1;
  return { type, content, sender: OUT, event_id: `$ev${n}`, room_id: HANDOFF_ROOM, origin_server_ts: NOW - 100_000 + n, unsigned: {}, ...extra };
}

export function stateEvent(state: HandoffState, eventId = `$state${++n}`): IRoomEvent {
  return { type: StateType.Handoff, content: state as unknown as Record<string, unknown>, sender: BOT, state_key: state.id, event_id: eventId, room_id: HANDOFF_ROOM, origin_server_ts: NOW, unsigned: {} };
}

/** A fake handoff API: each call is recorded; a call the test did not set up fails loudly. */
export function fakeHandoffApi(impl: Partial<HandoffApi> = {}) {
  const calls: { name: keyof HandoffApi; args: unknown[] }[] = [];
  const names: (keyof HandoffApi)[] = [
    "units",
    "unitPeople",
    "start",
    "handoff",
    "items",
    "removeItem",
    "order",
    "readBacks",
    "questions",
    "answers",
    "checklist",
    "signOff",
    "cancel",
    "incidents",
    "mine",
    "metrics",
  ];
  const api = Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        const f = impl[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
        return f ? f(...args) : Promise.reject(new Error(`unexpected API call ${name}`));
      },
    ]),
  ) as unknown as HandoffApi;
  const callsTo = (name: keyof HandoffApi) => calls.filter((c) => c.name === name).map((c) => c.args);
  return { api, calls, callsTo };
}

/**
 * The handoff room as a widget sees it: the state, earlier events, and a fake Element that
 * "encrypts and sends" by recording the event and echoing it into the feed as the viewer's.
 */
export function fakeHandoffRoom(viewer: string, state: HandoffState, events: IRoomEvent[] = []) {
  const feed = new RoomFeed(HANDOFF_ROOM);
  feed.addState([stateEvent(state)]);
  feed.addEvents(events);
  const sent: { type: string; content: Record<string, unknown>; eventId: string }[] = [];
  const room: HandoffRoomActions = {
    send: async (type, content) => {
      const eventId = `$sent${sent.length + 1}`;
      sent.push({ type, content, eventId });
      feed.addEvents([{ type, content, sender: viewer, event_id: eventId, room_id: HANDOFF_ROOM, origin_server_ts: NOW, unsigned: {} }]);
      return eventId;
    },
  };
  return { feed, room, sent };
}
