import { z } from "zod";
import { clientId, INCIDENT_CATEGORIES, matrixUserId, roomId, type HandoffState, type HandoffTemplate } from "./events/index.js";
import type { Outstanding } from "./handoffApiTerms.js";
export * from "./handoffApiTerms.js";

/**
 * The handoff part of the widget HTTP API (prefix and authentication as in widgetApi.ts). Every
 * call that acts on a handoff names the room it is made from; the caller must be joined to it and
 * it must be the handoff's room. Clinical content (items, read-backs, questions, answers, override
 * reasons, incident descriptions) is never in these bodies: the widget sends it as an encrypted
 * room event and the call names that event, which the handoff bot reads and checks itself.
 */

const eventId = z.string().regex(/^\$/, "must be an event id");
const RoomScoped = z.object({ room_id: roomId });

/** Start a handoff to `incoming` on `unit` (the unit of the room it is started from when omitted). */
export const StartHandoffBody = RoomScoped.extend({ unit: z.string().min(1).optional(), incoming: matrixUserId });
/** An encrypted item, read-back, question or answer event the widget has just sent in the handoff room. */
export const HandoffEventBody = RoomScoped.extend({ event_id: eventId });
export const HandoffRoomBody = RoomScoped;
export const OrderBody = RoomScoped.extend({ entry_ids: z.array(clientId).min(1).max(200) });
export const ChecklistBody = RoomScoped.extend({ index: z.number().int().min(0), done: z.boolean() });
/**
 * An override must give its reason as an encrypted `health.rounds.handoff.note` (kind override)
 * sent in the handoff room beforehand; the body names that event.
 */
export const SignOffBody = RoomScoped.extend({ override_event_id: eventId.optional() });
export const CancelHandoffBody = RoomScoped.extend({ note_event_id: eventId.optional() });
export const IncidentBody = RoomScoped.extend({
  entry_id: clientId,
  category: z.enum(INCIDENT_CATEGORIES),
  /** An encrypted note (kind incident) describing what happened, if any. */
  note_event_id: eventId.optional(),
});

export interface HandoffEntryView {
  entry_id: string;
  /** The patient's number, given once and kept through removals and reorders; text commands use it. Entries come in list order. */
  number: number;
  version: number;
  /** The current version's encrypted item event, then the earlier versions, newest first. */
  item_event_id: string;
  history: string[];
  presented_by: string;
  presented_ts: number;
  read_back: boolean;
  readback_event_id: string | null;
  readback_by: string | null;
  readback_ts: number | null;
}

export interface HandoffQuestionView {
  number: number;
  entry_id: string;
  event_id: string;
  asked_by: string;
  asked_ts: number;
  answer_event_id: string | null;
  answered_by: string | null;
  answered_ts: number | null;
}

export interface HandoffTaskView {
  task_id: string;
  entry_id: string;
  item_event_id: string;
  owner: string;
  due_ts: number | null;
  status: "open" | "done" | "removed";
  transferred_from: string | null;
  transferred_ts: number | null;
}

export interface HandoffChecklistView {
  label: string;
  done: boolean;
  by: string | null;
  ts: number | null;
}

export interface HandoffSignOffView {
  user_id: string;
  ts: number;
  /** The encrypted reason, when this sign-off overrode what was outstanding. */
  override_event_id: string | null;
  outstanding: Outstanding | null;
}



export type HandoffView = HandoffState & {
  room_id: string;
  /** The unit's IANA time zone: the widgets show the handoff's times in it. */
  time_zone: string;
  entries: HandoffEntryView[];
  questions: HandoffQuestionView[];
  tasks: HandoffTaskView[];
  checklist: HandoffChecklistView[];
  sign_offs: HandoffSignOffView[];
  outstanding: Outstanding;
  duration_s: number | null;
};

export interface HandoffResponse {
  handoff: HandoffView;
}
export interface UnitsResponse {
  /** room_id: the unit's own room, if it has one, so a widget there can default to its unit. */
  units: { id: string; name: string; template: HandoffTemplate; checklist: string[]; room_id: string | null }[];
}
/** Whom a handoff on the unit most likely goes to: the roster's next shift, then the unit room's members. Ids only. */
export interface UnitPeopleResponse {
  people: string[];
}
export interface IncidentResponse {
  handoff: HandoffView;
  /** The incident report's number. */
  incident: number;
}
export interface MyHandoffsResponse {
  active: HandoffView[];
  /** Completed or cancelled handoffs the user took part in, newest first. */
  recent: HandoffView[];
  /** Open tasks the user owns, across handoffs. */
  tasks: (HandoffTaskView & { handoff_id: string; handoff_number: number; room_id: string })[];
}
export interface UnitQuality {
  unit: string;
  handoffs: number;
  duration_p50_s: number | null;
  duration_p90_s: number | null;
  /** Patients read back at sign-off, over all patients handed over; null with no patients. */
  read_back_share: number | null;
  questions_per_handoff: number | null;
  overrides: number;
  overdue: number;
}
export interface HandoffMetricsResponse {
  since: string;
  units: UnitQuality[];
}
