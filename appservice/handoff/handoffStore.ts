import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";
import type { HandoffMode, HandoffStatus, HandoffTemplate } from "../shared/events/index.js";
import type { HandoffChecklistView, Outstanding } from "../shared/handoffApi.js";
import type { AuditEntry } from "./handoffActions.js";
import type { HandoffQualityRow } from "./handoffQuality.js";
import { type HandoffUnit } from "./handoffUnitSchema.js";

export const OPEN_STATUSES: HandoffStatus[] = ["started", "presenting", "signing"];
/** A shift-change claim left pending or failed this long is tried again. */
const SHIFT_RECLAIM_MS = 2 * 60_000;

/** A handoff as the database holds it: workflow facts and event ids, never clinical text. */
export interface Handoff {
  id: string;
  number: number;
  unitId: string;
  template: HandoffTemplate;
  mode: HandoffMode;
  status: HandoffStatus;
  outgoing: string;
  incoming: string;
  startedBy: string;
  sourceRoomId: string | null;
  roomId: string | null;
  anchorEventId: string | null;
  checklist: HandoffChecklistView[];
  scheduledFor: Date | null;
  deadline: Date;
  overdue: boolean;
  escalatedTo: string[];
  escalatedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancelledBy: string | null;
  reportEventId: string | null;
  overridden: boolean;
  createdAt: Date;
}

export interface Entry {
  entryId: string;
  /** Stable: given once, never reused or renumbered. */
  number: number;
  position: number;
  version: number;
  itemEventId: string;
  history: string[];
  presentedBy: string;
  presentedAt: Date;
  removedAt: Date | null;
  readbackEventId: string | null;
  readbackBy: string | null;
  readbackVersion: number | null;
  readbackAt: Date | null;
}

export interface Question {
  number: number;
  entryId: string;
  eventId: string;
  askedBy: string;
  askedAt: Date;
  answerEventId: string | null;
  answeredBy: string | null;
  answeredAt: Date | null;
}

export interface Task {
  handoffId: string;
  taskId: string;
  entryId: string;
  itemEventId: string;
  owner: string;
  dueAt: Date | null;
  status: "open" | "done" | "removed";
  transferredFrom: string | null;
  transferredAt: Date | null;
}

export interface SignOff {
  userId: string;
  signedAt: Date;
  overrideEventId: string | null;
  outstanding: Outstanding | null;
}

export interface Incident {
  number: number;
  handoffId: string;
  entryId: string;
  itemEventId: string;
  category: string;
  noteEventId: string | null;
  reportedBy: string;
  reportedAt: Date;
}

const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;

/**
 * A unit as saved, with its room from the column: a room moved to another unit is released in
 * the column only, so the settings' own room_id may be stale.
 */
function unitFrom(row: { settings: unknown; room_id: string | null }): HandoffUnit {
  const { room_id: _stale, ...settings } = json<HandoffUnit>(row.settings);
  return row.room_id ? { ...settings, room_id: row.room_id } : settings;
}
const date = (v: unknown): Date | null => (v ? new Date(v as string) : null);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toHandoff(r: Record<string, unknown>): Handoff {
  return {
    id: r.id as string,
    number: Number(r.number),
    unitId: r.unit_id as string,
    template: r.template as HandoffTemplate,
    mode: r.mode as HandoffMode,
    status: r.status as HandoffStatus,
    outgoing: r.outgoing as string,
    incoming: r.incoming as string,
    startedBy: r.started_by as string,
    sourceRoomId: str(r.source_room_id),
    roomId: str(r.room_id),
    anchorEventId: str(r.anchor_event_id),
    checklist: json<HandoffChecklistView[]>(r.checklist),
    scheduledFor: date(r.scheduled_for),
    deadline: new Date(r.deadline as string),
    overdue: Boolean(r.overdue),
    escalatedTo: json<string[]>(r.escalated_to),
    escalatedAt: date(r.escalated_at),
    completedAt: date(r.completed_at),
    cancelledAt: date(r.cancelled_at),
    cancelledBy: str(r.cancelled_by),
    reportEventId: str(r.report_event_id),
    overridden: Boolean(r.overridden),
    createdAt: new Date(r.created_at as string),
  };
}

function toEntry(r: Record<string, unknown>): Entry {
  return {
    entryId: r.entry_id as string,
    number: Number(r.number),
    position: Number(r.position),
    version: Number(r.version),
    itemEventId: r.item_event_id as string,
    history: json<string[]>(r.history),
    presentedBy: r.presented_by as string,
    presentedAt: new Date(r.presented_at as string),
    removedAt: date(r.removed_at),
    readbackEventId: str(r.readback_event_id),
    readbackBy: str(r.readback_by),
    readbackVersion: num(r.readback_version),
    readbackAt: date(r.readback_at),
  };
}

