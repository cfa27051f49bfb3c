import type { HandoffItemContent, IncidentCategory } from "../shared/events/index.js";
import type { HandoffMetricsResponse, HandoffView, MyHandoffsResponse } from "../shared/handoffApi.js";
import { type HandoffUnit } from "./handoffUnitSchema.js";

/** An encrypted event a widget sent in a handoff room, as the handoff bot read it. */
export interface SentEvent {
  roomId: string;
  eventId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  encrypted: boolean;
}

/** The item sections a text command gives: a new patient's whole item, or the sections an edit replaces. */
export type ItemSections = Partial<
  Pick<HandoffItemContent, "patient_ref" | "label" | "sbar" | "ipass" | "critical_alerts" | "tasks" | "medication_changes" | "recent_events" | "code_status" | "contingencies">
>;

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  refs: Record<string, unknown>;
}

/**
 * What the adapters (bot commands, widget API, admin API, timers) may ask of the handoff domain
 * service. Every method validates its input and throws HandoffError with a plain-language
 * message when it refuses; a refusal changes nothing. `txnKey` names a text command's event, so a
 * retried command sends each event once.
 */
export interface HandoffActions {
  // Units
  saveUnit(input: unknown): Promise<HandoffUnit>;
  listUnits(): Promise<HandoffUnit[]>;

  // Lifecycle
  /** `requestId`: the command's event id, so a retried start finishes its own handoff instead of calling it "already open". */
  start(input: { actor: string; incoming: string; unit?: string; sourceRoomId: string; scheduledFor?: Date }, requestId?: string): Promise<HandoffView>;
  get(id: string): Promise<HandoffView>;
  /** The open handoff of a handoff room, else its latest; null when the room is not a handoff room. */
  inRoom(roomId: string): Promise<HandoffView | null>;

  // Events a widget sent (the widget API and the inbox both deliver them; each is recorded once)
  recordItem(actor: string, event: SentEvent): Promise<HandoffView>;
  recordReadBack(actor: string, event: SentEvent): Promise<HandoffView>;
  recordQuestion(actor: string, event: SentEvent): Promise<HandoffView>;
  recordAnswer(actor: string, event: SentEvent): Promise<HandoffView>;

  // The same steps for text-only clients: the bot sends the encrypted event on the clinician's behalf
  /** A new patient (no entryNumber) or an edit of patient `entryNumber` replacing the given sections. */
  presentItem(id: string, actor: string, input: { entryNumber?: number; sections: ItemSections }, txnKey: string): Promise<HandoffView>;
  readBack(id: string, actor: string, entryNumber: number, summary: string, txnKey: string): Promise<HandoffView>;
  ask(id: string, actor: string, entryNumber: number, text: string, txnKey: string): Promise<HandoffView>;
  /** `txnKey` names the request (a command's event id): a retried answer finishes instead of being refused. */
  answer(id: string, actor: string, questionNumber: number, text: string, txnKey: string): Promise<HandoffView>;
  /** The current version of patient `entryNumber`, decrypted by the bot, for `!handoff show`. */
  readItem(id: string, entryNumber: number, actor?: string): Promise<HandoffItemContent | null>;

  /** `requestId`: the command's event id, so a retried removal finishes instead of finding the patient gone. */
  removeEntry(id: string, actor: string, entryId: string, requestId?: string): Promise<HandoffView>;
  /** The patient this request already took off the list, if it did: a retry names it by that, not by the list it changed. */
  removedBy(id: string, requestId: string | undefined): Promise<{ entry_id: string; number: number } | null>;
  reorder(id: string, actor: string, entryIds: string[]): Promise<HandoffView>;
  setChecklist(id: string, actor: string, index: number, done: boolean): Promise<HandoffView>;
  /**
   * An override needs a reason: an encrypted note event the widget sent, or text the bot posts
   * encrypted. `requestId`: the command's event id, so a retried command finishes what it started
   * instead of being refused.
   */
  signOff(id: string, actor: string, override?: { noteEventId: string } | { reason: string; txnKey: string }, requestId?: string): Promise<HandoffView>;
  cancel(id: string, actor: string, note?: { noteEventId: string } | { reason: string; txnKey: string }, requestId?: string): Promise<HandoffView>;
  reportIncident(
    id: string,
    actor: string,
    /** requestKey names the request (a command's event id): the same key twice is one incident. */
    input: { entryId: string; category: IncidentCategory; note?: { noteEventId: string } | { description: string; txnKey: string }; requestKey?: string },
  ): Promise<{ handoff: HandoffView; incident: number }>;

  // Tasks and overviews
  forUser(userId: string): Promise<MyHandoffsResponse>;
  /** Marks an open task the actor owns as done; the same `requestId` again answers as its first success. */
  completeTask(handoffId: string, actor: string, taskId: string, requestId?: string): Promise<HandoffView>;
  /** The task this request already marked done, if it did: a retry finishes that one, whatever moved up to its number. */
  taskDoneBy(actor: string, requestId: string | undefined): Promise<{ handoff_id: string; handoff_number: number; task_id: string } | null>;
  /** The task's text, read back from its encrypted item (for the owner's own encrypted room). */
  taskText(handoffId: string, taskId: string): Promise<string | null>;
  quality(since: Date, unit?: string): Promise<HandoffMetricsResponse>;
  audit(id: string): Promise<AuditEntry[]>;
}
