import { HandoffEventType, HandoffItemContentSchema, type HandoffItemContent } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import type { ItemSections, SentEvent } from "./handoffActions.js";
import { HandoffError } from "./handoffErrors.js";
import type { HandoffLifecycle } from "./handoffLifecycle.js";
import { itemText, patientRemoved, plural, readAgain, signOffsWithdrawn } from "./handoffMessages.js";
import { effectKey, entryIdFor, HandoffPart, parseContent, splitEffectKey, type HandoffSteps } from "./handoffSteps.js";
import { OPEN_STATUSES } from "./handoffStore.js";
import { armTaskTimers } from "./handoffTasks.js";
import type { HandoffUnits } from "./handoffUnits.js";

/** The outgoing clinician's list: patients presented (from the widget or a command), edited, removed and reordered. */
export class HandoffItems extends HandoffPart {
  constructor(
    steps: HandoffSteps,
    private readonly life: HandoffLifecycle,
    private readonly units: HandoffUnits,
  ) {
    super(steps);
  }

  recordItem(actor: string, event: SentEvent): Promise<HandoffView> {
    const parse = (c: unknown) => parseContent(HandoffItemContentSchema, c, "handoff item");
    return this.life.recordSent(actor, event, HandoffEventType.Item, parse, (id, content) => this.applyItem(id, actor, event.eventId, content));
  }

  async presentItem(id: string, actor: string, input: { entryNumber?: number; sections: ItemSections }, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.steps.lock.run(id, async () => {
      const h = await this.life.loadOpen(id);
      this.steps.mustBeOutgoing(h, actor);
      let content: Record<string, unknown>;
      if (input.entryNumber === undefined) {
        // Derived from the command, so a retried command makes the same patient, not a second one.
        content = { ...input.sections, handoff_id: h.id, entry_id: entryIdFor(txnKey), version: 1, template: h.template, presented_by: actor };
      } else {
        const entry = await this.read.entryByNumber(h, input.entryNumber);
        const current = await this.read.itemContent(h, entry.itemEventId);
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
    const h = await this.life.loadOpen(id);
    this.steps.mustBeOutgoing(h, actor);
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That item belongs to another handoff than #${h.number}.`);
    if (content.template !== h.template) throw new HandoffError("invalid_input", `Handoff #${h.number} uses the ${h.template === "ipass" ? "I-PASS" : "SBAR"} template; send the item in that format.`);
    const at = this.steps.now();
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
      await armTaskTimers(this.deps.timers, h.id, content, trx);
      // A sign-off vouches for the list as it was: a changed list needs signing again.
      cleared = await this.steps.withdrawSignOffs(h.id, trx);
      await store.update(h.id, { status: "presenting" }, { statuses: OPEN_STATUSES, trx });
      await store.audit(h.id, content.version === 1 ? "presented" : "edited", actor, at, { entry_id: content.entry_id, version: content.version, event_id: eventId }, trx);
      await this.steps.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    // The same event again (a retried command): its messages and state are finished, each once.
    if (recorded || (await this.steps.recordedHere(h.id, eventId))) {
      const number = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      // Due times in the unit's zone, labelled, as `!handoff show` gives them.
      const zone = (await this.units.unitOf(now)).timezone;
      const echo = itemText(content, { number, version: content.version, presentedBy: actor, outgoing: now.outgoing, zone, now: at });
      await this.steps.postInRoom(now, { body: echo }, `item:${eventId}`);
      if (invalidatedReadBack) await this.steps.postInRoom(now, { body: readAgain(number, now.incoming), mentions: [now.incoming] }, `item:${eventId}:reread`);
      if (cleared) await this.steps.postInRoom(now, { body: signOffsWithdrawn() }, `item:${eventId}:unsigned`);
      await this.steps.finished(now);
    }
    return this.read.view(now);
  }

  async removeEntry(id: string, actor: string, entryId: string, requestId?: string): Promise<HandoffView> {
    return this.steps.lock.run(id, async () => {
      const { store } = this.deps;
      const { effects } = this.steps;
      const h = await this.life.loadOpen(id);
      this.steps.mustBeOutgoing(h, actor);
      const at = this.steps.now();
      const entry = await store.entry(h.id, entryId);
      // This request's own removal, retried after a failure part-way: finish its message and state.
      const own = entry?.removedAt ? await effects.made(requestId, effectKey(h.id, entryId), "patient_removed") : false;
      if (!entry || (entry.removedAt && !own)) throw new HandoffError("not_found", "That patient is not on the list (it may have been removed already).");
      if (!own) {
        const removed = await store.db.transaction(async (trx) => {
          if (!(await store.removeEntry(h.id, entryId, at, trx))) return false;
          await store.removeEntryTasks(h.id, entryId, trx);
          await this.steps.withdrawSignOffs(h.id, trx);
          await store.audit(h.id, "removed", actor, at, { entry_id: entryId, patient: entry.number }, trx);
          await effects.record(requestId, effectKey(h.id, entryId), "patient_removed", trx);
          await this.steps.armSettle(h.id, trx);
          return true;
        });
        if (!removed) throw new HandoffError("not_found", "That patient is not on the list (it may have been removed already).");
      }
      const now = (await store.get(h.id))!;
      await this.steps.postInRoom(now, { body: patientRemoved(entry.number, actor), notice: true }, `remove:${h.id}:${entryId}`);
      await this.steps.finished(now);
      return this.read.view(now);
    });
  }

  async removedBy(id: string, requestId: string | undefined): Promise<{ entry_id: string; number: number } | null> {
    const key = await this.steps.effects.objectOf(requestId, "patient_removed");
    const [handoffId, entryId] = key ? splitEffectKey(key) : [];
    if (handoffId !== id || !entryId) return null;
    const entry = await this.deps.store.entry(id, entryId);
    return entry ? { entry_id: entry.entryId, number: entry.number } : null;
  }

  async reorder(id: string, actor: string, entryIds: string[]): Promise<HandoffView> {
    return this.steps.lock.run(id, async () => {
      const { store } = this.deps;
      const h = await this.life.loadOpen(id);
      this.steps.mustBeOutgoing(h, actor);
      const current = (await store.entries(h.id)).map((e) => e.entryId);
      const same = entryIds.length === current.length && new Set(entryIds).size === entryIds.length && entryIds.every((e) => current.includes(e));
      if (!same) throw new HandoffError("invalid_input", `Give every patient on the list once, in the new order (the list has ${plural(current.length, "patient")}).`);
      await store.db.transaction(async (trx) => {
        await store.setPositions(h.id, entryIds, trx);
        await store.audit(h.id, "reordered", actor, this.steps.now(), { entry_ids: entryIds }, trx);
      });
      // The state holds no order, so there is nothing to mirror.
      return this.read.view((await store.get(h.id))!);
    });
  }
}