function toQuestion(r: Record<string, unknown>): Question {
  return {
    number: Number(r.number),
    entryId: r.entry_id as string,
    eventId: r.event_id as string,
    askedBy: r.asked_by as string,
    askedAt: new Date(r.asked_at as string),
    answerEventId: str(r.answer_event_id),
    answeredBy: str(r.answered_by),
    answeredAt: date(r.answered_at),
  };
}

function toTask(r: Record<string, unknown>): Task {
  return {
    handoffId: r.handoff_id as string,
    taskId: r.task_id as string,
    entryId: r.entry_id as string,
    itemEventId: r.item_event_id as string,
    owner: r.owner as string,
    dueAt: date(r.due_at),
    status: r.status as Task["status"],
    transferredFrom: str(r.transferred_from),
    transferredAt: date(r.transferred_at),
  };
}

/**
 * The handoff port. Transitions are guarded UPDATEs (`WHERE status IN (...)`), and each recorded
 * event is unique on its event id, so the widget API and the inbox delivering the same event, or
 * two racing sign-offs, leave exactly one effect.
 */
export class HandoffStore {
  constructor(readonly db: Db) {}

  // --- units ---------------------------------------------------------------------------------

  async saveUnit(unit: HandoffUnit, at: Date): Promise<void> {
    await this.db.transaction(async (trx) => {
      // A room belongs to one unit: moving it releases it from the old one.
      if (unit.room_id) await trx("handoff_units").where({ room_id: unit.room_id }).whereNot({ id: unit.id }).update({ room_id: null });
      await trx("handoff_units")
        .insert({ id: unit.id, settings: JSON.stringify(unit), room_id: unit.room_id ?? null, updated_at: at })
        .onConflict("id")
        .merge();
    });
  }

  async unit(id: string): Promise<HandoffUnit | null> {
    const row = await this.db("handoff_units").where({ id }).first();
    return row ? unitFrom(row) : null;
  }

  async units(): Promise<HandoffUnit[]> {
    return (await this.db("handoff_units").orderBy("id")).map(unitFrom);
  }

  async unitOfRoom(roomId: string): Promise<HandoffUnit | null> {
    const row = await this.db("handoff_units").where({ room_id: roomId }).first();
    return row ? unitFrom(row) : null;
  }

  // --- handoffs ------------------------------------------------------------------------------

  async create(
    h: {
      id: string;
      unitId: string;
      template: HandoffTemplate;
      mode: HandoffMode;
      outgoing: string;
      incoming: string;
      startedBy: string;
      sourceRoomId: string | null;
      checklist: string[];
      scheduledFor: Date | null;
      deadline: Date;
      at: Date;
    },
    trx: Db = this.db,
  ): Promise<Handoff> {
    const [row] = await trx("handoffs")
      .insert({
        id: h.id,
        unit_id: h.unitId,
        template: h.template,
        mode: h.mode,
        status: "started",
        outgoing: h.outgoing,
        incoming: h.incoming,
        started_by: h.startedBy,
        source_room_id: h.sourceRoomId,
        checklist: JSON.stringify(h.checklist.map((label) => ({ label, done: false, by: null, ts: null }))),
        scheduled_for: h.scheduledFor,
        deadline: h.deadline,
        escalated_to: JSON.stringify([]),
        created_at: h.at,
        updated_at: h.at,
      })
      .returning("*");
    return toHandoff(row);
  }

  async get(id: string, trx: Db = this.db): Promise<Handoff | null> {
    const row = await trx("handoffs").where({ id }).first();
    return row ? toHandoff(row) : null;
  }

  async byNumber(number: number): Promise<Handoff | null> {
    if (!Number.isSafeInteger(number) || number < 1) return null;
    const row = await this.db("handoffs").where({ number }).first();
    return row ? toHandoff(row) : null;
  }

  /** The room's open handoff, else its latest one. */
  async inRoom(roomId: string): Promise<Handoff | null> {
    const row = await this.db("handoffs").where({ room_id: roomId }).orderByRaw(`CASE WHEN status IN ('started','presenting','signing') THEN 0 ELSE 1 END`).orderBy("number", "desc").first();
    return row ? toHandoff(row) : null;
  }

