import { createHash } from "node:crypto";
import { DateTime } from "luxon";
import { ulid } from "ulid";
import { CommandEffects } from "../db/commandEffects.js";
import type { Db } from "../db/connect.js";
import type { Logger } from "../logging.js";
import { KeyedLock } from "../shared/keyedLock.js";
import type { Notifier } from "../ports/notifier.js";
import type { RoomWidget, RoomWriter } from "../ports/roomWriter.js";
import { quote } from "../shared/quote.js";
import {
  BOT_PREFIX,
  HandoffAnswerContentSchema,
  HandoffEventType,
  HandoffItemContentSchema,
  HandoffNoteContentSchema,
  HandoffQuestionContentSchema,
  HandoffReadBackContentSchema,
  HandoffStateSchema,
  HandoffUnitSchema,
  INCIDENT_CATEGORIES,
  matrixUserId,
  StateType,
  type HandoffItemContent,
  type HandoffState,
  type HandoffUnit,
  type IncidentCategory,
} from "../shared/events.js";
import type { HandoffMetricsResponse, HandoffView, MyHandoffsResponse, Outstanding } from "../shared/handoffApi.js";
import type { TimerRow, TimerStore } from "../timers/timerStore.js";
import type { AuditEntry, HandoffActions, ItemSections, SentEvent } from "./handoffActions.js";
import { HandoffError } from "./handoffErrors.js";
import { isClear, itemText, opening, outstandingText, plural, time } from "./handoffMessages.js";
import { qualityOf } from "./handoffQuality.js";
import { handoffReportSummary, renderHandoffReport, type HandoffReportInput } from "./handoffReport.js";
import { OPEN_STATUSES, type Entry, type Handoff, type HandoffStore } from "./handoffStore.js";
import type { HandoffMetrics } from "./handoffMetrics.js";

export { HandoffError } from "./handoffErrors.js";

export const TIMER_HANDOFF_DEADLINE = "handoff.deadline";
export const TIMER_HANDOFF_ESCALATE = "handoff.escalate";
/** Armed in the completing transaction and due at once: the report is written even after a crash. */
export const TIMER_HANDOFF_REPORT = "handoff.report";
/** Armed with each transition and cancelled once its state is out; finishes it after a crash. */
export const TIMER_HANDOFF_SETTLE = "handoff.settle";
/** A transferred task's due time: the owner is reminded in the handoff room. */
export const TIMER_HANDOFF_TASK = "handoff.task";
const SETTLE_AFTER_MS = 30_000;
const MINUTE_MS = 60_000;
const RECENT_LIMIT = 20;
/** A shift change is still acted on this long after it passed (a restart, a slow tick). */
const SHIFT_CATCH_UP_MS = 30 * MINUTE_MS;

export interface HandoffOptions {
  /** Default minutes to sign off, for units that set none. */
  deadlineMinutes: number;
  /** Default minutes after the reminder before the charge role is told. */
  escalateAfterMinutes: number;
  handoffWidgetUrl: string;
  unitWidgetUrl: string;
  /** The handoff bot's own user id: events it sent for text-only clients are trusted. */
  botUserId: string;
}

/** Who holds a schedule service's levels: the on-call resolver, for rosters and charge roles. */
export interface HandoffDirectory {
  whoIsOnCall(service: string, at: Date): Promise<{ levels: { level: string; userId: string }[] }>;
}

export interface HandoffDeps {
  store: HandoffStore;
  oncall: HandoffDirectory;
  timers: TimerStore;
  wakeTimers(): void;
  rooms: RoomWriter;
  notifier: Notifier;
  /** Whether the homeserver knows the user; refuses handoffs to mistyped ids. */
  userExists(userId: string): Promise<boolean>;
  options: HandoffOptions;
  log: Logger;
  metrics: HandoffMetrics;
  now?: () => Date;
}

type Note = { noteEventId: string } | { reason: string; txnKey: string };

/**
 * The handoff domain service. Every step of a shift handoff (start, items, read-backs, questions,
 * checklist, sign-off, deadlines, report) goes through here, whatever the adapter. Transitions are
 * guarded in the database and serialised per handoff in process; the state event is rewritten from
 * the rows after each one. Clinical content stays in encrypted room events: the rows hold their ids.
 */
/** What opening a handoff needs; `requestId` names the command that asked for it, if any. */
type OpenRequest = { unit: HandoffUnit; outgoing: string; incoming: string; startedBy: string; sourceRoomId: string | null; scheduledFor: Date | null; requestId?: string };

export class HandoffService implements HandoffActions {
  private readonly lock = new KeyedLock();
  private readonly now: () => Date;

  /** Which command made which transition, so a retried command is told from someone else's. */
  private readonly effects: CommandEffects;

  constructor(private readonly deps: HandoffDeps) {
    this.now = deps.now ?? (() => new Date());
    this.effects = new CommandEffects(deps.store.db);
  }

  // --- units ---------------------------------------------------------------------------------

