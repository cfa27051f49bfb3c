import { INCIDENT_CATEGORIES, type IncidentCategory } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import { TIMER_HANDOFF_DEADLINE, TIMER_HANDOFF_ESCALATE, TIMER_HANDOFF_REPORT } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import type { HandoffLifecycle } from "./handoffLifecycle.js";
import { isClear } from "../shared/handoffApi.js";
import { completed, incidentForReviewer, incidentNotice, outstandingText, signedOff } from "./handoffMessages.js";
import { HandoffPart, type HandoffSteps, type Note } from "./handoffSteps.js";
import { OPEN_STATUSES, type Handoff } from "./handoffStore.js";
import type { HandoffUnits } from "./handoffUnits.js";

/** The end of a handoff: the checklist, both sign-offs (the second completes it), and incidents reported from it. */
export class HandoffSignOff extends HandoffPart {
  constructor(steps: HandoffSteps, private readonly life: HandoffLifecycle, private readonly units: HandoffUnits) {
    super(steps);
  }

  async setChecklist(id: string, actor: string, index: number, done: boolean): Promise<HandoffView> {
    return this.steps.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.life.loadOpen(id);
      this.steps.mustBeParticipant(h, actor, "tick the checklist of");
      if (!Number.isInteger(index) || index < 0 || index >= h.checklist.length) {
        throw new HandoffError("invalid_input", h.checklist.length ? `The checklist has items 1 to ${h.checklist.length}.` : `${h.unitId} has no handoff checklist.`);
      }
      const at = this.steps.now();
      const checklist = h.checklist.map((c, i) => (i === index ? { ...c, done, by: done ? actor : null, ts: done ? at.getTime() : null } : c));
      await store.db.transaction(async (trx) => {
        await store.update(h.id, { checklist: JSON.stringify(checklist) }, { statuses: OPEN_STATUSES, trx });
        await store.audit(h.id, done ? "checked" : "unchecked", actor, at, { index, label: checklist[index]!.label }, trx);
        await this.steps.armSettle(h.id, trx);
      });
      const now = (await store.get(h.id))!;
      await this.steps.finished(now);
      return this.read.view(now);
    });
  }

  /** `requestId`: the command's event id; the same request again finishes what it left undone. */
  async signOff(id: string, actor: string, override?: Note, requestId?: string): Promise<HandoffView> {
    const { lock, effects } = this.steps;
    if (await effects.made(requestId, id, "signed_off")) return lock.run(id, () => this.finishSignOff(id, actor));
    const h0 = await this.life.loadOpen(id);
    this.steps.mustBeParticipant(h0, actor, "sign off");
    // Validate before sending anything: a refused sign-off posts no note.
    if (override && "reason" in override && override.reason.trim().length < 5) {
      throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
    }
    return lock.run(id, async () => {
      const { store, metrics } = this.deps;
      const h = await this.life.loadOpen(id);
      const signed = await store.signOffs(h.id);
      if (signed.some((s) => s.userId === actor)) throw new HandoffError("invalid_transition", `You have already signed off handoff #${h.number}; waiting for ${actor === h.outgoing ? h.incoming : h.outgoing}.`);
      const outstanding = await this.read.outstanding(h);
      const clear = isClear(outstanding);
      if (!clear && !override) {
        throw new HandoffError(
          "sign_off_blocked",
          `Handoff #${h.number} cannot be signed off yet: ${outstandingText(outstanding)}. Finish them, or sign off with an override and a reason (!handoff signoff override <reason>).`,
        );
      }
      const noteEventId = !clear && override ? await this.steps.noteEvent(h, actor, "override", override) : null;
      const at = this.steps.now();
      const bothSigned = signed.length + 1 >= 2;
      const entries = await store.entries(h.id);
      const questions = await this.read.activeQuestions(h.id, entries);
      let moved = 0;
      const ok = await store.db.transaction(async (trx) => {
        if (!(await store.addSignOff(h.id, { userId: actor, at, overrideEventId: noteEventId, outstanding: noteEventId ? outstanding : null }, trx))) return false;
        await store.audit(h.id, "signed_off", actor, at, {}, trx);
        await effects.record(requestId, h.id, "signed_off", trx);
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
        await this.steps.armSettle(h.id, trx);
        return true;
      });
      if (!ok) throw new HandoffError("invalid_transition", `Handoff #${h.number} changed at the same moment. Reload and try again.`);
      const now = (await store.get(h.id))!;
      if (noteEventId) metrics.handoffOverrides.inc({ unit: h.unitId });
      this.steps.count(now, "signed_off");
      if (bothSigned) {
        this.deps.wakeTimers();
        this.steps.count(now, "completed");
        const seconds = (at.getTime() - h.createdAt.getTime()) / 1000;
        metrics.handoffDuration.observe({ unit: h.unitId }, seconds);
        const readBack = entries.filter((e) => e.readbackVersion === e.version).length;
        metrics.handoffPatients.inc({ unit: h.unitId, read_back: "yes" }, readBack);
        metrics.handoffPatients.inc({ unit: h.unitId, read_back: "no" }, entries.length - readBack);
      }
      await this.announceSignOff(now, actor, { completed: bothSigned, overridden: noteEventId !== null, moved });
      await this.steps.finished(now);
      return this.read.view(now);
    });
  }

  /** The sign-off's message; keyed, so a retry after a failure part-way sends it once. */
  private async announceSignOff(h: Handoff, actor: string, what: { completed: boolean; overridden: boolean; moved: number }): Promise<void> {
    if (what.completed) {
      await this.steps.postInRoom(h, { body: completed(h, what.moved), mentions: [h.outgoing, h.incoming] }, `signoff:${h.id}:${actor}`);
    } else {
      const other = actor === h.outgoing ? h.incoming : h.outgoing;
      await this.steps.postInRoom(h, { body: signedOff({ actor, number: h.number, overridden: what.overridden, other }), mentions: [other] }, `signoff:${h.id}:${actor}`);
    }
  }

  /** A sign-off this command already recorded, retried: what it had left to do, from what was recorded. */
  private async finishSignOff(id: string, actor: string): Promise<HandoffView> {
    const h = await this.read.load(id);
    const own = (await this.deps.store.signOffs(h.id)).find((x) => x.userId === actor);
    const transferred = h.status === "completed" ? (await this.deps.store.auditOf(h.id)).find((a) => a.action === "tasks_transferred") : undefined;
    await this.announceSignOff(h, actor, { completed: h.status === "completed", overridden: Boolean(own?.overrideEventId), moved: Number(transferred?.refs.count ?? 0) });
    await this.steps.finished(h);
    return this.read.view(h);
  }

  async reportIncident(
    id: string,
    actor: string,
    input: { entryId: string; category: IncidentCategory; note?: { noteEventId: string } | { description: string; txnKey: string }; requestKey?: string },
  ): Promise<{ handoff: HandoffView; incident: number }> {
    const { store } = this.deps;
    const h = await this.read.load(id);
    if (actor !== h.outgoing && actor !== h.incoming && !h.escalatedTo.includes(actor)) {
      throw new HandoffError("forbidden", `Only the people in handoff #${h.number} can report an incident from it.`);
    }
    if (!INCIDENT_CATEGORIES.includes(input.category)) throw new HandoffError("invalid_input", `Choose a category: ${INCIDENT_CATEGORIES.join(", ")}.`);
    const entry = await store.entry(h.id, input.entryId);
    if (!entry) throw new HandoffError("not_found", "That patient is not on this handoff's list.");
    const note = input.note && "description" in input.note ? { reason: input.note.description, txnKey: input.note.txnKey } : input.note;
    const noteEventId = note ? await this.steps.noteEvent(h, actor, "incident", note) : null;
    const sourceKey = input.requestKey ? `req:${input.requestKey}` : note && "txnKey" in note ? `txn:${note.txnKey}` : noteEventId ? `note:${noteEventId}` : null;
    const at = this.steps.now();
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
    const unit = await this.units.unitOf(h);
    const patient = entry.number;
    const told = { incident: number, category: input.category, number: h.number, unitName: unit.name, patient, actor, roomId: h.roomId!, itemEventId: entry.itemEventId };
    for (const r of unit.incident_reviewers) {
      await this.deps.notifier
        .tellUser(r, incidentForReviewer(told), `handoff-incident:${number}:${r}`)
        .catch((err: unknown) => this.deps.log.error({ handoff: h.id, err: (err as Error).message }, "handoff: could not tell an incident reviewer"));
    }
    await this.steps.postInRoom(h, { body: incidentNotice({ actor, incident: number, category: input.category, patient }), notice: true }, `incident:${number}`);
    return { handoff: await this.read.view((await store.get(h.id))!), incident: number };
  }
}