  /** An open handoff between the same two people on the same unit, if any. */
  async openBetween(unitId: string, outgoing: string, incoming: string): Promise<Handoff | null> {
    const row = await this.db("handoffs").where({ unit_id: unitId, outgoing, incoming }).whereIn("status", OPEN_STATUSES).first();
    return row ? toHandoff(row) : null;
  }

  async forUser(userId: string, limit: number): Promise<Handoff[]> {
    const rows = await this.db("handoffs")
      .where((q) => q.where({ outgoing: userId }).orWhere({ incoming: userId }))
      .orderBy("number", "desc")
      .limit(limit);
    return rows.map(toHandoff);
  }

  async update(id: string, fields: Record<string, unknown>, opts: { statuses?: HandoffStatus[]; trx?: Db } = {}): Promise<boolean> {
    const q = (opts.trx ?? this.db)("handoffs").where({ id });
    if (opts.statuses) q.whereIn("status", opts.statuses);
    return affectedRows(await q.update({ ...fields, updated_at: new Date() })) === 1;
  }

  // --- recorded events -----------------------------------------------------------------------

  /** The handoff an event was recorded for, if it was. */
  async recordedFor(eventId: string): Promise<string | null> {
    const row = await this.db("handoff_events").where({ event_id: eventId }).first();
    return row ? (row.handoff_id as string) : null;
  }

  /** Claims an event id for this handoff; false when it was recorded before. */
  async claimEvent(handoffId: string, eventId: string, kind: string, trx: Db): Promise<boolean> {
    const rows = await trx("handoff_events").insert({ event_id: eventId, handoff_id: handoffId, kind }).onConflict("event_id").ignore().returning("event_id");
    return rows.length === 1;
  }

  async entries(handoffId: string, trx: Db = this.db): Promise<Entry[]> {
    const rows = await trx("handoff_entries").where({ handoff_id: handoffId }).whereNull("removed_at").orderBy("position");
    return rows.map(toEntry);
  }

  async entry(handoffId: string, entryId: string, trx: Db = this.db): Promise<Entry | null> {
    const row = await trx("handoff_entries").where({ handoff_id: handoffId, entry_id: entryId }).first();
    return row ? toEntry(row) : null;
  }

  async insertEntry(handoffId: string, e: { entryId: string; itemEventId: string; presentedBy: string; at: Date }, trx: Db): Promise<void> {
    // Removed entries keep their rows, so max + 1 never reuses a number.
    const max = await trx("handoff_entries").where({ handoff_id: handoffId }).max({ p: "position", n: "number" }).first();
    await trx("handoff_entries").insert({
      handoff_id: handoffId,
      entry_id: e.entryId,
      number: Number(max?.n ?? 0) + 1,
      position: Number(max?.p ?? 0) + 1,
      version: 1,
      item_event_id: e.itemEventId,
      history: JSON.stringify([]),
      presented_by: e.presentedBy,
      presented_at: e.at,
    });
  }

  /** A new version, only if `expectedVersion` is still current (an edit from a stale view loses). */
  async newVersion(handoffId: string, entryId: string, expectedVersion: number, e: { itemEventId: string; history: string[]; presentedBy: string; at: Date }, trx: Db): Promise<boolean> {
    return (
      affectedRows(
        await trx("handoff_entries")
          .where({ handoff_id: handoffId, entry_id: entryId, version: expectedVersion })
          .whereNull("removed_at")
          .update({ version: expectedVersion + 1, item_event_id: e.itemEventId, history: JSON.stringify(e.history), presented_by: e.presentedBy, presented_at: e.at }),
      ) === 1
    );
  }

  async removeEntry(handoffId: string, entryId: string, at: Date, trx: Db): Promise<boolean> {
    return affectedRows(await trx("handoff_entries").where({ handoff_id: handoffId, entry_id: entryId }).whereNull("removed_at").update({ removed_at: at })) === 1;
  }

  async setPositions(handoffId: string, entryIds: string[], trx: Db): Promise<void> {
    for (const [i, entryId] of entryIds.entries()) {
      await trx("handoff_entries").where({ handoff_id: handoffId, entry_id: entryId }).update({ position: i + 1 });
    }
  }

  async setReadBack(handoffId: string, entryId: string, r: { eventId: string; by: string; version: number; at: Date }, trx: Db): Promise<boolean> {
    return (
      affectedRows(
        await trx("handoff_entries")
          .where({ handoff_id: handoffId, entry_id: entryId, version: r.version })
          .whereNull("removed_at")
          .update({ readback_event_id: r.eventId, readback_by: r.by, readback_version: r.version, readback_at: r.at }),
      ) === 1
    );
  }