  async saveUnit(input: unknown): Promise<HandoffUnit> {
    const parsed = HandoffUnitSchema.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HandoffError("invalid_input", `${i.path.join(".") || "unit"}: ${i.message}`);
    }
    const unit = parsed.data;
    if (!isValidZone(unit.timezone)) throw new HandoffError("invalid_input", `timezone: "${quote(unit.timezone)}" is not a time zone such as Europe/London`);
    for (const svc of [unit.roster?.service, unit.charge?.service].filter((s): s is string => !!s)) {
      await this.deps.oncall.whoIsOnCall(svc, this.now()).catch(() => {
        throw new HandoffError("invalid_input", `There is no on-call service "${quote(svc)}". Import the schedule first, or name users for the charge role.`);
      });
    }
    await this.deps.store.saveUnit(unit, this.now());
    if (unit.room_id) {
      // The unit room gets the dashboard widget when the bot may pin it; otherwise it is added by hand.
      await this.deps.rooms.installWidget(unit.room_id, this.unitWidget(unit)).catch((err: unknown) =>
        this.deps.log.warn({ unit: unit.id, err: (err as Error).message }, "handoff: could not pin the widget in the unit room (the bot needs to be invited, with power to change widgets)"),
      );
    }
    return unit;
  }

  listUnits(): Promise<HandoffUnit[]> {
    return this.deps.store.units();
  }

  // --- start ---------------------------------------------------------------------------------

  async start(input: { actor: string; incoming: string; unit?: string; sourceRoomId: string; scheduledFor?: Date }, requestId?: string): Promise<HandoffView> {
    const incoming = typeof input.incoming === "string" ? input.incoming.trim() : "";
    if (!matrixUserId.safeParse(incoming).success) throw new HandoffError("invalid_input", `Name the incoming clinician by their Matrix id, e.g. @alice:hospital.example.org.`);
    if (incoming === input.actor) throw new HandoffError("invalid_input", "You cannot hand off to yourself. Name the clinician who takes over from you.");
    if (incoming.startsWith(BOT_PREFIX)) throw new HandoffError("invalid_input", "Hand off to a clinician, not to a Rounds bot.");
    const unit = await this.findUnit(input.unit, input.sourceRoomId);
    if (!(await this.deps.userExists(incoming))) throw new HandoffError("unknown_user", `${quote(incoming)} is not a known user. Check the spelling of their Matrix id.`);
    return this.open({ unit, outgoing: input.actor, incoming, startedBy: input.actor, sourceRoomId: input.sourceRoomId, scheduledFor: input.scheduledFor ?? null, requestId });
  }

  private open(p: OpenRequest): Promise<HandoffView> {
    // Two starts for the same pair at once (a double click, a command and a widget) make one handoff.
    return this.lock.run(`start:${p.unit.id}:${p.outgoing}:${p.incoming}`, () => this.openOnce(p));
  }

  private async openOnce(p: OpenRequest): Promise<HandoffView> {
    const { store } = this.deps;
    const existing = await store.openBetween(p.unit.id, p.outgoing, p.incoming);
    // This request's own handoff, retried after a failure part-way: finish opening it.
    if (existing && (await this.effects.made(p.requestId, existing.id, "started"))) return this.opened(existing);
    if (existing) {
      throw new HandoffError("invalid_transition", `Handoff #${existing.number} from ${p.outgoing} to ${p.incoming} on ${p.unit.name} is already open. Continue it in its room.`);
    }
    const at = this.now();
    const base = p.scheduledFor && p.scheduledFor > at ? p.scheduledFor : at;
    const deadline = new Date(base.getTime() + (p.unit.deadline_minutes ?? this.deps.options.deadlineMinutes) * MINUTE_MS);
    const id = ulid();
    const h = await store.db.transaction(async (trx) => {
      const created = await store.create(
        { id, unitId: p.unit.id, template: p.unit.template, mode: p.unit.mode, outgoing: p.outgoing, incoming: p.incoming, startedBy: p.startedBy, sourceRoomId: p.sourceRoomId, checklist: p.unit.checklist, scheduledFor: p.scheduledFor, deadline, at },
        trx,
      );
      await this.deps.timers.schedule(TIMER_HANDOFF_DEADLINE, id, "0", deadline, trx);
      // If the room is not made (a crash), the settle timer makes it.
      await this.armSettle(id, trx);
      await store.audit(id, "started", p.startedBy, at, { unit: p.unit.id, outgoing: p.outgoing, incoming: p.incoming, scheduled_for: p.scheduledFor?.toISOString() ?? null }, trx);
      await this.effects.record(p.requestId, id, "started", trx);
      return created;
    });
    this.deps.wakeTimers();
    this.count(h, "started");
    return this.opened(h);
  }

  /** A new handoff's room, opening message and state, made or finished (each step is keyed). */
  private async opened(h: Handoff): Promise<HandoffView> {
    const ready = await this.lock.run(h.id, () => this.ensureRoom(h));
    await this.settled(h.id);
    return this.view(ready);
  }

  /** Creates the handoff room and its opening message, or finishes doing so; every step is keyed. */
  private async ensureRoom(h: Handoff): Promise<Handoff> {
    const unit = await this.unitOf(h);
    let roomId = h.roomId;
    if (!roomId) {
      roomId = await this.deps.rooms.openRoom(`handoff:${h.id}`, {
        // No PHI in a room name: the unit and the number only.
        name: `Handoff #${h.number} · ${unit.name}`,
        members: [h.outgoing, h.incoming],
        initialState: [
          { type: StateType.Handoff, stateKey: h.id, content: this.stateOf(h, await this.counts(h), unit.name) },
          ...this.deps.rooms.widgetState(this.handoffWidget(h)),
        ],
      });
      await this.deps.store.update(h.id, { room_id: roomId });
    }
    let anchor = h.anchorEventId;
    if (!anchor) {
      anchor = await this.deps.rooms.send(
        roomId,
        {
          body: opening({ number: h.number, unitName: unit.name, outgoing: h.outgoing, incoming: h.incoming, deadline: h.deadline, timezone: unit.timezone, template: h.template, mode: h.mode, location: unit.location }),
          mentions: [h.outgoing, h.incoming],
        },
        `handoff:${h.id}:opening`,
      );
      await this.deps.store.update(h.id, { anchor_event_id: anchor });
    }
    const now = (await this.deps.store.get(h.id))!;
    await this.mirror(now);
    return now;
  }

  // --- reading -------------------------------------------------------------------------------

  async get(id: string): Promise<HandoffView> {
    return this.view(await this.load(id));
  }

  async inRoom(roomId: string): Promise<HandoffView | null> {
    const h = await this.deps.store.inRoom(roomId);
    return h ? this.view(h) : null;
  }

  async readItem(id: string, entryNumber: number, actor?: string): Promise<HandoffItemContent | null> {
    const h = await this.load(id);
    // The two clinicians, and a charge role called in, may have the bot show an item; nobody else.
    if (actor && actor !== h.outgoing && actor !== h.incoming && !h.escalatedTo.includes(actor)) {
      throw new HandoffError("forbidden", `Only ${h.outgoing} and ${h.incoming} can read the items of handoff #${h.number}.`);
    }
    const entry = await this.entryByNumber(h, entryNumber);
    return this.itemContent(h, entry.itemEventId);
  }

  // --- items ---------------------------------------------------------------------------------

  async recordItem(actor: string, event: SentEvent): Promise<HandoffView> {
    const recorded = await this.recordedBefore(actor, event, HandoffEventType.Item);
    if (recorded) return recorded;
    const h = await this.fromEvent(actor, event, HandoffEventType.Item);
    const content = parseContent(HandoffItemContentSchema, event.content, "handoff item");
    return this.lock.run(h.id, () => this.applyItem(h.id, actor, event.eventId, content));
  }

  async presentItem(id: string, actor: string, input: { entryNumber?: number; sections: ItemSections }, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.lock.run(id, async () => {
      const h = await this.loadOpen(id);
      this.mustBeOutgoing(h, actor);
      let content: Record<string, unknown>;
      if (input.entryNumber === undefined) {
        // Derived from the command, so a retried command makes the same patient, not a second one.
        content = { ...input.sections, handoff_id: h.id, entry_id: entryIdFor(txnKey), version: 1, template: h.template, presented_by: actor };
      } else {
        const entry = await this.entryByNumber(h, input.entryNumber);
        const current = await this.itemContent(h, entry.itemEventId);
        if (!current) throw new HandoffError("invalid_transition", `Rounds cannot read patient ${input.entryNumber}'s current version, so it cannot edit it. Send the whole item again with !handoff add, then remove the old one.`);
        const { replaces: _r, presented_by: _p, ...rest } = current;
        content = { ...rest, ...input.sections, version: entry.version + 1, replaces: entry.itemEventId, presented_by: actor };
      }
      const parsed = parseContent(HandoffItemContentSchema, content, "handoff item");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Item, { ...parsed, "m.relates_to": { rel_type: "m.reference", event_id: h.anchorEventId } }, `handoff:${txnKey}:item`);
      return this.applyItem(h.id, actor, eventId, parsed);
    });
  }

  private async applyItem(id: string, actor: string, eventId: string, content: HandoffItemContent): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.loadOpen(id);
    this.mustBeOutgoing(h, actor);
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That item belongs to another handoff than #${h.number}.`);
    if (content.template !== h.template) throw new HandoffError("invalid_input", `Handoff #${h.number} uses the ${h.template === "ipass" ? "I-PASS" : "SBAR"} template; send the item in that format.`);
    const at = this.now();
    let cleared = 0;
    let invalidatedReadBack = false;
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "item", trx))) return false;
      const entry = await store.entry(h.id, content.entry_id, trx);
      if (!entry) {
        if (content.version !== 1) throw new HandoffError("invalid_input", "That edit names a patient that is not on this handoff's list.");
        await store.insertEntry(h.id, { entryId: content.entry_id, itemEventId: eventId, presentedBy: actor, at }, trx);
      } else {
        if (entry.removedAt) throw new HandoffError("invalid_transition", "That patient was removed from the list. Add them again as a new patient.");
        if (content.version !== entry.version + 1 || content.replaces !== entry.itemEventId) {
          throw new HandoffError("invalid_transition", `That patient was changed since you opened it (now version ${entry.version}). Reload and edit the latest version.`);
        }
        if (!(await store.newVersion(h.id, entry.entryId, entry.version, { itemEventId: eventId, history: [entry.itemEventId, ...entry.history], presentedBy: actor, at }, trx))) {
          throw new HandoffError("invalid_transition", "That patient was changed at the same moment. Reload and try again.");
        }
        invalidatedReadBack = entry.readbackVersion === entry.version;
      }
      await store.syncTasks(
        h.id,
        content.entry_id,
        eventId,
        content.tasks.map((t) => ({ taskId: t.id, owner: t.owner ?? h.outgoing, dueAt: t.due_ts ? new Date(t.due_ts) : null })),
        trx,
      );
      await this.armTaskTimers(h.id, content, trx);
      // A sign-off vouches for the list as it was: a changed list needs signing again.
      cleared = await this.withdrawSignOffs(h.id, trx);
      await store.update(h.id, { status: "presenting" }, { statuses: OPEN_STATUSES, trx });
      await store.audit(h.id, content.version === 1 ? "presented" : "edited", actor, at, { entry_id: content.entry_id, version: content.version, event_id: eventId }, trx);
      await this.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    // The same event again (a retried command): its messages and state are finished, each once.
    if (recorded || (await this.recordedHere(h.id, eventId))) {
      const number = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      await this.say(now, { body: itemText(number, content, actor) }, `item:${eventId}`);
      if (invalidatedReadBack) await this.say(now, { body: `Patient ${number} changed after its read-back: ${now.incoming}, read it back again.`, mentions: [now.incoming] }, `item:${eventId}:reread`);
      if (cleared) await this.say(now, { body: `The list changed, so the sign-offs so far are withdrawn. Sign off again when ready.` }, `item:${eventId}:unsigned`);
      await this.mirror(now);
      await this.settled(h.id);
    }
    return this.view(now);
  }

  async removeEntry(id: string, actor: string, entryId: string, requestId?: string): Promise<HandoffView> {
    return this.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      this.mustBeOutgoing(h, actor);
      const at = this.now();
      const entry = await store.entry(h.id, entryId);
      // This request's own removal, retried after a failure part-way: finish its message and state.
      const own = entry?.removedAt ? await this.effects.made(requestId, effectKey(h.id, entryId), "patient_removed") : false;
      if (!entry || (entry.removedAt && !own)) throw new HandoffError("not_found", "That patient is not on the list (it may have been removed already).");
      if (!own) {
        const removed = await store.db.transaction(async (trx) => {
          if (!(await store.removeEntry(h.id, entryId, at, trx))) return false;
          await store.removeEntryTasks(h.id, entryId, trx);
          await this.withdrawSignOffs(h.id, trx);
          await store.audit(h.id, "removed", actor, at, { entry_id: entryId, patient: entry.number }, trx);
          await this.effects.record(requestId, effectKey(h.id, entryId), "patient_removed", trx);
          await this.armSettle(h.id, trx);
          return true;
        });
        if (!removed) throw new HandoffError("not_found", "That patient is not on the list (it may have been removed already).");
      }
      const now = (await store.get(h.id))!;
      await this.say(
        now,
        { body: `Patient ${entry.number} was removed from the list by ${actor}; questions about them no longer hold up the sign-off, and any sign-offs so far are withdrawn.`, notice: true },
        `remove:${h.id}:${entryId}`,
      );
      await this.mirror(now);
      await this.settled(h.id);
      return this.view(now);
    });
  }

  async removedBy(id: string, requestId: string | undefined): Promise<{ entry_id: string; number: number } | null> {
    const key = await this.effects.objectOf(requestId, "patient_removed");
    const [handoffId, entryId] = key ? splitEffectKey(key) : [];
    if (handoffId !== id || !entryId) return null;
    const entry = await this.deps.store.entry(id, entryId);
    return entry ? { entry_id: entry.entryId, number: entry.number } : null;
  }

  async reorder(id: string, actor: string, entryIds: string[]): Promise<HandoffView> {
    return this.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      this.mustBeOutgoing(h, actor);
      const current = (await store.entries(h.id)).map((e) => e.entryId);
      const same = entryIds.length === current.length && new Set(entryIds).size === entryIds.length && entryIds.every((e) => current.includes(e));
      if (!same) throw new HandoffError("invalid_input", `Give every patient on the list once, in the new order (the list has ${plural(current.length, "patient")}).`);
      await store.db.transaction(async (trx) => {
        await store.setPositions(h.id, entryIds, trx);
        await store.audit(h.id, "reordered", actor, this.now(), { entry_ids: entryIds }, trx);
      });
      // The state holds no order, so there is nothing to mirror.
      return this.view((await store.get(h.id))!);
    });
  }

  // --- read-backs, questions, answers --------------------------------------------------------

  async recordReadBack(actor: string, event: SentEvent): Promise<HandoffView> {
    const recorded = await this.recordedBefore(actor, event, HandoffEventType.ReadBack);
    if (recorded) return recorded;
    const h = await this.fromEvent(actor, event, HandoffEventType.ReadBack);
    const content = parseContent(HandoffReadBackContentSchema, event.content, "read-back");
    return this.lock.run(h.id, () => this.applyReadBack(h.id, actor, event.eventId, content));
  }

  async readBack(id: string, actor: string, entryNumber: number, summary: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.lock.run(id, async () => {
      const h = await this.loadOpen(id);
      this.mustBeIncoming(h, actor, "read back");
      const entry = await this.entryByNumber(h, entryNumber);
      const content = parseContent(HandoffReadBackContentSchema, { handoff_id: h.id, entry_id: entry.entryId, item_event_id: entry.itemEventId, summary, by: actor }, "read-back");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.ReadBack, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: entry.itemEventId } }, `handoff:${txnKey}:readback`);
      return this.applyReadBack(h.id, actor, eventId, content);
    });
  }

  private async applyReadBack(id: string, actor: string, eventId: string, content: { handoff_id: string; entry_id: string; item_event_id: string }): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.loadOpen(id);
    this.mustBeIncoming(h, actor, "read back");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That read-back belongs to another handoff than #${h.number}.`);
    const at = this.now();
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "readback", trx))) return false;
      const entry = await store.entry(h.id, content.entry_id, trx);
      if (!entry || entry.removedAt) throw new HandoffError("not_found", "That patient is not on the list any more.");
      if (entry.itemEventId !== content.item_event_id) {
        throw new HandoffError("invalid_transition", `That patient was changed since you read it (now version ${entry.version}). Read the latest version back.`);
      }
      await store.setReadBack(h.id, entry.entryId, { eventId, by: actor, version: entry.version, at }, trx);
      await store.audit(h.id, "read_back", actor, at, { entry_id: entry.entryId, version: entry.version, event_id: eventId }, trx);
      await this.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    if (recorded || (await this.recordedHere(h.id, eventId))) {
      const number = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      await this.say(now, { body: `${actor} read back patient ${number}.`, notice: true }, `readback:${eventId}`);
      await this.mirror(now);
      await this.settled(h.id);
    }
    return this.view(now);
  }

  async recordQuestion(actor: string, event: SentEvent): Promise<HandoffView> {
    const recorded = await this.recordedBefore(actor, event, HandoffEventType.Question);
    if (recorded) return recorded;
    const h = await this.fromEvent(actor, event, HandoffEventType.Question);
    const content = parseContent(HandoffQuestionContentSchema, event.content, "question");
    return this.lock.run(h.id, () => this.applyQuestion(h.id, actor, event.eventId, content));
  }

  async ask(id: string, actor: string, entryNumber: number, text: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.lock.run(id, async () => {
      const h = await this.loadOpen(id);
      this.mustBeParticipant(h, actor, "ask questions on");
      const entry = await this.entryByNumber(h, entryNumber);
      const content = parseContent(HandoffQuestionContentSchema, { handoff_id: h.id, entry_id: entry.entryId, text, by: actor }, "question");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Question, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: entry.itemEventId } }, `handoff:${txnKey}:question`);
      return this.applyQuestion(h.id, actor, eventId, content);
    });
  }

  private async applyQuestion(id: string, actor: string, eventId: string, content: { handoff_id: string; entry_id: string; text: string }): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.loadOpen(id);
    this.mustBeParticipant(h, actor, "ask questions on");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That question belongs to another handoff than #${h.number}.`);
    const at = this.now();
    let number = 0;
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "question", trx))) return false;
      const entry = await store.entry(h.id, content.entry_id, trx);
      if (!entry || entry.removedAt) throw new HandoffError("not_found", "That patient is not on the list any more.");
      number = await store.addQuestion(h.id, { entryId: entry.entryId, eventId, askedBy: actor, at }, trx);
      await store.audit(h.id, "question", actor, at, { entry_id: entry.entryId, question: number, event_id: eventId }, trx);
      await this.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    if (recorded) this.deps.metrics.handoffQuestions.inc({ unit: h.unitId });
    else if (await this.recordedHere(h.id, eventId)) number = (await store.questions(h.id)).find((q) => q.eventId === eventId)?.number ?? 0;
    if (recorded || number) {
      const patient = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      const other = actor === h.outgoing ? h.incoming : h.outgoing;
      await this.say(now, { body: `Question Q${number} on patient ${patient} from ${actor}: ${content.text}\nAnswer with !handoff answer ${number} <answer>.`, mentions: [other] }, `question:${eventId}`);
      await this.mirror(now);
      await this.settled(h.id);
    }
    return this.view(now);
  }

  async recordAnswer(actor: string, event: SentEvent): Promise<HandoffView> {
    const recorded = await this.recordedBefore(actor, event, HandoffEventType.Answer);
    if (recorded) return recorded;
    const h = await this.fromEvent(actor, event, HandoffEventType.Answer);
    const content = parseContent(HandoffAnswerContentSchema, event.content, "answer");
    return this.lock.run(h.id, () => this.applyAnswer(h.id, actor, event.eventId, content));
  }

  async answer(id: string, actor: string, questionNumber: number, text: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.lock.run(id, async () => {
      const h = await this.loadOpen(id);
      this.mustBeParticipant(h, actor, "answer questions on");
      const q = (await this.deps.store.questions(h.id)).find((x) => x.number === questionNumber);
      if (!q) throw new HandoffError("not_found", `Handoff #${h.number} has no question Q${questionNumber}. Send !handoff status to see the open ones.`);
      // This request's own answer, retried after a failure part-way: finish telling people.
      if (q.answerEventId && q.answeredBy === actor && (await this.effects.made(txnKey, q.eventId, "answered"))) return this.afterAnswer(h.id, actor, q.answerEventId);
      // Refused before the answer is posted: a refusal leaves no stray answer in the room.
      if (q.answerEventId) throw new HandoffError("invalid_transition", `Question Q${q.number} was already answered by ${q.answeredBy}.`);
      if (q.askedBy === actor) throw this.ownQuestion(h, q.number, q.askedBy);
      const content = parseContent(HandoffAnswerContentSchema, { handoff_id: h.id, question_event_id: q.eventId, text, by: actor }, "answer");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Answer, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: q.eventId } }, `handoff:${txnKey}:answer`);
      return this.applyAnswer(h.id, actor, eventId, content, txnKey);
    });
  }

  private async applyAnswer(id: string, actor: string, eventId: string, content: { handoff_id: string; question_event_id: string; text: string }, requestId?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.loadOpen(id);
    this.mustBeParticipant(h, actor, "answer questions on");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That answer belongs to another handoff than #${h.number}.`);
    const at = this.now();
    let number = 0;
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "answer", trx))) return false;
      const q = (await store.questions(h.id, trx)).find((x) => x.eventId === content.question_event_id);
      if (!q) throw new HandoffError("not_found", "That answer names a question this handoff does not have.");
      if (q.answerEventId) throw new HandoffError("invalid_transition", `Question Q${q.number} was already answered by ${q.answeredBy}.`);
      if (q.askedBy === actor) throw this.ownQuestion(h, q.number, q.askedBy);
      number = q.number;
      if (!(await store.answerQuestion(h.id, q.eventId, { eventId, by: actor, at }, trx))) {
        throw new HandoffError("invalid_transition", `Question Q${q.number} was answered at the same moment. Reload to see the answer.`);
      }
      await store.audit(h.id, "answered", actor, at, { question: q.number, event_id: eventId }, trx);
      await this.effects.record(requestId, q.eventId, "answered", trx);
      await this.armSettle(h.id, trx);
      return true;
    });
    if (!recorded && !(await this.recordedHere(h.id, eventId))) return this.view((await store.get(h.id))!);
    return this.afterAnswer(h.id, actor, eventId, number || undefined, content.text);
  }

  /** An answer's message and state; also when the same answer comes again after a failure part-way. */
  private async afterAnswer(id: string, actor: string, eventId: string, number?: number, text?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const now = (await store.get(id))!;
    const q = number === undefined ? (await store.questions(id)).find((x) => x.answerEventId === eventId) : undefined;
    const body = text ?? (await this.textOf(now, eventId, "text"));
    await this.say(now, { body: `Answer to Q${number ?? q?.number ?? 0} from ${actor}: ${body ?? ""}` }, `answer:${eventId}`);
    await this.mirror(now);
    await this.settled(id);
    return this.view(now);
  }

  // --- checklist, sign-off, cancel, incidents ------------------------------------------------

  async setChecklist(id: string, actor: string, index: number, done: boolean): Promise<HandoffView> {
    return this.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      this.mustBeParticipant(h, actor, "tick the checklist of");
      if (!Number.isInteger(index) || index < 0 || index >= h.checklist.length) {
        throw new HandoffError("invalid_input", h.checklist.length ? `The checklist has items 1 to ${h.checklist.length}.` : `${h.unitId} has no handoff checklist.`);
      }
      const at = this.now();
      const checklist = h.checklist.map((c, i) => (i === index ? { ...c, done, by: done ? actor : null, ts: done ? at.getTime() : null } : c));
      await store.db.transaction(async (trx) => {
        await store.update(h.id, { checklist: JSON.stringify(checklist) }, { statuses: OPEN_STATUSES, trx });
        await store.audit(h.id, done ? "checked" : "unchecked", actor, at, { index, label: checklist[index]!.label }, trx);
        await this.armSettle(h.id, trx);
      });
      const now = (await store.get(h.id))!;
      await this.mirror(now);
      await this.settled(h.id);
      return this.view(now);
    });
  }

  /** `requestId`: the command's event id; the same request again finishes what it left undone. */
  async signOff(id: string, actor: string, override?: Note, requestId?: string): Promise<HandoffView> {
    if (await this.effects.made(requestId, id, "signed_off")) return this.lock.run(id, () => this.finishSignOff(id, actor));
    const h0 = await this.loadOpen(id);
    this.mustBeParticipant(h0, actor, "sign off");
    // Validate before sending anything: a refused sign-off posts no note.
    if (override && "reason" in override && override.reason.trim().length < 5) {
      throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
    }
    return this.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      const signed = await store.signOffs(h.id);
      if (signed.some((s) => s.userId === actor)) throw new HandoffError("invalid_transition", `You have already signed off handoff #${h.number}; waiting for ${actor === h.outgoing ? h.incoming : h.outgoing}.`);
      const outstanding = await this.outstanding(h);
      const clear = isClear(outstanding);
      if (!clear && !override) {
        throw new HandoffError(
          "sign_off_blocked",
          `Handoff #${h.number} cannot be signed off yet: ${outstandingText(outstanding)}. Finish them, or sign off with an override and a reason (!handoff signoff override <reason>).`,
        );
      }
      const noteEventId = !clear && override ? await this.noteEvent(h, actor, "override", override) : null;
      const at = this.now();
      const bothSigned = signed.length + 1 >= 2;
      const entries = await store.entries(h.id);
      const questions = await this.activeQuestions(h.id, entries);
      let moved = 0;
      const ok = await store.db.transaction(async (trx) => {
        if (!(await store.addSignOff(h.id, { userId: actor, at, overrideEventId: noteEventId, outstanding: noteEventId ? outstanding : null }, trx))) return false;
        await store.audit(h.id, "signed_off", actor, at, {}, trx);
        await this.effects.record(requestId, h.id, "signed_off", trx);
        if (noteEventId) {
          await store.audit(h.id, "override", actor, at, { note_event_id: noteEventId, outstanding }, trx);
          await store.update(h.id, { overridden: true }, { trx });
        }
        if (!bothSigned) {
          await store.update(h.id, { status: "signing" }, { statuses: OPEN_STATUSES, trx });
        } else {
          const done = await store.update(
            h.id,
            {
              status: "completed",
              completed_at: at,
              final_patients: entries.length,
              final_read_back: entries.filter((e) => e.readbackVersion === e.version).length,
              final_questions: questions.length,
            },
            { statuses: OPEN_STATUSES, trx },
          );
          if (!done) return false;
          moved = await store.transferTasks(h.id, h.outgoing, h.incoming, at, trx);
          await store.audit(h.id, "tasks_transferred", actor, at, { from: h.outgoing, to: h.incoming, count: moved }, trx);
          await store.audit(h.id, "completed", actor, at, { patients: entries.length }, trx);
          await this.deps.timers.cancelAll(TIMER_HANDOFF_DEADLINE, h.id, trx);
          await this.deps.timers.cancelAll(TIMER_HANDOFF_ESCALATE, h.id, trx);
          await this.deps.timers.schedule(TIMER_HANDOFF_REPORT, h.id, "0", at, trx);
        }
        await this.armSettle(h.id, trx);
        return true;
      });
      if (!ok) throw new HandoffError("invalid_transition", `Handoff #${h.number} changed at the same moment. Reload and try again.`);
      const now = (await store.get(h.id))!;
      if (noteEventId) this.deps.metrics.handoffOverrides.inc({ unit: h.unitId });
      this.count(now, "signed_off");
      if (bothSigned) {
        this.deps.wakeTimers();
        this.count(now, "completed");
        const seconds = (at.getTime() - h.createdAt.getTime()) / 1000;
        this.deps.metrics.handoffDuration.observe({ unit: h.unitId }, seconds);
        const readBack = entries.filter((e) => e.readbackVersion === e.version).length;
        this.deps.metrics.handoffPatients.inc({ unit: h.unitId, read_back: "yes" }, readBack);
        this.deps.metrics.handoffPatients.inc({ unit: h.unitId, read_back: "no" }, entries.length - readBack);
      }
      await this.announceSignOff(now, actor, { completed: bothSigned, overridden: noteEventId !== null, moved });
      await this.mirror(now);
      await this.settled(h.id);
      return this.view(now);
    });
  }

  /** The sign-off's message; keyed, so a retry after a failure part-way sends it once. */
  private async announceSignOff(h: Handoff, actor: string, what: { completed: boolean; overridden: boolean; moved: number }): Promise<void> {
    const { moved } = what;
    if (what.completed) {
      await this.say(
        h,
        { body: `Handoff #${h.number} is complete: signed off by ${h.outgoing} and ${h.incoming}.${moved ? ` ${plural(moved, "pending task")} now belong${moved === 1 ? "s" : ""} to ${h.incoming}.` : ""} The report follows.`, mentions: [h.outgoing, h.incoming] },
        `signoff:${h.id}:${actor}`,
      );
    } else {
      const other = actor === h.outgoing ? h.incoming : h.outgoing;
      await this.say(h, { body: `${actor} signed off handoff #${h.number}${what.overridden ? " with an override" : ""}. Waiting for ${other}.`, mentions: [other] }, `signoff:${h.id}:${actor}`);
    }
  }

  /** A sign-off this command already recorded, retried: what it had left to do, from what was recorded. */
  private async finishSignOff(id: string, actor: string): Promise<HandoffView> {
    const h = await this.load(id);
    const own = (await this.deps.store.signOffs(h.id)).find((x) => x.userId === actor);
    const transferred = h.status === "completed" ? (await this.deps.store.auditOf(h.id)).find((a) => a.action === "tasks_transferred") : undefined;
    await this.announceSignOff(h, actor, { completed: h.status === "completed", overridden: Boolean(own?.overrideEventId), moved: Number(transferred?.refs.count ?? 0) });
    await this.mirror(h);
    await this.settled(h.id);
    return this.view(h);
  }

  async cancel(id: string, actor: string, note?: Note, requestId?: string): Promise<HandoffView> {
    if (await this.effects.made(requestId, id, "cancelled")) {
      return this.lock.run(id, async () => {
        const h = await this.load(id);
        await this.announceCancel(h, actor);
        await this.mirror(h);
        await this.settled(h.id);
        return this.view(h);
      });
    }
    const h0 = await this.loadOpen(id);
    this.mustBeParticipant(h0, actor, "cancel");
    return this.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      const noteEventId = note ? await this.noteEvent(h, actor, "cancel", note) : null;
      const at = this.now();
      const ok = await store.db.transaction(async (trx) => {
        if (!(await store.update(h.id, { status: "cancelled", cancelled_at: at, cancelled_by: actor }, { statuses: OPEN_STATUSES, trx }))) return false;
        await this.deps.timers.cancelAll(TIMER_HANDOFF_DEADLINE, h.id, trx);
        await this.deps.timers.cancelAll(TIMER_HANDOFF_ESCALATE, h.id, trx);
        await store.audit(h.id, "cancelled", actor, at, { note_event_id: noteEventId }, trx);
        await this.effects.record(requestId, h.id, "cancelled", trx);
        await this.armSettle(h.id, trx);
        return true;
      });
      if (!ok) throw new HandoffError("invalid_transition", `Handoff #${h.number} changed at the same moment. Reload and try again.`);
      const now = (await store.get(h.id))!;
      this.count(now, "cancelled");
      await this.announceCancel(now, actor);
      await this.mirror(now);
      await this.settled(h.id);
      return this.view(now);
    });
  }

  private async announceCancel(h: Handoff, actor: string): Promise<void> {
    await this.say(h, { body: `Handoff #${h.number} was cancelled by ${actor}. Pending tasks stay with their owners.`, mentions: [actor === h.outgoing ? h.incoming : h.outgoing] }, `cancel:${h.id}`);
  }

  async reportIncident(
    id: string,
    actor: string,
    input: { entryId: string; category: IncidentCategory; note?: { noteEventId: string } | { description: string; txnKey: string }; requestKey?: string },
  ): Promise<{ handoff: HandoffView; incident: number }> {
    const { store } = this.deps;
    const h = await this.load(id);
    if (actor !== h.outgoing && actor !== h.incoming && !h.escalatedTo.includes(actor)) {
      throw new HandoffError("forbidden", `Only the people in handoff #${h.number} can report an incident from it.`);
    }
    if (!INCIDENT_CATEGORIES.includes(input.category)) throw new HandoffError("invalid_input", `Choose a category: ${INCIDENT_CATEGORIES.join(", ")}.`);
    const entry = await store.entry(h.id, input.entryId);
    if (!entry) throw new HandoffError("not_found", "That patient is not on this handoff's list.");
    const note = input.note && "description" in input.note ? { reason: input.note.description, txnKey: input.note.txnKey } : input.note;
    const noteEventId = note ? await this.noteEvent(h, actor, "incident", note) : null;
    const sourceKey = input.requestKey ? `req:${input.requestKey}` : note && "txnKey" in note ? `txn:${note.txnKey}` : noteEventId ? `note:${noteEventId}` : null;
    const at = this.now();
    const { number, created } = await store.db.transaction(async (trx) => {
      const r = await store.addIncident(
        { handoffId: h.id, entryId: entry.entryId, itemEventId: entry.itemEventId, roomId: h.roomId!, category: input.category, noteEventId, reportedBy: actor, reportedAt: at, sourceKey },
        trx,
      );
      if (r.created) await store.audit(h.id, "incident", actor, at, { incident: r.number, entry_id: entry.entryId, item_event_id: entry.itemEventId, category: input.category, note_event_id: noteEventId }, trx);
      return r;
    });
    // A retried report is the same incident; the reviewers' messages below are keyed by its number.
    if (!created) this.deps.log.info({ handoff: h.id, incident: number }, "handoff: incident reported again; kept as one");
    const unit = await this.unitOf(h);
    const patient = entry.number;
    // Reviewers get a link to the item, not its content: they open it in the room if they may.
    const link = `https://matrix.to/#/${encodeURIComponent(h.roomId!)}/${encodeURIComponent(entry.itemEventId)}`;
    for (const r of unit.incident_reviewers) {
      await this.deps.notifier
        .tellUser(r, `Incident report #${number} (${input.category.replace(/_/g, " ")}) from handoff #${h.number} on ${unit.name}, patient ${patient || "removed"}, by ${actor}. The item: ${link}`, `handoff-incident:${number}:${r}`)
        .catch((err: unknown) => this.deps.log.error({ handoff: h.id, err: (err as Error).message }, "handoff: could not tell an incident reviewer"));
    }
    await this.say(h, { body: `${actor} reported incident #${number} (${input.category.replace(/_/g, " ")}) on patient ${patient || "(removed)"}. It links to the item; nothing was copied out of this room.`, notice: true }, `incident:${number}`);
    return { handoff: await this.view((await store.get(h.id))!), incident: number };
  }

  // --- tasks and overviews -------------------------------------------------------------------

  async forUser(userId: string): Promise<MyHandoffsResponse> {
    const { store } = this.deps;
    const all = await store.forUser(userId, 100);
    const active = all.filter((h) => OPEN_STATUSES.includes(h.status));
    const recent = all.filter((h) => !OPEN_STATUSES.includes(h.status)).slice(0, RECENT_LIMIT);
    const tasks = [];
    const byId = new Map<string, Handoff>();
    for (const t of await store.openTasksOf(userId)) {
      const h = byId.get(t.handoffId) ?? (await store.get(t.handoffId))!;
      byId.set(h.id, h);
      tasks.push({ ...taskView(t), handoff_id: h.id, handoff_number: h.number, room_id: h.roomId ?? "" });
    }
    return { active: await Promise.all(active.map((h) => this.view(h))), recent: await Promise.all(recent.map((h) => this.view(h))), tasks };
  }

  async completeTask(handoffId: string, actor: string, taskId: string, requestId?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.load(handoffId);
    const task = await store.task(h.id, taskId);
    if (!task || task.status === "removed") throw new HandoffError("not_found", "There is no such task. Send !handoff tasks to list yours.");
    if (task.owner !== actor) throw new HandoffError("forbidden", `That task belongs to ${task.owner}; only they can mark it done.`);
    const key = effectKey(h.id, taskId);
    // This request's own completion, retried: nothing is left to do but answer.
    if (task.status === "done" && (await this.effects.made(requestId, key, "task_done"))) return this.view(h);
    if (task.status === "done") throw new HandoffError("invalid_transition", "That task is already done.");
    const at = this.now();
    const done = await store.db.transaction(async (trx) => {
      if (!(await store.completeTask(h.id, taskId, actor, at, trx))) return false;
      await store.audit(h.id, "task_done", actor, at, { task_id: taskId }, trx);
      await this.effects.record(requestId, key, "task_done", trx);
      return true;
    });
    if (!done) throw new HandoffError("invalid_transition", "That task changed at the same moment. Send !handoff tasks to see where it stands.");
    return this.view((await store.get(h.id))!);
  }

  async taskDoneBy(actor: string, requestId: string | undefined): Promise<{ handoff_id: string; handoff_number: number; task_id: string } | null> {
    const key = await this.effects.objectOf(requestId, "task_done");
    const [handoffId, taskId] = key ? splitEffectKey(key) : [];
    if (!handoffId || !taskId) return null;
    const task = await this.deps.store.task(handoffId, taskId);
    const h = await this.deps.store.get(handoffId);
    return task && h && task.owner === actor ? { handoff_id: h.id, handoff_number: h.number, task_id: taskId } : null;
  }

  async taskText(handoffId: string, taskId: string): Promise<string | null> {
    const h = await this.load(handoffId);
    const task = await this.deps.store.task(h.id, taskId);
    if (!task) return null;
    const item = await this.itemContent(h, task.itemEventId);
    return item?.tasks.find((t) => t.id === taskId)?.text ?? null;
  }

  async quality(since: Date, unit?: string): Promise<HandoffMetricsResponse> {
    if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new HandoffError("invalid_input", "Give the start of the period as a date, e.g. 2026-03-01.");
    if (unit && !(await this.deps.store.unit(unit))) throw await this.unknownUnit(unit);
    return qualityOf(await this.deps.store.qualityRows(since), since, unit);
  }

  async audit(id: string): Promise<AuditEntry[]> {
    const h = await this.load(id);
    return this.deps.store.auditOf(h.id);
  }

  /** A handoff by its number, for the CLI and admin API. */
  async byNumber(number: number): Promise<HandoffView> {
    const h = await this.deps.store.byNumber(number);
    if (!h) throw new HandoffError("not_found", `There is no handoff #${number}.`);
    return this.view(h);
  }

  // --- timers --------------------------------------------------------------------------------

  /** The deadline passed: remind both, and arm the escalation to the charge role. */
  async onDeadline(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      const h = await store.get(timer.ref);
      if (!h || !OPEN_STATUSES.includes(h.status)) return;
      const unit = await this.unitOf(h);
      const escalateAt = new Date(this.now().getTime() + (unit.escalate_after_minutes ?? this.deps.options.escalateAfterMinutes) * MINUTE_MS);
      const marked = await store.db.transaction(async (trx) => {
        const ok = await store.update(h.id, { overdue: true }, { statuses: OPEN_STATUSES, trx });
        if (!ok) return false;
        // Scheduling is idempotent; the audit entry is written once even if this timer is retried.
        await this.deps.timers.schedule(TIMER_HANDOFF_ESCALATE, h.id, "0", escalateAt, trx);
        if (!h.overdue) await store.audit(h.id, "deadline_missed", "rounds", this.now(), { deadline: h.deadline.toISOString() }, trx);
        return true;
      });
      if (!marked) return;
      this.deps.wakeTimers();
      const now = (await store.get(h.id))!;
      this.count(now, "overdue");
      const o = await this.outstanding(now);
      const left = isClear(o) ? "only the sign-offs are left" : outstandingText(o);
      const next = unit.charge ? `the charge role on ${unit.name} is told at ${time(escalateAt, unit.timezone)}` : `${unit.name} has no charge role set up to tell, so ask your charge nurse yourselves if you are stuck`;
      await this.say(
        now,
        {
          body: `Reminder: handoff #${h.number} was due to be signed off by ${time(h.deadline, unit.timezone)} and is not (${left}). ${h.outgoing}, ${h.incoming}: finish it now; ${next}.`,
          mentions: [h.outgoing, h.incoming],
        },
        `deadline:${h.id}`,
      );
      await this.mirror(now);
    });
  }

  /** Still not signed off after the reminder: the unit's charge role is told and invited. */
  async onEscalate(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      const h = await store.get(timer.ref);
      if (!h || !OPEN_STATUSES.includes(h.status)) return;
      const unit = await this.unitOf(h);
      // Escalated already: this is a retry after a crash, so only the (keyed) telling is finished.
      const charge = h.escalatedAt ? h.escalatedTo : (await this.chargeOf(unit)).filter((u) => u !== h.outgoing && u !== h.incoming);
      if (!h.escalatedAt) {
        const at = this.now();
        const ok = await store.db.transaction(async (trx) => {
          if (!(await store.update(h.id, { escalated_to: JSON.stringify(charge), escalated_at: at }, { statuses: OPEN_STATUSES, trx }))) return false;
          await store.audit(h.id, "escalated", "rounds", at, { to: charge }, trx);
          return true;
        });
        if (!ok) return;
        this.count(h, "escalated");
      }
      const now = (await store.get(h.id))!;
      if (!charge.length) {
        this.deps.log.warn({ handoff: h.id, unit: unit.id }, "handoff: overdue, but the unit has no charge role to tell");
        await this.say(now, { body: `Handoff #${h.number} is overdue, and ${unit.name} has no charge role set up to tell. Ask your Rounds administrator to set one.`, mentions: [h.outgoing, h.incoming] }, `escalate:${h.id}`);
        await this.mirror(now);
        return;
      }
      const o = await this.outstanding(now);
      const left = isClear(o) ? "waiting for the sign-offs" : outstandingText(o);
      const link = `https://matrix.to/#/${encodeURIComponent(h.roomId ?? "")}`;
      // Invited so they can follow up in the room from now on (earlier messages stay unreadable to them).
      if (h.roomId) await this.deps.rooms.invite(h.roomId, charge);
      for (const u of charge) {
        await this.deps.notifier.tellUser(
          u,
          `Handoff #${h.number} on ${unit.name} (${h.outgoing} to ${h.incoming}) is past its deadline of ${time(h.deadline, unit.timezone)}: ${left}. You are the charge role; you have been invited to its room: ${link}`,
          `handoff-escalate:${h.id}:${u}`,
        );
      }
      await this.say(now, { body: `Handoff #${h.number} is still not signed off: ${charge.join(", ")} (charge) ${charge.length === 1 ? "has" : "have"} been told and invited.`, mentions: [h.outgoing, h.incoming] }, `escalate:${h.id}`);
      await this.mirror(now);
    });
  }

  /** Writes the completion report: an encrypted message and an encrypted Markdown attachment. */
  async onReport(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      const h = await store.get(timer.ref);
      if (!h || h.status !== "completed" || h.reportEventId || !h.roomId) return;
      const input = await this.reportInput(h);
      const markdown = renderHandoffReport(input);
      const eventId = await this.deps.rooms.send(h.roomId, { body: handoffReportSummary(input), mentions: [h.outgoing, h.incoming] }, `handoff:${h.id}:report`);
      await this.deps.rooms.sendFile(
        h.roomId,
        { name: `handoff-${h.number}-report.md`, mimetype: "text/markdown", bytes: new TextEncoder().encode(markdown), body: `Handoff #${h.number} report` },
        `handoff:${h.id}:report-file`,
      );
      await store.update(h.id, { report_event_id: eventId });
      await store.audit(h.id, "report", "rounds", this.now(), { event_id: eventId });
      await this.mirror((await store.get(h.id))!);
    });
  }

  /** A pending task fell due: its owner is reminded in the handoff room. */
  async onTaskDue(timer: TimerRow): Promise<void> {
    const { store } = this.deps;
    const [taskId, due] = timer.step.split("@");
    const h = await store.get(timer.ref);
    const task = h && taskId ? await store.task(h.id, taskId) : null;
    if (!h?.roomId || !task || task.status !== "open" || task.dueAt?.getTime() !== Number(due)) return;
    if (task.owner !== h.outgoing && task.owner !== h.incoming) {
      // Someone outside the handoff room (pharmacy, say): a direct message with a link, no clinical text.
      const entry = await store.entry(h.id, task.entryId);
      await this.deps.notifier.tellUser(
        task.owner,
        `A task handed to you in handoff #${h.number} (patient ${entry?.number ?? "?"}) is due now. Ask ${h.incoming} for the details. To see and close it, send !handoff tasks, then !handoff done <n>, in your Handoffs room (send !handoff to me).`,
        `handoff-task:${h.id}:${timer.step}`,
      );
      return;
    }
    const text = await this.taskText(h.id, task.taskId);
    await this.deps.rooms.send(
      h.roomId,
      { body: `Task due now, ${task.owner}: ${text ?? "(see the item above)"}. Mark it done with !handoff done, or in your Handoffs widget.`, mentions: [task.owner] },
      `handoff-task:${h.id}:${timer.step}`,
    );
  }

  /** Finishes what a transition committed but may not have done: the room and the state event. */
  async onSettle(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const h = await this.deps.store.get(timer.ref);
      if (!h) return;
      if (!h.roomId || !h.anchorEventId) await this.ensureRoom(h);
      else await this.mirror(h);
      this.deps.log.info({ handoff: h.id, status: h.status }, "handoff: settled after an interruption");
    });
  }

  /**
   * Starts the handoffs of every unit whose shift changed in the last half hour and was not handled
   * yet: the cron adapter ticks this each minute, and after a restart it catches up.
   */
  async checkShiftChanges(at: Date = this.now()): Promise<{ unit: string; shiftAt: Date; outcome: string }[]> {
    const out = [];
    for (const unit of await this.deps.store.units()) {
      for (const hhmm of unit.shift_times) {
        const shiftAt = lastOccurrence(hhmm, unit.timezone, at);
        if (at.getTime() - shiftAt.getTime() > SHIFT_CATCH_UP_MS) continue;
        const outcome = await this.onShiftChange(unit, shiftAt);
        if (outcome) out.push({ unit: unit.id, shiftAt, outcome });
      }
    }
    return out;
  }

  /** Once per unit and shift change: the roster's outgoing hands over to its incoming; without a roster, a reminder. */
  async onShiftChange(unit: HandoffUnit, shiftAt: Date): Promise<string | null> {
    const { store } = this.deps;
    if (!(await store.claimShiftChange(unit.id, shiftAt, "pending", this.now()))) return null;
    const hhmm = time(shiftAt, unit.timezone);
    let outcome = "reminded";
    try {
      const pair = unit.roster ? await this.rosterPair(unit, shiftAt) : null;
      if (pair && pair.outgoing !== pair.incoming) {
        // A retried claim (the first attempt crashed or failed part-way) finishes the handoff it opened.
        const earlier = await store.openBetween(unit.id, pair.outgoing, pair.incoming);
        const v =
          earlier && earlier.scheduledFor?.getTime() === shiftAt.getTime()
            ? await this.lock.run(earlier.id, async () => this.view(await this.ensureRoom(earlier)))
            : await this.open({ unit, outgoing: pair.outgoing, incoming: pair.incoming, startedBy: this.deps.options.botUserId, sourceRoomId: unit.room_id ?? null, scheduledFor: shiftAt });
        outcome = `started:${v.number}`;
        const where = unit.mode === "virtual" ? "virtually, in its room" : `face to face${unit.location ? ` in ${unit.location}` : ""}`;
        if (unit.room_id) {
          await this.deps.rooms.send(unit.room_id, { body: `Shift change ${hhmm}: handoff #${v.number} from ${pair.outgoing} to ${pair.incoming} is open, ${where}. Sign off by ${time(new Date(v.deadline_ts), unit.timezone)}.`, mentions: [pair.outgoing, pair.incoming] }, `shift:${unit.id}:${shiftAt.getTime()}`);
        }
      } else if (unit.room_id) {
        await this.deps.rooms.send(unit.room_id, { body: `Shift change ${hhmm} on ${unit.name}: start your handoffs (${unit.mode === "virtual" ? "virtual" : "face to face"}) with !handoff start @incoming or the Handoffs widget.`, notice: false }, `shift:${unit.id}:${shiftAt.getTime()}`);
      }
    } catch (err) {
      outcome = err instanceof HandoffError ? `refused:${err.code}` : "failed";
      this.deps.log.warn({ unit: unit.id, shiftAt: shiftAt.toISOString(), err: (err as Error).message }, "handoff: scheduled handoff not started");
    }
    await store.setShiftOutcome(unit.id, shiftAt, outcome);
    return outcome;
  }

  // --- helpers -------------------------------------------------------------------------------

  private async rosterPair(unit: HandoffUnit, shiftAt: Date): Promise<{ outgoing: string; incoming: string } | null> {
    const pick = async (at: Date) => {
      const { levels } = await this.deps.oncall.whoIsOnCall(unit.roster!.service, at);
      return (unit.roster!.level ? levels.find((l) => l.level === unit.roster!.level) : levels[0])?.userId ?? null;
    };
    const outgoing = await pick(new Date(shiftAt.getTime() - MINUTE_MS));
    const incoming = await pick(new Date(shiftAt.getTime() + MINUTE_MS));
    return outgoing && incoming ? { outgoing, incoming } : null;
  }

  private async chargeOf(unit: HandoffUnit): Promise<string[]> {
    const users = new Set(unit.charge?.users ?? []);
    if (unit.charge?.service) {
      try {
        const { levels } = await this.deps.oncall.whoIsOnCall(unit.charge.service, this.now());
        const l = unit.charge.level ? levels.find((x) => x.level === unit.charge!.level) : levels[0];
        if (l) users.add(l.userId);
      } catch (err) {
        this.deps.log.error({ unit: unit.id, err: (err as Error).message }, "handoff: could not resolve the charge role's on-call");
      }
    }
    return [...users];
  }

  private async findUnit(query: string | undefined, sourceRoomId: string): Promise<HandoffUnit> {
    if (query) {
      const unit = await this.deps.store.unit(query.toLowerCase());
      if (!unit) throw await this.unknownUnit(query);
      return unit;
    }
    const ofRoom = await this.deps.store.unitOfRoom(sourceRoomId);
    if (ofRoom) return ofRoom;
    const units = await this.deps.store.units();
    if (units.length === 1) return units[0]!;
    throw await this.unknownUnit(null);
  }

  private async unknownUnit(query: string | null): Promise<HandoffError> {
    const units = await this.deps.store.units();
    const known = units.map((u) => `${u.name} (${u.id})`).join(", ");
    if (!units.length) return new HandoffError("unknown_unit", "No units are set up for handoffs yet. Ask your Rounds administrator to add your unit.");
    return new HandoffError("unknown_unit", query ? `There is no unit "${quote(query)}". Units: ${known}.` : `Name the unit, e.g. !handoff start ${units[0]!.id} @incoming. Units: ${known}.`);
  }

  private async unitOf(h: Handoff): Promise<HandoffUnit> {
    // A unit deleted or renamed since keeps its handoffs readable.
    return (await this.deps.store.unit(h.unitId)) ?? HandoffUnitSchema.parse({ id: h.unitId, name: h.unitId });
  }

  private async load(id: string): Promise<Handoff> {
    const h = typeof id === "string" && id ? await this.deps.store.get(id) : null;
    if (!h) throw new HandoffError("not_found", "There is no such handoff. Open it from its room.");
    return h;
  }

  private async loadOpen(id: string): Promise<Handoff> {
    const h = await this.load(id);
    if (h.status === "completed") throw new HandoffError("invalid_transition", `Handoff #${h.number} is already signed off and complete; its report is in its room.`);
    if (h.status === "cancelled") throw new HandoffError("invalid_transition", `Handoff #${h.number} was cancelled. Start a new one with !handoff start.`);
    if (!h.roomId || !h.anchorEventId) return this.ensureRoom(h);
    return h;
  }

  /** The same event delivered again (widget API and inbox, or a replay): answered quietly, whatever the handoff's status now. */
  /** Whether this event was recorded for this handoff already (the same event delivered again). */
  private async recordedHere(handoffId: string, eventId: string): Promise<boolean> {
    return (await this.deps.store.recordedFor(eventId)) === handoffId;
  }

  private async recordedBefore(actor: string, event: SentEvent, type: string): Promise<HandoffView | null> {
    // Only for its own sender and as it was: anything else naming the event is checked (and refused) as usual.
    if (event.sender !== actor || event.type !== type || !event.encrypted || typeof event.eventId !== "string") return null;
    const id = await this.deps.store.recordedFor(event.eventId);
    return id ? this.view(await this.load(id)) : null;
  }

  /** The open handoff an event from a widget belongs to, after checking who sent it and how. */
  private async fromEvent(actor: string, event: SentEvent, type: string): Promise<Handoff> {
    if (event.type !== type) throw new HandoffError("invalid_input", `That event is not a ${type.split(".").pop()} event.`);
    if (event.sender !== actor) throw new HandoffError("forbidden", "You can only submit events you sent yourself.");
    if (!event.encrypted) throw new HandoffError("invalid_input", "That event was not end-to-end encrypted, so Rounds ignored it. Use the handoff's own (encrypted) room.");
    const h = await this.deps.store.inRoom(event.roomId);
    if (!h) throw new HandoffError("not_found", "That room is not a handoff room.");
    return this.loadOpen(h.id);
  }

  private async entryByNumber(h: Handoff, n: number): Promise<Entry> {
    const entries = await this.deps.store.entries(h.id);
    const entry = entries.find((e) => e.number === n);
    if (!entry) {
      throw new HandoffError(
        "not_found",
        entries.length ? `Handoff #${h.number} has no patient ${n}; its patients are ${entries.map((e) => e.number).join(", ")} (!handoff list).` : `Handoff #${h.number} has no patients yet.`,
      );
    }
    return entry;
  }

  /** Closing the loop means the other clinician answers: an asker answering themselves would clear the gate unseen. */
  private ownQuestion(h: Handoff, number: number, asker: string): HandoffError {
    const other = asker === h.outgoing ? h.incoming : h.outgoing;
    return new HandoffError("forbidden", `You asked Q${number}; ${other} answers it. If it no longer matters, ask them to answer so, or sign off with an override and a reason.`);
  }

  private mustBeOutgoing(h: Handoff, actor: string): void {
    if (actor !== h.outgoing) throw new HandoffError("forbidden", `Only ${h.outgoing}, who hands over, can present or change patients on handoff #${h.number}.`);
  }

  private mustBeIncoming(h: Handoff, actor: string, what: string): void {
    if (actor !== h.incoming) throw new HandoffError("forbidden", `Only ${h.incoming}, who takes over, can ${what} on handoff #${h.number}.`);
  }

  private mustBeParticipant(h: Handoff, actor: string, what: string): void {
    if (actor !== h.outgoing && actor !== h.incoming) throw new HandoffError("forbidden", `Only ${h.outgoing} and ${h.incoming} can ${what} handoff #${h.number}.`);
  }

  /** The override, cancel or incident note: an encrypted note the widget sent, or the text posted by the bot. */
  private async noteEvent(h: Handoff, actor: string, kind: "override" | "cancel" | "incident", note: Note): Promise<string> {
    if ("noteEventId" in note) {
      const ev = await this.deps.rooms.readEvent(h.roomId!, note.noteEventId);
      if (!ev) throw new HandoffError("not_found", "Rounds cannot read that note yet. Wait a moment and try again.");
      const parsed = HandoffNoteContentSchema.safeParse(ev.content);
      if (ev.type !== HandoffEventType.Note || ev.sender !== actor || !ev.encrypted || !parsed.success || parsed.data.kind !== kind || parsed.data.handoff_id !== h.id) {
        throw new HandoffError("invalid_input", `That event is not your encrypted ${kind} note on handoff #${h.number}.`);
      }
      if (kind === "override" && parsed.data.text.trim().length < 5) throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
      return note.noteEventId;
    }
    const text = note.reason.trim();
    if (kind === "override" && text.length < 5) throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
    if (!text) throw new HandoffError("invalid_input", "The note is empty.");
    return this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Note, { handoff_id: h.id, kind, text, by: actor, "m.relates_to": { rel_type: "m.reference", event_id: h.anchorEventId } }, `handoff:${note.txnKey}:note`);
  }

  private async itemContent(h: Handoff, eventId: string): Promise<HandoffItemContent | null> {
    if (!h.roomId) return null;
    const ev = await this.deps.rooms.readEvent(h.roomId, eventId);
    if (!ev || ev.type !== HandoffEventType.Item) return null;
    const parsed = HandoffItemContentSchema.safeParse(ev.content);
    return parsed.success ? parsed.data : null;
  }

  private async textOf(h: Handoff, eventId: string | null, field: "summary" | "text"): Promise<string | null> {
    if (!eventId || !h.roomId) return null;
    const ev = await this.deps.rooms.readEvent(h.roomId, eventId);
    const v = ev?.content[field];
    return typeof v === "string" ? v : null;
  }

  private async outstanding(h: Handoff): Promise<Outstanding> {
    const entries = await this.deps.store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    return {
      missing_read_back: entries.flatMap((e) => (e.readbackVersion === e.version ? [] : [e.number])),
      open_questions: questions.filter((q) => !q.answerEventId).map((q) => q.number),
      checklist: h.checklist.filter((c) => !c.done).map((c) => c.label),
    };
  }

  /** Questions about patients still on the list: a removed patient's questions no longer hold anything up. */
  private async activeQuestions(handoffId: string, entries: Entry[]) {
    const active = new Set(entries.map((e) => e.entryId));
    return (await this.deps.store.questions(handoffId)).filter((q) => active.has(q.entryId));
  }

  private async counts(h: Handoff): Promise<{ patients: number; readBack: number; openQuestions: number; signedBy: string[] }> {
    const entries = await this.deps.store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    const signed = await this.deps.store.signOffs(h.id);
    return {
      patients: entries.length,
      readBack: entries.filter((e) => e.readbackVersion === e.version).length,
      openQuestions: questions.filter((q) => !q.answerEventId).length,
      signedBy: signed.map((s) => s.userId),
    };
  }

  private async reportInput(h: Handoff): Promise<HandoffReportInput> {
    const { store } = this.deps;
    const unit = await this.unitOf(h);
    const entries = await store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    const patients = [];
    const items = new Map<string, HandoffItemContent | null>();
    for (const e of entries) {
      const item = await this.itemContent(h, e.itemEventId);
      items.set(e.entryId, item);
      const qs = [];
      for (const q of questions.filter((x) => x.entryId === e.entryId)) {
        qs.push({
          number: q.number,
          text: await this.textOf(h, q.eventId, "text"),
          askedBy: q.askedBy,
          askedAt: q.askedAt,
          answer: q.answerEventId ? { text: await this.textOf(h, q.answerEventId, "text"), by: q.answeredBy!, at: q.answeredAt! } : null,
        });
      }
      patients.push({
        number: e.number,
        version: e.version,
        item,
        presentedBy: e.presentedBy,
        presentedAt: e.presentedAt,
        readBack: e.readbackVersion === e.version && e.readbackBy ? { summary: await this.textOf(h, e.readbackEventId, "summary"), by: e.readbackBy, at: e.readbackAt! } : null,
        questions: qs,
      });
    }
    const position = new Map(entries.map((e) => [e.entryId, e.number]));
    const tasks = (await store.tasks(h.id))
      .filter((t) => t.status !== "removed" && position.has(t.entryId))
      .map((t) => ({
        patientNumber: position.get(t.entryId)!,
        text: items.get(t.entryId)?.tasks.find((x) => x.id === t.taskId)?.text ?? null,
        owner: t.owner,
        previousOwner: t.transferredFrom,
        due: t.dueAt,
        status: t.status as "open" | "done",
      }));
    const signOffs = [];
    for (const s of await store.signOffs(h.id)) {
      signOffs.push({ user: s.userId, at: s.signedAt, override: s.overrideEventId ? { reason: await this.textOf(h, s.overrideEventId, "text"), outstanding: s.outstanding! } : null });
    }
    const incidents = [];
    for (const i of await store.incidents(h.id)) {
      // A patient removed after the report keeps their number (rows are never deleted).
      const patientNumber = position.get(i.entryId) ?? (await store.entry(h.id, i.entryId))?.number ?? 0;
      incidents.push({ number: i.number, patientNumber, category: i.category as IncidentCategory, by: i.reportedBy, at: i.reportedAt });
    }
    return {
      number: h.number,
      unitName: unit.name,
      template: h.template,
      mode: h.mode,
      outgoing: h.outgoing,
      incoming: h.incoming,
      timezone: unit.timezone,
      startedAt: h.createdAt,
      deadline: h.deadline,
      completedAt: h.completedAt ?? this.now(),
      scheduledFor: h.scheduledFor,
      overdue: h.overdue,
      escalatedTo: h.escalatedTo,
      patients,
      tasks,
      signOffs,
      checklist: h.checklist,
      incidents,
    };
  }

  private async armTaskTimers(handoffId: string, content: HandoffItemContent, trx: Db): Promise<void> {
    for (const t of content.tasks) {
      if (t.due_ts) await this.deps.timers.schedule(TIMER_HANDOFF_TASK, handoffId, `${t.id}@${t.due_ts}`, new Date(t.due_ts), trx);
    }
  }

  /** Withdraws the sign-offs so far; an override goes with its sign-off (the audit log keeps it). */
  private async withdrawSignOffs(id: string, trx: Db): Promise<number> {
    const n = await this.deps.store.clearSignOffs(id, trx);
    if (n) await this.deps.store.update(id, { overridden: false }, { trx });
    return n;
  }

  private armSettle(id: string, trx: Db): Promise<void> {
    return this.deps.timers.schedule(TIMER_HANDOFF_SETTLE, id, ulid(), new Date(this.now().getTime() + SETTLE_AFTER_MS), trx);
  }

  private async settled(id: string): Promise<void> {
    await this.deps.timers.cancelAll(TIMER_HANDOFF_SETTLE, id);
  }

  private count(h: Handoff, transition: string): void {
    this.deps.metrics.handoffTransitions.inc({ unit: h.unitId, transition });
  }

  /** A message in the handoff room; a failure is logged, as the state and the widget still show the step. */
  private async say(h: Handoff, message: { body: string; mentions?: string[]; notice?: boolean }, key: string): Promise<void> {
    if (!h.roomId) return;
    try {
      await this.deps.rooms.send(h.roomId, message, `handoff:${key}`);
    } catch (err) {
      this.deps.log.error({ handoff: h.id, err: (err as Error).message }, "handoff: could not post a message");
    }
  }

  private handoffWidget(h: Handoff): RoomWidget {
    return { id: "rounds-handoff", name: `Handoff #${h.number}`, url: this.deps.options.handoffWidgetUrl, data: { handoff_id: h.id }, heightPercent: 60 };
  }

  private unitWidget(unit: HandoffUnit): RoomWidget {
    return { id: "rounds-handoffs", name: `Handoffs · ${unit.name}`, url: this.deps.options.unitWidgetUrl, data: { unit: unit.id }, heightPercent: 40 };
  }

  private stateOf(h: Handoff, c: { patients: number; readBack: number; openQuestions: number; signedBy: string[] }, unitName = h.unitId): HandoffState {
    const ms = (d: Date | null) => (d ? d.getTime() : null);
    return {
      id: h.id,
      number: h.number,
      unit: h.unitId,
      unit_name: unitName,
      template: h.template,
      mode: h.mode,
      status: h.status,
      outgoing: h.outgoing,
      incoming: h.incoming,
      patient_count: c.patients,
      read_back_count: c.readBack,
      open_questions: c.openQuestions,
      checklist_done: h.checklist.filter((x) => x.done).length,
      checklist_total: h.checklist.length,
      signed_off_by: c.signedBy,
      scheduled_for_ts: ms(h.scheduledFor),
      created_ts: h.createdAt.getTime(),
      deadline_ts: h.deadline.getTime(),
      overdue: h.overdue,
      escalated_to: h.escalatedTo,
      escalated_ts: ms(h.escalatedAt),
      completed_ts: ms(h.completedAt),
      cancelled_ts: ms(h.cancelledAt),
      anchor_event_id: h.anchorEventId,
      report_event_id: h.reportEventId,
      overridden: h.overridden,
    };
  }

  private async mirror(h: Handoff): Promise<void> {
    if (!h.roomId) return;
    const unit = await this.unitOf(h);
    const state = HandoffStateSchema.parse(this.stateOf(h, await this.counts(h), unit.name));
    await this.deps.rooms.setState(h.roomId, StateType.Handoff, h.id, state);
  }

  private async view(h: Handoff): Promise<HandoffView> {
    const { store } = this.deps;
    const unit = await this.unitOf(h);
    const entries = await store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    const signOffs = await store.signOffs(h.id);
    const c = { patients: entries.length, readBack: entries.filter((e) => e.readbackVersion === e.version).length, openQuestions: questions.filter((q) => !q.answerEventId).length, signedBy: signOffs.map((s) => s.userId) };
    return {
      ...this.stateOf(h, c, unit.name),
      room_id: h.roomId ?? "",
      entries: entries.map((e) => ({
        entry_id: e.entryId,
        number: e.number,
        version: e.version,
        item_event_id: e.itemEventId,
        history: e.history,
        presented_by: e.presentedBy,
        presented_ts: e.presentedAt.getTime(),
        read_back: e.readbackVersion === e.version,
        readback_event_id: e.readbackEventId,
        readback_by: e.readbackBy,
        readback_ts: e.readbackAt?.getTime() ?? null,
      })),
      questions: questions.map((q) => ({
        number: q.number,
        entry_id: q.entryId,
        event_id: q.eventId,
        asked_by: q.askedBy,
        asked_ts: q.askedAt.getTime(),
        answer_event_id: q.answerEventId,
        answered_by: q.answeredBy,
        answered_ts: q.answeredAt?.getTime() ?? null,
      })),
      tasks: (await store.tasks(h.id)).filter((t) => t.status !== "removed").map(taskView),
      checklist: h.checklist,
      sign_offs: signOffs.map((s) => ({ user_id: s.userId, ts: s.signedAt.getTime(), override_event_id: s.overrideEventId, outstanding: s.outstanding })),
      outstanding: await this.outstanding(h),
      duration_s: h.completedAt ? Math.round((h.completedAt.getTime() - h.createdAt.getTime()) / 1000) : null,
    };
  }
}

