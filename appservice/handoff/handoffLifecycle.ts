import { ulid } from "ulid";
import type { RoomWidget } from "../ports/roomWriter.js";
import { BOT_PREFIX, matrixUserId, StateType } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import { quote } from "../shared/quote.js";
import type { TimerRow } from "../timers/timerStore.js";
import type { SentEvent } from "./handoffActions.js";
import { MINUTE_MS, TIMER_HANDOFF_DEADLINE, TIMER_HANDOFF_ESCALATE, type OpenRequest } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import { isClear } from "../shared/handoffApi.js";
import { cancelled, chargeEscalation, chargeTold, deadlineReminder, noChargeRole, opening, outstandingText } from "./handoffMessages.js";
import { chargeOf, type HandoffOpener } from "./handoffShiftChange.js";
import { HandoffPart, type HandoffSteps, type Note } from "./handoffSteps.js";
import { OPEN_STATUSES, type Handoff } from "./handoffStore.js";
import type { HandoffUnits } from "./handoffUnits.js";
import { type HandoffUnit } from "./handoffUnitSchema.js";

/**
 * A handoff from start to end: opened with its room and opening message, loaded open for the
 * other steps, cancelled, reminded at its deadline, escalated to the charge role, and settled
 * after an interruption. Presenting, read-backs and sign-off are in their own parts.
 */
export class HandoffLifecycle extends HandoffPart implements HandoffOpener {
  constructor(steps: HandoffSteps, private readonly units: HandoffUnits) {
    super(steps);
  }

  async start(input: { actor: string; incoming: string; unit?: string; sourceRoomId: string; scheduledFor?: Date }, requestId?: string): Promise<HandoffView> {
    const incoming = typeof input.incoming === "string" ? input.incoming.trim() : "";
    if (!matrixUserId.safeParse(incoming).success) throw new HandoffError("invalid_input", `Name the incoming clinician by their Matrix id, e.g. @alice:hospital.example.org.`);
    if (incoming === input.actor) throw new HandoffError("invalid_input", "You cannot hand off to yourself. Name the clinician who takes over from you.");
    if (incoming.startsWith(BOT_PREFIX)) throw new HandoffError("invalid_input", "Hand off to a clinician, not to a Rounds bot.");
    const unit = await this.units.findUnit(input.unit, input.sourceRoomId);
    if (!(await this.deps.userExists(incoming))) throw new HandoffError("unknown_user", `${quote(incoming)} is not a known user. Check the spelling of their Matrix id.`);
    return this.open({ unit, outgoing: input.actor, incoming, startedBy: input.actor, sourceRoomId: input.sourceRoomId, scheduledFor: input.scheduledFor ?? null, requestId });
  }

  open(p: OpenRequest): Promise<HandoffView> {
    // Two starts for the same pair at once (a double click, a command and a widget) make one handoff.
    return this.steps.lock.run(`start:${p.unit.id}:${p.outgoing}:${p.incoming}`, () => this.openOnce(p));
  }

  resume(h: Handoff): Promise<HandoffView> {
    return this.steps.lock.run(h.id, async () => this.read.view(await this.ensureRoom(h)));
  }