  async questions(handoffId: string, trx: Db = this.db): Promise<Question[]> {
    return (await trx("handoff_questions").where({ handoff_id: handoffId }).orderBy("number")).map(toQuestion);
  }

  async addQuestion(handoffId: string, q: { entryId: string; eventId: string; askedBy: string; at: Date }, trx: Db): Promise<number> {
    const max = await trx("handoff_questions").where({ handoff_id: handoffId }).max({ n: "number" }).first();
    const number = Number(max?.n ?? 0) + 1;
    await trx("handoff_questions").insert({ handoff_id: handoffId, number, entry_id: q.entryId, event_id: q.eventId, asked_by: q.askedBy, asked_at: q.at });
    return number;
  }

  async answerQuestion(handoffId: string, questionEventId: string, a: { eventId: string; by: string; at: Date }, trx: Db): Promise<boolean> {
    return (
      affectedRows(
        await trx("handoff_questions")
          .where({ handoff_id: handoffId, event_id: questionEventId })
          .whereNull("answer_event_id")
          .update({ answer_event_id: a.eventId, answered_by: a.by, answered_at: a.at }),
      ) === 1
    );
  }

  // --- tasks ---------------------------------------------------------------------------------

  async tasks(handoffId: string, trx: Db = this.db): Promise<Task[]> {
    return (await trx("handoff_tasks").where({ handoff_id: handoffId }).orderBy("due_at").orderBy("task_id")).map(toTask);
  }

  async task(handoffId: string, taskId: string): Promise<Task | null> {
    const row = await this.db("handoff_tasks").where({ handoff_id: handoffId, task_id: taskId }).first();
    return row ? toTask(row) : null;
  }

  /** The entry's tasks become those of its latest version; tasks left out of it are removed. */
  async syncTasks(handoffId: string, entryId: string, itemEventId: string, tasks: { taskId: string; owner: string; dueAt: Date | null }[], trx: Db): Promise<void> {
    const keep = tasks.map((t) => t.taskId);
    const gone = trx("handoff_tasks").where({ handoff_id: handoffId, entry_id: entryId, status: "open" });
    if (keep.length) gone.whereNotIn("task_id", keep);
    await gone.update({ status: "removed" });
    for (const t of tasks) {
      await trx("handoff_tasks")
        .insert({ handoff_id: handoffId, task_id: t.taskId, entry_id: entryId, item_event_id: itemEventId, owner: t.owner, due_at: t.dueAt, status: "open" })
        .onConflict(["handoff_id", "task_id"])
        .merge({ item_event_id: itemEventId, owner: t.owner, due_at: t.dueAt });
    }
    // A task put back in a later version is open again; one already done stays done.
    if (keep.length) await trx("handoff_tasks").where({ handoff_id: handoffId, entry_id: entryId, status: "removed" }).whereIn("task_id", keep).update({ status: "open" });
  }

  async removeEntryTasks(handoffId: string, entryId: string, trx: Db): Promise<void> {
    await trx("handoff_tasks").where({ handoff_id: handoffId, entry_id: entryId, status: "open" }).update({ status: "removed" });
  }

  /** Open tasks owned by `from` (or by nobody else) pass to `to`; returns how many moved. */
  async transferTasks(handoffId: string, from: string, to: string, at: Date, trx: Db): Promise<number> {
    return affectedRows(
      await trx("handoff_tasks").where({ handoff_id: handoffId, status: "open", owner: from }).update({ owner: to, transferred_from: from, transferred_at: at }),
    );
  }

