import { HandoffAnswerContentSchema, HandoffEventType, HandoffQuestionContentSchema, HandoffReadBackContentSchema } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import type { SentEvent } from "./handoffActions.js";
import { HandoffError } from "./handoffErrors.js";
import type { HandoffLifecycle } from "./handoffLifecycle.js";
import { questionAnswered, questionAsked, readBackDone } from "./handoffMessages.js";
import { HandoffPart, parseContent, type HandoffSteps } from "./handoffSteps.js";

/**
 * Closing the loop on each patient: the incoming clinician reads it back, and either clinician
 * asks a question the other answers. Each comes from the widget (an event it sent) or a command
 * (the bot sends the event on the clinician's behalf).
 */
export class HandoffReadBacks extends HandoffPart {
  constructor(steps: HandoffSteps, private readonly life: HandoffLifecycle) {
    super(steps);
  }

  recordReadBack(actor: string, event: SentEvent): Promise<HandoffView> {
    const parse = (c: unknown) => parseContent(HandoffReadBackContentSchema, c, "read-back");
    return this.life.recordSent(actor, event, HandoffEventType.ReadBack, parse, (id, content) => this.applyReadBack(id, actor, event.eventId, content));
  }

  async readBack(id: string, actor: string, entryNumber: number, summary: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.steps.lock.run(id, async () => {
      const h = await this.life.loadOpen(id);
      this.steps.mustBeIncoming(h, actor, "read back");
      const entry = await this.read.entryByNumber(h, entryNumber);
      const content = parseContent(HandoffReadBackContentSchema, { handoff_id: h.id, entry_id: entry.entryId, item_event_id: entry.itemEventId, summary, by: actor }, "read-back");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.ReadBack, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: entry.itemEventId } }, `handoff:${txnKey}:readback`);
      return this.applyReadBack(h.id, actor, eventId, content);
    });
  }

  private async applyReadBack(id: string, actor: string, eventId: string, content: { handoff_id: string; entry_id: string; item_event_id: string }): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.life.loadOpen(id);
    this.steps.mustBeIncoming(h, actor, "read back");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That read-back belongs to another handoff than #${h.number}.`);
    const at = this.steps.now();
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "readback", trx))) return false;
      const entry = await store.entry(h.id, content.entry_id, trx);
      if (!entry || entry.removedAt) throw new HandoffError("not_found", "That patient is not on the list any more.");
      if (entry.itemEventId !== content.item_event_id) {
        throw new HandoffError("invalid_transition", `That patient was changed since you read it (now version ${entry.version}). Read the latest version back.`);
      }
      await store.setReadBack(h.id, entry.entryId, { eventId, by: actor, version: entry.version, at }, trx);
      await store.audit(h.id, "read_back", actor, at, { entry_id: entry.entryId, version: entry.version, event_id: eventId }, trx);
      await this.steps.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    if (recorded || (await this.steps.recordedHere(h.id, eventId))) {
      const number = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      await this.steps.postInRoom(now, { body: readBackDone(actor, number), notice: true }, `readback:${eventId}`);
      await this.steps.finished(now);
    }
    return this.read.view(now);
  }

  recordQuestion(actor: string, event: SentEvent): Promise<HandoffView> {
    const parse = (c: unknown) => parseContent(HandoffQuestionContentSchema, c, "question");
    return this.life.recordSent(actor, event, HandoffEventType.Question, parse, (id, content) => this.applyQuestion(id, actor, event.eventId, content));
  }

  async ask(id: string, actor: string, entryNumber: number, text: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.steps.lock.run(id, async () => {
      const h = await this.life.loadOpen(id);
      this.steps.mustBeParticipant(h, actor, "ask questions on");
      const entry = await this.read.entryByNumber(h, entryNumber);
      const content = parseContent(HandoffQuestionContentSchema, { handoff_id: h.id, entry_id: entry.entryId, text, by: actor }, "question");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Question, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: entry.itemEventId } }, `handoff:${txnKey}:question`);
      return this.applyQuestion(h.id, actor, eventId, content);
    });
  }

  private async applyQuestion(id: string, actor: string, eventId: string, content: { handoff_id: string; entry_id: string; text: string }): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.life.loadOpen(id);
    this.steps.mustBeParticipant(h, actor, "ask questions on");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That question belongs to another handoff than #${h.number}.`);
    const at = this.steps.now();
    let number = 0;
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "question", trx))) return false;
      const entry = await store.entry(h.id, content.entry_id, trx);
      if (!entry || entry.removedAt) throw new HandoffError("not_found", "That patient is not on the list any more.");
      number = await store.addQuestion(h.id, { entryId: entry.entryId, eventId, askedBy: actor, at }, trx);
      await store.audit(h.id, "question", actor, at, { entry_id: entry.entryId, question: number, event_id: eventId }, trx);
      await this.steps.armSettle(h.id, trx);
      return true;
    });
    const now = (await store.get(h.id))!;
    if (recorded) this.deps.metrics.handoffQuestions.inc({ unit: h.unitId });
    else if (await this.steps.recordedHere(h.id, eventId)) number = (await store.questions(h.id)).find((q) => q.eventId === eventId)?.number ?? 0;
    if (recorded || number) {
      const patient = (await store.entry(h.id, content.entry_id))?.number ?? 0;
      const other = actor === h.outgoing ? h.incoming : h.outgoing;
      await this.steps.postInRoom(now, { body: questionAsked({ number, patient, actor, text: content.text }), mentions: [other] }, `question:${eventId}`);
      await this.steps.finished(now);
    }
    return this.read.view(now);
  }

  recordAnswer(actor: string, event: SentEvent): Promise<HandoffView> {
    const parse = (c: unknown) => parseContent(HandoffAnswerContentSchema, c, "answer");
    return this.life.recordSent(actor, event, HandoffEventType.Answer, parse, (id, content) => this.applyAnswer(id, actor, event.eventId, content));
  }

  async answer(id: string, actor: string, questionNumber: number, text: string, txnKey: string): Promise<HandoffView> {
    // Checked, sent and recorded under the handoff's lock, so no refusal comes after the event is out.
    return this.steps.lock.run(id, async () => {
      const h = await this.life.loadOpen(id);
      this.steps.mustBeParticipant(h, actor, "answer questions on");
      const q = (await this.deps.store.questions(h.id)).find((x) => x.number === questionNumber);
      if (!q) throw new HandoffError("not_found", `Handoff #${h.number} has no question Q${questionNumber}. Send !handoff status to see the open ones.`);
      // This request's own answer, retried after a failure part-way: finish telling people.
      if (q.answerEventId && q.answeredBy === actor && (await this.steps.effects.made(txnKey, q.eventId, "answered"))) return this.afterAnswer(h.id, actor, q.answerEventId);
      // Refused before the answer is posted: a refusal leaves no stray answer in the room.
      if (q.answerEventId) throw new HandoffError("invalid_transition", `Question Q${q.number} was already answered by ${q.answeredBy}.`);
      if (q.askedBy === actor) throw this.steps.ownQuestion(h, q.number, q.askedBy);
      const content = parseContent(HandoffAnswerContentSchema, { handoff_id: h.id, question_event_id: q.eventId, text, by: actor }, "answer");
      const eventId = await this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Answer, { ...content, "m.relates_to": { rel_type: "m.reference", event_id: q.eventId } }, `handoff:${txnKey}:answer`);
      return this.applyAnswer(h.id, actor, eventId, content, txnKey);
    });
  }

  private async applyAnswer(id: string, actor: string, eventId: string, content: { handoff_id: string; question_event_id: string; text: string }, requestId?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const h = await this.life.loadOpen(id);
    this.steps.mustBeParticipant(h, actor, "answer questions on");
    if (content.handoff_id !== h.id) throw new HandoffError("invalid_input", `That answer belongs to another handoff than #${h.number}.`);
    const at = this.steps.now();
    let number = 0;
    const recorded = await store.db.transaction(async (trx) => {
      if (!(await store.claimEvent(h.id, eventId, "answer", trx))) return false;
      const q = (await store.questions(h.id, trx)).find((x) => x.eventId === content.question_event_id);
      if (!q) throw new HandoffError("not_found", "That answer names a question this handoff does not have.");
      if (q.answerEventId) throw new HandoffError("invalid_transition", `Question Q${q.number} was already answered by ${q.answeredBy}.`);
      if (q.askedBy === actor) throw this.steps.ownQuestion(h, q.number, q.askedBy);
      number = q.number;
      if (!(await store.answerQuestion(h.id, q.eventId, { eventId, by: actor, at }, trx))) {
        throw new HandoffError("invalid_transition", `Question Q${q.number} was answered at the same moment. Reload to see the answer.`);
      }
      await store.audit(h.id, "answered", actor, at, { question: q.number, event_id: eventId }, trx);
      await this.steps.effects.record(requestId, q.eventId, "answered", trx);
      await this.steps.armSettle(h.id, trx);
      return true;
    });
    if (!recorded && !(await this.steps.recordedHere(h.id, eventId))) return this.read.view((await store.get(h.id))!);
    return this.afterAnswer(h.id, actor, eventId, number || undefined, content.text);
  }

  /** An answer's message and state; also when the same answer comes again after a failure part-way. */
  private async afterAnswer(id: string, actor: string, eventId: string, number?: number, text?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const now = (await store.get(id))!;
    const q = number === undefined ? (await store.questions(id)).find((x) => x.answerEventId === eventId) : undefined;
    const body = text ?? (await this.read.textOf(now, eventId, "text"));
    await this.steps.postInRoom(now, { body: questionAnswered(number ?? q?.number ?? 0, actor, body ?? "") }, `answer:${eventId}`);
    await this.steps.finished(now);
    return this.read.view(now);
  }
}