function taskView(t: { taskId: string; entryId: string; itemEventId: string; owner: string; dueAt: Date | null; status: "open" | "done" | "removed"; transferredFrom: string | null; transferredAt: Date | null }) {
  return {
    task_id: t.taskId,
    entry_id: t.entryId,
    item_event_id: t.itemEventId,
    owner: t.owner,
    due_ts: t.dueAt?.getTime() ?? null,
    status: t.status,
    transferred_from: t.transferredFrom,
    transferred_ts: t.transferredAt?.getTime() ?? null,
  };
}

function parseContent<T extends { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }>(
  schema: T,
  content: unknown,
  what: string,
): Extract<ReturnType<T["safeParse"]>, { success: true }>["data"] {
  const r = schema.safeParse(content);
  if (r.success) return r.data as never;
  const problems = r.error.issues.map((i) => `${i.path.map(String).join(".") || what}: ${i.message}`).join("; ");
  throw new HandoffError("invalid_input", `The ${what} is incomplete (${problems}). Correct it and send it again.`);
}

/** A patient or task is named within its handoff; the handoff id (a ULID) holds no ":". */
function effectKey(handoffId: string, id: string): string {
  return `${handoffId}:${id}`;
}

function splitEffectKey(key: string): [string, string] {
  const i = key.indexOf(":");
  return i < 0 ? [key, ""] : [key.slice(0, i), key.slice(i + 1)];
}

function entryIdFor(txnKey: string): string {
  return `e${createHash("sha256").update(txnKey).digest("base64url").slice(0, 25)}`;
}

function isValidZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/** The latest time `hh:mm` local to `zone` at or before `at`. */
export function lastOccurrence(hhmm: string, zone: string, at: Date): Date {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  const local = DateTime.fromJSDate(at, { zone });
  let candidate = local.set({ hour: h, minute: m, second: 0, millisecond: 0 });
  if (candidate > local) candidate = candidate.minus({ days: 1 });
  return candidate.toJSDate();
}