  async completeTask(handoffId: string, taskId: string, owner: string, at: Date, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(await trx("handoff_tasks").where({ handoff_id: handoffId, task_id: taskId, owner, status: "open" }).update({ status: "done", done_by: owner, done_at: at })) === 1
    );
  }

  async openTasksOf(userId: string): Promise<Task[]> {
    return (await this.db("handoff_tasks").where({ owner: userId, status: "open" }).orderBy("due_at").orderBy("handoff_id")).map(toTask);
  }

  // --- sign-offs, incidents, audit -----------------------------------------------------------

  async signOffs(handoffId: string, trx: Db = this.db): Promise<SignOff[]> {
    const rows = await trx("handoff_signoffs").where({ handoff_id: handoffId }).orderBy("signed_at");
    return rows.map((r) => ({
      userId: r.user_id as string,
      signedAt: new Date(r.signed_at as string),
      overrideEventId: str(r.override_event_id),
      outstanding: r.outstanding ? json<Outstanding>(r.outstanding) : null,
    }));
  }

  async addSignOff(handoffId: string, s: { userId: string; at: Date; overrideEventId: string | null; outstanding: Outstanding | null }, trx: Db): Promise<boolean> {
    const rows = await trx("handoff_signoffs")
      .insert({ handoff_id: handoffId, user_id: s.userId, signed_at: s.at, override_event_id: s.overrideEventId, outstanding: s.outstanding ? JSON.stringify(s.outstanding) : null })
      .onConflict(["handoff_id", "user_id"])
      .ignore()
      .returning("user_id");
    return rows.length === 1;
  }

  async clearSignOffs(handoffId: string, trx: Db): Promise<number> {
    return affectedRows(await trx("handoff_signoffs").where({ handoff_id: handoffId }).delete());
  }

  /** Returns the incident's number, and whether it is new (false: the same source reported it before). */
  async addIncident(i: Omit<Incident, "number"> & { roomId: string; sourceKey: string | null }, trx: Db = this.db): Promise<{ number: number; created: boolean }> {
    if (i.sourceKey) {
      const existing = await trx("handoff_incidents").where({ source_key: i.sourceKey }).first();
      if (existing) return { number: Number(existing.number), created: false };
    }
    const [row] = await trx("handoff_incidents")
      .insert({
        source_key: i.sourceKey,
        handoff_id: i.handoffId,
        entry_id: i.entryId,
        item_event_id: i.itemEventId,
        room_id: i.roomId,
        category: i.category,
        note_event_id: i.noteEventId,
        reported_by: i.reportedBy,
        reported_at: i.reportedAt,
      })
      .returning("number");
    return { number: Number((row as { number: unknown }).number), created: true };
  }

  async incidents(handoffId: string): Promise<Incident[]> {
    const rows = await this.db("handoff_incidents").where({ handoff_id: handoffId }).orderBy("number");
    return rows.map((r) => ({
      number: Number(r.number),
      handoffId: r.handoff_id as string,
      entryId: r.entry_id as string,
      itemEventId: r.item_event_id as string,
      category: r.category as string,
      noteEventId: str(r.note_event_id),
      reportedBy: r.reported_by as string,
      reportedAt: new Date(r.reported_at as string),
    }));
  }

  async audit(handoffId: string, action: string, actor: string, at: Date, refs: Record<string, unknown>, trx: Db = this.db): Promise<void> {
    await trx("audit_log").insert({ workflow: "handoff", object_id: handoffId, action, actor, at, refs: JSON.stringify(refs) });
  }

  async auditOf(handoffId: string): Promise<AuditEntry[]> {
    const rows = await this.db("audit_log").where({ workflow: "handoff", object_id: handoffId }).orderBy("id");
    return rows.map((r) => ({ at: new Date(r.at as string).toISOString(), actor: r.actor as string, action: r.action as string, refs: json<Record<string, unknown>>(r.refs) }));
  }

  // --- schedule and metrics ------------------------------------------------------------------

  /** Claims a unit's shift change; false when it was handled before (another tick, or before a restart). */
  async claimShiftChange(unitId: string, shiftAt: Date, outcome: string, at: Date): Promise<boolean> {
    const rows = await this.db("handoff_shift_changes").insert({ unit_id: unitId, shift_at: shiftAt, outcome, handled_at: at }).onConflict(["unit_id", "shift_at"]).ignore().returning("unit_id");
    if (rows.length === 1) return true;
    // A claim that crashed or failed part-way is taken again once it is clearly not running any more.
    const stale = new Date(at.getTime() - SHIFT_RECLAIM_MS);
    return (
      affectedRows(
        await this.db("handoff_shift_changes")
          .where({ unit_id: unitId, shift_at: shiftAt })
          .whereIn("outcome", ["pending", "failed"])
          .andWhere("handled_at", "<", stale)
          .update({ outcome, handled_at: at }),
      ) === 1
    );
  }

  async setShiftOutcome(unitId: string, shiftAt: Date, outcome: string): Promise<void> {
    await this.db("handoff_shift_changes").where({ unit_id: unitId, shift_at: shiftAt }).update({ outcome });
  }

  async qualityRows(since: Date): Promise<HandoffQualityRow[]> {
    const rows = await this.db("handoffs").where("created_at", ">=", since);
    return rows.map((r) => ({
      unitId: r.unit_id as string,
      createdAt: new Date(r.created_at as string),
      completedAt: date(r.completed_at),
      status: r.status as string,
      patients: num(r.final_patients),
      readBack: num(r.final_read_back),
      questions: num(r.final_questions),
      overridden: Boolean(r.overridden),
      overdue: Boolean(r.overdue),
    }));
  }
}