  private async openOnce(p: OpenRequest): Promise<HandoffView> {
    const { store } = this.deps;
    const existing = await store.openBetween(p.unit.id, p.outgoing, p.incoming);
    // This request's own handoff, retried after a failure part-way: finish opening it.
    if (existing && (await this.steps.effects.made(p.requestId, existing.id, "started"))) return this.opened(existing);
    if (existing) {
      throw new HandoffError("invalid_transition", `Handoff #${existing.number} from ${p.outgoing} to ${p.incoming} on ${p.unit.name} is already open. Continue it in its room.`);
    }
    const at = this.steps.now();
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
      await this.steps.armSettle(id, trx);
      await store.audit(id, "started", p.startedBy, at, { unit: p.unit.id, outgoing: p.outgoing, incoming: p.incoming, scheduled_for: p.scheduledFor?.toISOString() ?? null }, trx);
      await this.steps.effects.record(p.requestId, id, "started", trx);
      return created;
    });
    this.deps.wakeTimers();
    this.steps.count(h, "started");
    return this.opened(h);
  }

  /** A new handoff's room, opening message and state, made or finished (each step is keyed). */
  private async opened(h: Handoff): Promise<HandoffView> {
    const ready = await this.steps.lock.run(h.id, () => this.ensureRoom(h));
    await this.steps.settled(h.id);
    return this.read.view(ready);
  }

  /** Creates the handoff room and its opening message, or finishes doing so; every step is keyed. */
  private async ensureRoom(h: Handoff): Promise<Handoff> {
    const unit = await this.units.unitOf(h);
    let roomId = h.roomId;
    if (!roomId) {
      roomId = await this.deps.rooms.openRoom(`handoff:${h.id}`, {
        // No PHI in a room name: the unit and the number only.
        name: `Handoff #${h.number} · ${unit.name}`,
        members: [h.outgoing, h.incoming],
        initialState: [
          { type: StateType.Handoff, stateKey: h.id, content: this.read.stateOf(h, await this.read.counts(h), unit.name) },
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
    await this.read.mirror(now);
    return now;
  }

  private handoffWidget(h: Handoff): RoomWidget {
    return { id: "rounds-handoff", name: `Handoff #${h.number}`, url: this.deps.options.handoffWidgetUrl, data: { handoff_id: h.id }, heightPercent: 60 };
  }

  /** The handoff, refused once it is over; its room is finished first if a crash left it unmade. */
  async loadOpen(id: string): Promise<Handoff> {
    const h = await this.read.load(id);
    if (h.status === "completed") throw new HandoffError("invalid_transition", `Handoff #${h.number} is already signed off and complete; its report is in its room.`);
    if (h.status === "cancelled") throw new HandoffError("invalid_transition", `Handoff #${h.number} was cancelled. Start a new one with !handoff start.`);
    if (!h.roomId || !h.anchorEventId) return this.ensureRoom(h);
    return h;
  }

  /**
   * An event a widget sent: the same event again is answered from the record; a new one is
   * checked, parsed and applied under its handoff's lock.
   */
  async recordSent<C>(actor: string, event: SentEvent, type: string, parse: (content: unknown) => C, apply: (id: string, content: C) => Promise<HandoffView>): Promise<HandoffView> {
    const recorded = await this.steps.recordedBefore(actor, event, type);
    if (recorded) return recorded;
    const h = await this.fromEvent(actor, event, type);
    const content = parse(event.content);
    return this.steps.lock.run(h.id, () => apply(h.id, content));
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

  async cancel(id: string, actor: string, note?: Note, requestId?: string): Promise<HandoffView> {
    const { lock, effects } = this.steps;
    if (await effects.made(requestId, id, "cancelled")) {
      return lock.run(id, async () => {
        const h = await this.read.load(id);
        await this.announceCancel(h, actor);
        await this.steps.finished(h);
        return this.read.view(h);
      });
    }
    const h0 = await this.loadOpen(id);
    this.steps.mustBeParticipant(h0, actor, "cancel");
    return lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.loadOpen(id);
      const noteEventId = note ? await this.steps.noteEvent(h, actor, "cancel", note) : null;
      const at = this.steps.now();
      const ok = await store.db.transaction(async (trx) => {
        if (!(await store.update(h.id, { status: "cancelled", cancelled_at: at, cancelled_by: actor }, { statuses: OPEN_STATUSES, trx }))) return false;
        await this.deps.timers.cancelAll(TIMER_HANDOFF_DEADLINE, h.id, trx);
        await this.deps.timers.cancelAll(TIMER_HANDOFF_ESCALATE, h.id, trx);
        await store.audit(h.id, "cancelled", actor, at, { note_event_id: noteEventId }, trx);
        await effects.record(requestId, h.id, "cancelled", trx);
        await this.steps.armSettle(h.id, trx);
        return true;
      });
      if (!ok) throw new HandoffError("invalid_transition", `Handoff #${h.number} changed at the same moment. Reload and try again.`);
      const now = (await store.get(h.id))!;
      this.steps.count(now, "cancelled");
      await this.announceCancel(now, actor);
      await this.steps.finished(now);
      return this.read.view(now);
    });
  }

  private async announceCancel(h: Handoff, actor: string): Promise<void> {
    await this.steps.postInRoom(h, { body: cancelled(h.number, actor), mentions: [actor === h.outgoing ? h.incoming : h.outgoing] }, `cancel:${h.id}`);
  }

  /** The deadline passed: remind both, and arm the escalation to the charge role. */
  async onDeadline(timer: TimerRow): Promise<void> {
    await this.whileOpen(timer, async (h, unit) => {
      const { store } = this.deps;
      const escalateAt = new Date(this.steps.now().getTime() + (unit.escalate_after_minutes ?? this.deps.options.escalateAfterMinutes) * MINUTE_MS);
      const marked = await store.db.transaction(async (trx) => {
        const ok = await store.update(h.id, { overdue: true }, { statuses: OPEN_STATUSES, trx });
        if (!ok) return false;
        // Scheduling is idempotent; the audit entry is written once even if this timer is retried.
        await this.deps.timers.schedule(TIMER_HANDOFF_ESCALATE, h.id, "0", escalateAt, trx);
        if (!h.overdue) await store.audit(h.id, "deadline_missed", "rounds", this.steps.now(), { deadline: h.deadline.toISOString() }, trx);
        return true;
      });
      if (!marked) return;
      this.deps.wakeTimers();
      const now = (await store.get(h.id))!;
      this.steps.count(now, "overdue");
      const o = await this.read.outstanding(now);
      const left = isClear(o) ? "only the sign-offs are left" : outstandingText(o);
      await this.steps.postInRoom(now, { body: deadlineReminder(h, unit, left, escalateAt), mentions: [h.outgoing, h.incoming] }, `deadline:${h.id}`);
      await this.read.mirror(now);
    });
  }

  /** Still not signed off after the reminder: the unit's charge role is told and invited. */
  async onEscalate(timer: TimerRow): Promise<void> {
    await this.whileOpen(timer, async (h, unit) => {
      const { store } = this.deps;
      // Escalated already: this is a retry after a crash, so only the (keyed) telling is finished.
      const charge = h.escalatedAt ? h.escalatedTo : (await chargeOf(this.deps, unit, this.steps.now())).filter((u) => u !== h.outgoing && u !== h.incoming);
      if (!h.escalatedAt) {
        const at = this.steps.now();
        const ok = await store.db.transaction(async (trx) => {
          if (!(await store.update(h.id, { escalated_to: JSON.stringify(charge), escalated_at: at }, { statuses: OPEN_STATUSES, trx }))) return false;
          await store.audit(h.id, "escalated", "rounds", at, { to: charge }, trx);
          return true;
        });
        if (!ok) return;
        this.steps.count(h, "escalated");
      }
      const now = (await store.get(h.id))!;
      if (!charge.length) {
        this.deps.log.warn({ handoff: h.id, unit: unit.id }, "handoff: overdue, but the unit has no charge role to tell");
        await this.steps.postInRoom(now, { body: noChargeRole(h.number, unit.name), mentions: [h.outgoing, h.incoming] }, `escalate:${h.id}`);
        await this.read.mirror(now);
        return;
      }
      const o = await this.read.outstanding(now);
      const left = isClear(o) ? "waiting for the sign-offs" : outstandingText(o);
      // Invited so they can follow up in the room from now on (earlier messages stay unreadable to them).
      if (h.roomId) await this.deps.rooms.invite(h.roomId, charge);
      for (const u of charge) {
        await this.deps.notifier.tellUser(u, chargeEscalation(h, unit, left), `handoff-escalate:${h.id}:${u}`);
      }
      await this.steps.postInRoom(now, { body: chargeTold(h.number, charge), mentions: [h.outgoing, h.incoming] }, `escalate:${h.id}`);
      await this.read.mirror(now);
    });
  }

  /** A timer of an open handoff, run under its lock; one for a handoff that has ended does nothing. */
  private whileOpen(timer: TimerRow, run: (h: Handoff, unit: HandoffUnit) => Promise<void>): Promise<void> {
    return this.steps.lock.run(timer.ref, async () => {
      const h = await this.deps.store.get(timer.ref);
      if (!h || !OPEN_STATUSES.includes(h.status)) return;
      await run(h, await this.units.unitOf(h));
    });
  }

  /** Finishes what a transition committed but may not have done: the room and the state event. */
  async onSettle(timer: TimerRow): Promise<void> {
    await this.steps.lock.run(timer.ref, async () => {
      const h = await this.deps.store.get(timer.ref);
      if (!h) return;
      if (!h.roomId || !h.anchorEventId) await this.ensureRoom(h);
      else await this.read.mirror(h);
      this.deps.log.info({ handoff: h.id, status: h.status }, "handoff: settled after an interruption");
    });
  }
}
