import {
  HandoffItemEvent,
  HandoffStateSchema,
  StateType,
  type HandoffItemContent,
  type HandoffState,
} from "../shared/events/index.js";
import type { HandoffMetricsResponse, HandoffView, MyHandoffsResponse, Outstanding } from "../shared/handoffApi.js";
import type { AuditEntry } from "./handoffActions.js";
import type { HandoffDeps } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import { qualityOf } from "./handoffQuality.js";
import { OPEN_STATUSES, type Entry, type Handoff, type Question, type SignOff } from "./handoffStore.js";
import type { HandoffUnits } from "./handoffUnits.js";

const RECENT_LIMIT = 20;

type Counts = { patients: number; readBack: number; openQuestions: number; signedBy: string[] };

/**
 * The handoff as it is read: loaded from the rows, shown as a view or a state event, and the
 * state event rewritten (mirrored) after each transition. Every other part reads through here,
 * and this part changes nothing but the mirrored state.
 */
export class HandoffReadSide {
  constructor(
    private readonly deps: HandoffDeps,
    private readonly units: HandoffUnits,
  ) {}

  async load(id: string): Promise<Handoff> {
    const h = typeof id === "string" && id ? await this.deps.store.get(id) : null;
    if (!h) throw new HandoffError("not_found", "There is no such handoff. Open it from its room.");
    return h;
  }

  async get(id: string): Promise<HandoffView> {
    return this.view(await this.load(id));
  }

  async inRoom(roomId: string): Promise<HandoffView | null> {
    const h = await this.deps.store.inRoom(roomId);
    return h ? this.view(h) : null;
  }

  /** A handoff by its number, for the CLI and admin API. */
  async byNumber(number: number): Promise<HandoffView> {
    const h = await this.deps.store.byNumber(number);
    if (!h) throw new HandoffError("not_found", `There is no handoff #${number}.`);
    return this.view(h);
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

  async audit(id: string): Promise<AuditEntry[]> {
    const h = await this.load(id);
    return this.deps.store.auditOf(h.id);
  }

  async quality(since: Date, unit?: string): Promise<HandoffMetricsResponse> {
    if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new HandoffError("invalid_input", "Give the start of the period as a date, e.g. 2026-03-01.");
    if (unit && !(await this.deps.store.unit(unit))) throw await this.units.unknownUnit(unit);
    return qualityOf(await this.deps.store.qualityRows(since), since, unit);
  }

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

  async entryByNumber(h: Handoff, n: number): Promise<Entry> {
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

  async itemContent(h: Handoff, eventId: string): Promise<HandoffItemContent | null> {
    if (!h.roomId) return null;
    return HandoffItemEvent.parse(await this.deps.rooms.readEvent(h.roomId, eventId));
  }

  async textOf(h: Handoff, eventId: string | null, field: "summary" | "text"): Promise<string | null> {
    if (!eventId || !h.roomId) return null;
    const ev = await this.deps.rooms.readEvent(h.roomId, eventId);
    const v = ev?.content[field];
    return typeof v === "string" ? v : null;
  }

  async outstanding(h: Handoff): Promise<Outstanding> {
    const entries = await this.deps.store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    return {
      missing_read_back: entries.flatMap((e) => (e.readbackVersion === e.version ? [] : [e.number])),
      open_questions: questions.filter((q) => !q.answerEventId).map((q) => q.number),
      checklist: h.checklist.filter((c) => !c.done).map((c) => c.label),
    };
  }

  /** Questions about patients still on the list: a removed patient's questions no longer hold anything up. */
  async activeQuestions(handoffId: string, entries: Entry[]): Promise<Question[]> {
    const active = new Set(entries.map((e) => e.entryId));
    return (await this.deps.store.questions(handoffId)).filter((q) => active.has(q.entryId));
  }

  async counts(h: Handoff): Promise<Counts> {
    const entries = await this.deps.store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    return countsOf(entries, questions, await this.deps.store.signOffs(h.id));
  }

  stateOf(h: Handoff, c: Counts, unitName = h.unitId): HandoffState {
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

  async mirror(h: Handoff): Promise<void> {
    if (!h.roomId) return;
    const unit = await this.units.unitOf(h);
    const state = HandoffStateSchema.parse(this.stateOf(h, await this.counts(h), unit.name));
    await this.deps.rooms.setState(h.roomId, StateType.Handoff, h.id, state);
  }

  async view(h: Handoff): Promise<HandoffView> {
    const { store } = this.deps;
    const unit = await this.units.unitOf(h);
    const entries = await store.entries(h.id);
    const questions = await this.activeQuestions(h.id, entries);
    const signOffs = await store.signOffs(h.id);
    return {
      ...this.stateOf(h, countsOf(entries, questions, signOffs), unit.name),
      room_id: h.roomId ?? "",
      time_zone: unit.timezone,
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

function countsOf(entries: Entry[], questions: Question[], signOffs: SignOff[]): Counts {
  return {
    patients: entries.length,
    readBack: entries.filter((e) => e.readbackVersion === e.version).length,
    openQuestions: questions.filter((q) => !q.answerEventId).length,
    signedBy: signOffs.map((s) => s.userId),
  };
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
