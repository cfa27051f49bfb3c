import { ulid } from "ulid";
import { CommandEffects } from "../db/commandEffects.js";
import type { Db } from "../db/connect.js";
import type { Logger } from "../logging.js";
import { UnknownServiceError } from "../oncall/oncallService.js";
import { KeyedLock } from "../shared/keyedLock.js";
import type { Notifier } from "../ports/notifier.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { quote } from "../shared/quote.js";
import {
  CONSULT_OUTCOMES,
  ConsultAttachmentSchema,
  ConsultEventType,
  ConsultNoteContentSchema,
  consultReasonText,
  ConsultReportContentSchema,
  ConsultRequestContentSchema,
  ConsultRequestEvent,
  ConsultStateSchema,
  matrixUserId,
  StateType,
  type ConsultNoteKind,
  type ConsultOutcome,
  type ConsultReportContent,
  type ConsultRequestContent,
  type ConsultState,
  type Urgency,
} from "../shared/events/index.js";
import type { TimerRow, TimerStore } from "../timers/timerStore.js";
import { suggestBillingCode } from "./billing.js";
import { ConsultError } from "./consultErrors.js";
import * as messages from "./consultMessages.js";
import { renderReport } from "./consultReport.js";
import { nextCandidate, routeConsult, specialistsOf, type ConsultDirectory } from "./consultRouting.js";
import { ACTIVE_STATUSES, type AcceptVia, type Consult, type ConsultStore } from "./consultStore.js";
import type { ConsultMetrics } from "./consultMetrics.js";
import { responseTimesOf, secondsBetween } from "../shared/responseTimes.js";
import {
  BillingInputSchema,
  type BillingInput,
  type ConsultView,
  type MetricsResponse,
  type MineResponse,
  type SpecialistsResponse,
} from "../shared/consultWidgetApi.js";

export { ConsultError } from "./consultErrors.js";

/**
 * A reason for declining or cancelling: typed to the bot (an encrypted command), or the encrypted
 * note event a widget sent in the consult room, named by its id so the text never crosses the API.
 */
export type ConsultReason = string | { noteEventId: string };

/** A reason typed to the bot, checked before anything is loaded. */
function typedReason(kind: ConsultNoteKind, reason: ConsultReason | undefined): ConsultReason | undefined {
  if (reason === undefined || typeof reason !== "string") return reason;
  if (kind === "cancel" && !reason.trim()) return undefined;
  const text = consultReasonText(kind).safeParse(reason);
  if (!text.success) throw new ConsultError("invalid_input", sentence(text.error.issues[0]!.message));
  return text.data;
}

function sentence(message: string): string {
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

export const TIMER_CONSULT_ACCEPT = "consult.accept";
export const TIMER_CONSULT_RESPOND = "consult.respond";
/**
 * Armed in the same transaction as a transition, and cancelled once its state and messages are
 * out: if the process dies in between, the timer finishes them after the restart.
 */
export const TIMER_CONSULT_SETTLE = "consult.settle";
const SETTLE_AFTER_MS = 30_000;

/** consult.accept steps "deliver:<n>" check that step n was delivered (a safety net for a crash mid-way). */
const DELIVER_PREFIX = "deliver:";
const DELIVERY_GRACE_MS = 90_000;
const ARCHIVE_LIMIT = 100;
const MINUTE_MS = 60_000;
const MIN_EXPECTED_MINUTES = 5;
const MAX_EXPECTED_MINUTES = 7 * 24 * 60;

export interface ConsultOptions {
  /** Minutes a candidate has to accept or decline, per urgency, before the consult escalates. */
  acceptMinutes: Record<Urgency, number>;
  /** Default expected response time when accepting, per urgency. */
  expectedResponseMinutes: Record<Urgency, number>;
  /** URL of the consult widget (Element template vars allowed), installed in each consult room. */
  consultWidgetUrl: string;
  /** Largest attachment a request may carry; unset means no limit. */
  maxAttachmentBytes?: number;
}

export interface ConsultDeps {
  store: ConsultStore;
  oncall: ConsultDirectory;
  timers: TimerStore;
  wakeTimers(): void;
  rooms: RoomWriter;
  notifier: Notifier;
  options: ConsultOptions;
  log: Logger;
  metrics: ConsultMetrics;
  now?: () => Date;
}

type Transition = "requested" | "escalated" | "exhausted" | "declined" | "accepted" | "started" | "completed" | "cancelled" | "overdue";

/**
 * The consultation domain service. Every consult transition (request, accept, decline, start,
 * complete, cancel, feedback, deadlines) goes through here, whatever the adapter: command,
 * widget API, reaction or timer. Transitions are guarded in the database and serialised per
 * consult in process; the state event is rewritten from the row after each one. Clinical text
 * passes through to the encrypted room and is never stored or logged.
 */
export class ConsultService {
  private readonly lock = new KeyedLock();
  private readonly now: () => Date;

  /** Which command made which transition, so a retried command is told from someone else's. */
  private readonly effects: CommandEffects;

  constructor(private readonly deps: ConsultDeps) {
    this.now = deps.now ?? (() => new Date());
    this.effects = new CommandEffects(deps.store.db);
  }

  // --- request and routing ----------------------------------------------------------------

  /**
   * Opens a consult from a structured request. The same source event twice (widget API and
   * inbox, or a retry after a crash) is one consult: the second call finishes what the first
   * left undone.
   */
  async request(input: { requester: string; content: ConsultRequestContent; source: { roomId: string; eventId: string } }): Promise<ConsultView> {
    const parsed = ConsultRequestContentSchema.safeParse(input.content);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ");
      throw new ConsultError("invalid_input", `The consult request is incomplete (${problems}). Correct it and send it again.`);
    }
    if (!matrixUserId.safeParse(input.requester).success) throw new ConsultError("invalid_input", "The requester must be a Matrix user such as @alice:example.org.");
    if (!input.source?.roomId || !input.source.eventId) throw new ConsultError("invalid_input", "The request must name the room and event it was sent as.");
    const content = parsed.data;
    const max = this.deps.options.maxAttachmentBytes;
    // Checked here, so every way in (widget API, inbox, command) refuses alike. The file name stays
    // out of the message: it may name the patient.
    if (max && content.attachments?.some((a) => a.size > max)) {
      throw new ConsultError("invalid_input", `An attachment is larger than ${Math.round(max / 1048576)} MB, so the consult was not sent. Attach a smaller file, or share it another way.`);
    }
    if (content.preferred_specialist === input.requester) {
      throw new ConsultError("invalid_input", "You named yourself as the preferred specialist. Name a colleague, or leave it empty to reach whoever is on call.");
    }
    const { store } = this.deps;
    const existing = await store.bySource(input.source.roomId, input.source.eventId);
    if (existing) {
      if (existing.requester !== input.requester) throw new ConsultError("forbidden", "That request event already made a consult for someone else. Send your own request.");
      return this.view(await this.lock.run(existing.id, () => this.resume(existing.id, content)));
    }

    const service = await this.findService(content.service);
    const at = this.now();
    const route = await routeConsult(this.deps.oncall, service.id, { requester: input.requester, preferred: content.preferred_specialist ?? null }, at);
    if (route.candidates.length === 0) {
      await this.tellCoordinators(service.id, messages.nobodyAvailableDm(service.name, content.urgency), `consult:nobody:${input.source.eventId}`);
      throw new ConsultError(
        "nobody_available",
        `Nobody is on call or available for ${service.name} right now, so the consult was not sent. Call the switchboard; I have told the coordinators.`,
      );
    }
    const acceptBy = this.minutesFrom(at, this.deps.options.acceptMinutes[content.urgency]);
    // Routing and its timers commit together: no crash can leave a consult nobody escalates.
    const created = await store.db.transaction(async (trx) => {
      const c = await store.create(
        {
          id: ulid(),
          serviceId: service.id,
          urgency: content.urgency,
          requester: input.requester,
          preferred: content.preferred_specialist ?? null,
          careTeam: [...new Set(content.care_team ?? [])],
          candidates: [route.candidates[0]!],
          sourceRoomId: input.source.roomId,
          sourceEventId: input.source.eventId,
          acceptBy,
          at,
        },
        trx,
      );
      if (c) await this.armStep(c.id, 0, acceptBy, at, trx);
      return c;
    });
    const consult = created ?? (await store.bySource(input.source.roomId, input.source.eventId))!;
    if (created) {
      this.deps.wakeTimers();
      this.count(created, "requested");
      this.deps.log.info({ consult: created.id, number: created.number, service: service.id, urgency: created.urgency, preferredAvailable: route.preferredAvailable }, "consult: requested");
    }
    return this.view(await this.lock.run(consult.id, () => this.resume(consult.id, content)));
  }

  /** Delivers whatever steps are not delivered yet. Each Matrix call is keyed, so a repeat sends nothing twice. */
  private async resume(id: string, content: ConsultRequestContent | null): Promise<Consult> {
    let c = (await this.deps.store.get(id))!;
    if (c.deliveredStep === null) c = await this.deliverFirst(c, content);
    if (c.status === "requested" && c.deliveredStep !== null && c.deliveredStep < c.step) c = await this.deliverSteps(c);
    return c;
  }

  private async deliverFirst(c: Consult, known: ConsultRequestContent | null): Promise<Consult> {
    const { rooms, store } = this.deps;
    const s = await this.serviceLabel(c.serviceId);
    const widget = { id: "rounds-consult", name: "Consult", url: this.deps.options.consultWidgetUrl, data: { consult_id: c.id } };
    let roomId = c.roomId;
    if (!roomId) {
      // The room is created with its widget pinned and its state set: one request, not four, before
      // the candidate is rung. (A room found again after a crash was created the same way.)
      const members = [...new Set([c.requester, c.candidates[0]!, ...c.careTeam])];
      const initialState = [...rooms.widgetState(widget), { type: StateType.Consult, stateKey: c.id, content: ConsultStateSchema.parse(this.stateOf(c)) }];
      roomId = await rooms.openRoom(`consult:${c.id}`, { name: `Consult ${c.number} · ${s.serviceName}`, members, initialState });
      await store.setRoom(c.id, roomId);
      c = (await store.get(c.id))!;
    } else {
      await rooms.installWidget(roomId, widget);
      c = (await store.get(c.id))!;
      await this.mirror(c);
    }
    const content = known ?? (await this.recoverRequest(c));
    // Ring the candidate first; the structured copy for the widget and the files follow.
    const body = messages.requestMessage(c, s, content, this.deps.options.acceptMinutes[c.urgency]);
    const eventId = await rooms.send(roomId, { body, mentions: [c.candidates[0]!] }, `consult:${c.id}:request:message`);
    if (content) {
      if (!c.requestEventId) {
        const relayed = await rooms.sendEvent(roomId, ConsultEventType.Request, { ...content, consult_id: c.id, ...(await this.anchoredIn(roomId)) }, `consult:${c.id}:request`);
        await store.setRequestEvent(c.id, relayed);
      }
      for (const [i, a] of (content.attachments ?? []).entries()) await rooms.resendFile(roomId, a, `consult:${c.id}:request:file:${i}`);
    }
    // Delivered only once everything is in the room: a failure before this line is retried whole
    // (each send is keyed, so the ring is not repeated).
    await store.recordPrompt(c.id, 0, eventId);
    this.deps.log.info({ consult: c.id, room: roomId, candidate: c.candidates[0] }, "consult: delivered");
    return (await store.get(c.id))!;
  }

  /**
   * A relayed request refers to the room's create event, so the consult widget can fetch every
   * copy through the homeserver's relations: a client whose sync had a gap has dropped older
   * events from its timeline, and a widget reads only what its client holds.
   */
  private async anchoredIn(roomId: string): Promise<{ "m.relates_to": { rel_type: "m.reference"; event_id: string } }> {
    return { "m.relates_to": { rel_type: "m.reference", event_id: await this.deps.rooms.roomCreateEventId(roomId) } };
  }

  /** The request content when the caller does not have it (a timer): read back from the rooms it went through. */
  private async recoverRequest(c: Consult): Promise<ConsultRequestContent | null> {
    const places: [string | null, string | null][] = [
      [c.roomId, c.requestEventId],
      [c.sourceRoomId, c.sourceEventId],
    ];
    for (const [roomId, eventId] of places) {
      if (!roomId || !eventId) continue;
      const content = ConsultRequestEvent.parse(await this.deps.rooms.readEvent(roomId, eventId));
      if (content) return content;
    }
    this.deps.log.warn({ consult: c.id }, "consult: the request content could not be read back");
    return null;
  }

  /** Invites each candidate added since the last delivered step and re-quotes the request for them. */
  private async deliverSteps(c: Consult): Promise<Consult> {
    const { rooms, store } = this.deps;
    const roomId = c.roomId!;
    const acceptMinutes = this.deps.options.acceptMinutes[c.urgency];
    for (let step = c.deliveredStep! + 1; step <= c.step; step++) {
      const who = c.candidates[step]!;
      const before = c.candidates[step - 1]!;
      await rooms.invite(roomId, [who]);
      // People invited later have no key for older messages: the bot reads its own back and re-sends.
      const original = c.requestMessageEventId ? await rooms.readMessage(roomId, c.requestMessageEventId) : null;
      const relayed = c.requestEventId ? await rooms.readEvent(roomId, c.requestEventId) : null;
      if (relayed) {
        await rooms.sendEvent(roomId, ConsultEventType.Request, { ...relayed.content, ...(await this.anchoredIn(roomId)) }, `consult:${c.id}:requote:${step}`);
        const files = Array.isArray(relayed.content.attachments) ? relayed.content.attachments : [];
        for (const [i, f] of files.entries()) {
          const a = ConsultAttachmentSchema.safeParse(f);
          if (a.success) await rooms.resendFile(roomId, a.data, `consult:${c.id}:requote:${step}:file:${i}`);
        }
      }
      const why = c.declinedBy.includes(before) ? `${before} declined` : `${before} did not answer within ${messages.humanMinutes(acceptMinutes)}`;
      const eventId = await rooms.send(roomId, { body: messages.escalationMessage(c, step, why, original, acceptMinutes), mentions: [who] }, `consult:${c.id}:step:${step}`);
      await store.recordPrompt(c.id, step, eventId);
    }
    const fresh = (await store.get(c.id))!;
    await this.mirror(fresh);
    return fresh;
  }

  /** The accept deadline of a step and the safety check that the step was delivered, in the caller's transaction. */
  private async armStep(id: string, step: number, acceptBy: Date, at: Date, trx: Db): Promise<void> {
    await this.deps.timers.schedule(TIMER_CONSULT_ACCEPT, id, String(step), acceptBy, trx);
    await this.deps.timers.schedule(TIMER_CONSULT_ACCEPT, id, `${DELIVER_PREFIX}${step}`, new Date(at.getTime() + DELIVERY_GRACE_MS), trx);
  }

  /** Timer: a candidate let the accept deadline pass, or a delivery check came due. Stale timers do nothing. */
  async onAcceptDeadline(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      let c = await store.get(timer.ref);
      if (!c || c.status !== "requested") return;
      c = await this.resume(c.id, null);
      if (timer.step.startsWith(DELIVER_PREFIX)) return;
      const fromStep = Number(timer.step);
      if (c.step !== fromStep) return;
      if (c.exhausted) {
        // Given up before a crash and not yet said: say it now (every message is keyed).
        await this.announceExhausted(c);
        return;
      }
      const at = this.now();
      const next = await nextCandidate(this.deps.oncall, c.serviceId, c.requester, c.candidates, at);
      if (!next) {
        if (await store.markExhausted(c.id, fromStep, at)) {
          this.count(c, "exhausted");
          this.deps.log.warn({ consult: c.id, service: c.serviceId }, "consult: nobody left to ask");
        }
        await this.announceExhausted((await store.get(c.id))!);
        return;
      }
      if (!(await this.advanceTo(c, next, null, at))) return;
      this.count(c, "escalated");
      this.deps.log.info({ consult: c.id, fromStep, candidate: next }, "consult: escalated after the accept deadline");
      await this.resume(c.id, null);
    });
  }

  /** Asks `next`: the step moves on and its timers are armed in one transaction. */
  private async advanceTo(c: Consult, next: string, declinedBy: string[] | null, at: Date, requestId?: string): Promise<boolean> {
    const acceptBy = this.minutesFrom(at, this.deps.options.acceptMinutes[c.urgency]);
    const moved = await this.deps.store.db.transaction(async (trx) => {
      const ok = await this.deps.store.advance(c.id, c.step, { candidates: [...c.candidates, next], acceptBy, ...(declinedBy ? { declinedBy } : {}) }, at, trx);
      if (ok) await this.armStep(c.id, c.step + 1, acceptBy, at, trx);
      if (ok && declinedBy) await this.effects.record(requestId, c.id, "declined", trx);
      return ok;
    });
    if (moved) this.deps.wakeTimers();
    return moved;
  }

  private async announceExhausted(c: Consult): Promise<void> {
    const s = await this.serviceLabel(c.serviceId);
    const coordinators = await this.deps.oncall.coordinators(c.serviceId);
    if (c.roomId) await this.deps.rooms.send(c.roomId, { body: messages.exhaustedRoomMessage(c, coordinators), mentions: [c.requester] }, `consult:${c.id}:exhausted`);
    await this.tellCoordinators(c.serviceId, messages.exhaustedDm(c, s), `consult:${c.id}:exhausted`, { strict: true });
    await this.mirror(c);
  }

  // --- the candidate's answer -------------------------------------------------------------

  /** A notified candidate who has not declined takes the consult. Of two racing accepts, one wins. */
  async accept(id: string, actor: string, opts: { expectedMinutes?: number; via?: AcceptVia } = {}): Promise<ConsultView> {
    const minutesGiven = opts.expectedMinutes;
    if (minutesGiven !== undefined && (!Number.isInteger(minutesGiven) || minutesGiven < MIN_EXPECTED_MINUTES || minutesGiven > MAX_EXPECTED_MINUTES)) {
      throw new ConsultError("invalid_input", `Give the expected response time in whole minutes, from ${MIN_EXPECTED_MINUTES} to ${MAX_EXPECTED_MINUTES} (7 days), or leave it out for the usual time.`);
    }
    const target = await this.load(id);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const c = await this.loadDelivered(id);
      if (c.status !== "requested") {
        if (c.consultant === actor && (c.status === "accepted" || c.status === "in_progress")) {
          // The same acceptance again (a retry, or ✅ after the command): finish telling people.
          await this.announceAccepted(c);
          return this.view(c);
        }
        throw new ConsultError("invalid_transition", this.notOpenMessage(c));
      }
      if (!c.candidates.includes(actor)) {
        throw new ConsultError(
          "forbidden",
          actor === c.requester
            ? `You requested consult #${c.number}, so you cannot accept it. You can cancel it with !consult cancel ${c.number}.`
            : `Consult #${c.number} was not sent to you, so you cannot accept it. It is waiting for ${this.openCandidates(c).join(", ") || "the coordinators"}.`,
        );
      }
      if (c.declinedBy.includes(actor)) throw new ConsultError("forbidden", `You declined consult #${c.number}, so you cannot accept it now. Ask ${c.requester} to request again if you can help after all.`);
      const at = this.now();
      const expectedMinutes = minutesGiven ?? this.deps.options.expectedResponseMinutes[c.urgency];
      const respondBy = this.minutesFrom(at, expectedMinutes);
      const won = await store.db.transaction(async (trx) => {
        if (!(await store.accept(c.id, { consultant: actor, via: opts.via ?? "command", at, expectedMinutes, respondBy }, trx))) return false;
        await this.deps.timers.cancelAll(TIMER_CONSULT_ACCEPT, c.id, trx);
        await this.deps.timers.schedule(TIMER_CONSULT_RESPOND, c.id, "0", respondBy, trx);
        await this.armSettle(c.id, trx);
        return true;
      });
      const accepted = (await store.get(c.id))!;
      if (!won) throw new ConsultError("invalid_transition", this.notOpenMessage(accepted));
      this.deps.wakeTimers();
      this.count(accepted, "accepted");
      this.deps.metrics.consultTimeToAccept.observe({ service: c.serviceId }, secondsBetween(c.createdAt, at));
      this.deps.log.info({ consult: c.id, consultant: actor, via: accepted.acceptedVia }, "consult: accepted");
      await this.announceAccepted(accepted);
      await this.settled(c.id);
      return this.view(accepted);
    });
  }

  private async announceAccepted(c: Consult): Promise<void> {
    const s = await this.serviceLabel(c.serviceId);
    await this.deps.rooms.send(c.roomId!, { body: messages.acceptedMessage(c, s), mentions: [c.requester] }, `consult:${c.id}:accepted`);
    await this.mirror(c);
  }

  private async announceDeclinedAll(declined: Consult, lastActor: string): Promise<void> {
    const s = await this.serviceLabel(declined.serviceId);
    const coordinators = await this.deps.oncall.coordinators(declined.serviceId);
    await this.deps.rooms.send(declined.roomId!, { body: messages.declinedAllRoomMessage(declined, lastActor, coordinators), mentions: [declined.requester] }, `consult:${declined.id}:declined`);
    await this.tellCoordinators(declined.serviceId, messages.declinedAllDm(declined, s), `consult:${declined.id}:declined`);
    await this.mirror(declined);
  }

  /**
   * The current candidate cannot take it: the reason goes to the room only, and the next candidate
   * is asked. `requestId`: the command's event id; the same request again finishes what it left undone.
   */
  async decline(id: string, actor: string, reason: ConsultReason, requestId?: string): Promise<ConsultView> {
    const given = typedReason("decline", reason ?? "");
    const target = await this.load(id);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const c = await this.loadDelivered(id);
      if (await this.effects.made(requestId, c.id, "declined")) {
        if (c.status !== "declined") return this.view(await this.resume(c.id, null));
        await this.announceDeclinedAll(c, actor);
        await this.settled(c.id);
        return this.view(c);
      }
      if (c.status !== "requested") throw new ConsultError("invalid_transition", this.notOpenMessage(c));
      const current = c.candidates[c.step]!;
      if (actor !== current) {
        throw new ConsultError(
          "forbidden",
          c.declinedBy.includes(actor)
            ? `You already declined consult #${c.number}.`
            : c.candidates.includes(actor)
              ? `Consult #${c.number} has moved on to ${current}; only they can decline it now. You can still accept it.`
              : `Consult #${c.number} was not sent to you, so you cannot decline it.`,
        );
      }
      const why = await this.reasonText(c, actor, "decline", given!);
      const at = this.now();
      // The reason is clinical: it is said in the encrypted room and kept nowhere else.
      await this.deps.rooms.send(c.roomId!, { body: `❌ ${actor} declined consult #${c.number}. Reason: ${why}`, mentions: [c.requester] }, `consult:${c.id}:decline:${c.step}`);
      const declinedBy = [...c.declinedBy, actor];
      const next = c.exhausted ? null : await nextCandidate(this.deps.oncall, c.serviceId, c.requester, c.candidates, at);
      if (next) {
        if (!(await this.advanceTo(c, next, declinedBy, at, requestId))) throw new ConsultError("invalid_transition", this.notOpenMessage((await store.get(c.id))!));
        this.count(c, "declined");
        this.count(c, "escalated");
        this.deps.log.info({ consult: c.id, by: actor, candidate: next }, "consult: declined; next candidate asked");
        return this.view(await this.resume(c.id, null));
      }
      const ended = await this.endWith(c.id, (trx) => store.markDeclined(c.id, c.step, declinedBy, at, trx), { requestId, outcome: "declined" });
      if (!ended) throw new ConsultError("invalid_transition", this.notOpenMessage((await store.get(c.id))!));
      this.count(c, "declined");
      this.deps.log.warn({ consult: c.id, by: actor, service: c.serviceId }, "consult: declined by the last candidate");
      const declined = (await store.get(c.id))!;
      await this.announceDeclinedAll(declined, actor);
      await this.settled(c.id);
      return this.view(declined);
    });
  }

  // --- the consultant's work --------------------------------------------------------------

  async start(id: string, actor: string, requestId?: string): Promise<ConsultView> {
    const target = await this.load(id);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const c = await this.load(id);
      this.mustBeConsultant(c, actor, "start");
      if (c.status !== "accepted") {
        // This command's own start, retried after a failure part-way: finish telling people.
        if (await this.effects.made(requestId, c.id, "started")) return this.view(await this.announceStarted(c, actor));
        throw new ConsultError("invalid_transition", c.status === "in_progress" ? `Consult #${c.number} is already in progress.` : this.notOpenMessage(c));
      }
      const ok = await store.db.transaction(async (trx) => {
        if (!(await store.start(c.id, actor, this.now(), trx))) return false;
        await this.effects.record(requestId, c.id, "started", trx);
        return true;
      });
      if (!ok) throw new ConsultError("invalid_transition", this.notOpenMessage((await store.get(c.id))!));
      const started = (await store.get(c.id))!;
      this.count(started, "started");
      this.deps.log.info({ consult: c.id }, "consult: started");
      return this.view(await this.announceStarted(started, actor));
    });
  }

  private async announceStarted(c: Consult, actor: string): Promise<Consult> {
    await this.deps.rooms.send(c.roomId!, { body: `▶️ ${actor} started work on consult #${c.number}.`, notice: true }, `consult:${c.id}:started`);
    await this.mirror(c);
    return c;
  }

  /**
   * Completes the consult with the formal report: posted in the room as a message and as an
   * encrypted Markdown attachment, with a billing suggestion. Only the suggestion (no clinical
   * text) and the report's event id are stored.
   */
  async complete(id: string, actor: string, input: { report: ConsultReportContent; billing: BillingInput }, requestId?: string): Promise<ConsultView> {
    const report = ConsultReportContentSchema.safeParse(input?.report);
    if (!report.success) throw new ConsultError("invalid_input", `The report is incomplete (${report.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}). Fill it in and complete again.`);
    const billing = BillingInputSchema.safeParse(input?.billing);
    if (!billing.success) {
      throw new ConsultError("invalid_input", `The billing details are incomplete (${billing.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}). Give the consult type, setting, complexity and minutes.`);
    }
    const target = await this.load(id);
    if (report.data.consult_id !== target.id) throw new ConsultError("invalid_input", `That report belongs to another consult. Write the report for consult #${target.number} and complete again.`);
    return this.lock.run(target.id, async () => {
      const { store, rooms } = this.deps;
      const c = await this.load(id);
      this.mustBeConsultant(c, actor, "complete");
      if (c.status === "completed" && (await this.effects.made(requestId, c.id, "completed"))) return this.view(await this.finish(c));
      if (c.status !== "in_progress" && c.status !== "accepted") throw new ConsultError("invalid_transition", this.notOpenMessage(c));
      // An accepted consult may be completed without a separate start: it starts and completes in one step.
      const startsNow = c.status === "accepted";
      const at = this.now();
      const suggestion = suggestBillingCode(billing.data);
      const s = await this.serviceLabel(c.serviceId);
      // Patient reference and question are read back from the encrypted room, never stored.
      const relayed = c.requestEventId ? await rooms.readEvent(c.roomId!, c.requestEventId) : null;
      const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : null);
      const markdown = renderReport({
        number: c.number,
        serviceName: s.serviceName,
        urgency: c.urgency,
        requester: c.requester,
        consultant: actor,
        requestedAt: c.createdAt,
        acceptedAt: c.acceptedAt,
        completedAt: at,
        timezone: s.timezone,
        patientRef: text(relayed?.content.patient_ref),
        question: text(relayed?.content.question),
        report: report.data,
        billing: suggestion,
      });
      const reportEventId = await rooms.send(c.roomId!, { body: markdown, mentions: [c.requester] }, `consult:${c.id}:report`);
      await rooms.sendFile(
        c.roomId!,
        { name: `consult-${c.number}-report.md`, mimetype: "text/markdown", bytes: new TextEncoder().encode(markdown), body: `Consult #${c.number} report` },
        `consult:${c.id}:report:file`,
      );
      const done = await this.endWith(c.id, async (trx) => (!startsNow || (await store.start(c.id, actor, at, trx))) && store.complete(c.id, { reportEventId, billing: suggestion, at }, trx), {
        requestId,
        outcome: "completed",
      });
      const completed = (await store.get(c.id))!;
      if (!done) throw new ConsultError("invalid_transition", this.notOpenMessage(completed));
      if (startsNow) {
        this.count(completed, "started");
        this.deps.log.info({ consult: c.id }, "consult: started");
      }
      this.count(completed, "completed");
      this.deps.metrics.consultTimeToComplete.observe({ service: c.serviceId }, secondsBetween(c.createdAt, at));
      this.deps.log.info({ consult: c.id, billingCode: suggestion.code }, "consult: completed");
      return this.view(await this.finish(completed));
    });
  }

  /** The requester or a coordinator withdraws an open consult. The reason is said in the room only. */
  async cancel(id: string, actor: string, reason?: ConsultReason, requestId?: string): Promise<ConsultView> {
    const given = typedReason("cancel", reason);
    const target = await this.load(id);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const c = await this.loadDelivered(id);
      const coordinators = await this.deps.oncall.coordinators(c.serviceId);
      if (actor !== c.requester && !coordinators.includes(actor)) {
        throw new ConsultError("forbidden", `Only ${c.requester}, who requested consult #${c.number}, or a coordinator of the service can cancel it.`);
      }
      if (c.status === "cancelled" && (await this.effects.made(requestId, c.id, "cancelled"))) return this.view(await this.finish(c));
      if (!ACTIVE_STATUSES.includes(c.status)) throw new ConsultError("invalid_transition", this.notOpenMessage(c));
      const why = given === undefined ? "" : await this.reasonText(c, actor, "cancel", given);
      const told = c.consultant ? [c.consultant] : this.openCandidates(c);
      await this.deps.rooms.send(
        c.roomId!,
        { body: `🚫 Consult #${c.number} was cancelled by ${actor}.${why ? ` Reason: ${why}` : ""} No answer is needed now.`, mentions: told.filter((u) => u !== actor) },
        `consult:${c.id}:cancelled`,
      );
      const at = this.now();
      const done = await this.endWith(c.id, (trx) => store.cancel(c.id, at, trx), { requestId, outcome: "cancelled" });
      const cancelled = (await store.get(c.id))!;
      if (!done) throw new ConsultError("invalid_transition", this.notOpenMessage(cancelled));
      this.count(cancelled, "cancelled");
      this.deps.log.info({ consult: c.id, by: actor }, "consult: cancelled");
      return this.view(await this.finish(cancelled));
    });
  }

  /** The text of a reason: as typed, or read back from the actor's own encrypted note in the consult room. */
  private async reasonText(c: Consult, actor: string, kind: ConsultNoteKind, reason: ConsultReason): Promise<string> {
    if (typeof reason === "string") return reason;
    const ev = await this.deps.rooms.readEvent(c.roomId!, reason.noteEventId);
    if (!ev) throw new ConsultError("not_found", "Rounds cannot read that reason yet. Wait a moment and try again.");
    const note = ConsultNoteContentSchema.safeParse(ev.content);
    if (ev.type !== ConsultEventType.Note || ev.sender !== actor || !ev.encrypted || !note.success || note.data.kind !== kind || note.data.consult_id !== c.id) {
      // The note's own wording problem (too short, too long) is the one worth telling.
      const wording = note.success ? null : note.error.issues.find((i) => i.path[0] === "text");
      if (wording && ev.type === ConsultEventType.Note && ev.sender === actor) throw new ConsultError("invalid_input", sentence(wording.message));
      throw new ConsultError("invalid_input", `That event is not your encrypted ${kind === "decline" ? "reason for declining" : "reason for cancelling"} consult #${c.number}.`);
    }
    return note.data.text.trim();
  }

  /** The requester rates a completed consult; a later call replaces the rating. */
  async feedback(id: string, actor: string, input: { rating: number; outcome: ConsultOutcome }): Promise<ConsultView> {
    const rating = input?.rating;
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new ConsultError("invalid_input", "Rate the consult with a whole number from 1 to 5.");
    if (!(CONSULT_OUTCOMES as readonly string[]).includes(input.outcome)) {
      throw new ConsultError("invalid_input", `Choose an outcome: ${CONSULT_OUTCOMES.map((o) => o.replace(/_/g, " ")).join(", ")}.`);
    }
    const target = await this.load(id);
    return this.lock.run(target.id, async () => {
      const c = await this.load(id);
      if (actor !== c.requester) throw new ConsultError("forbidden", `Only ${c.requester}, who requested consult #${c.number}, can give feedback on it.`);
      if (c.status !== "completed") throw new ConsultError("invalid_transition", `You can give feedback on consult #${c.number} once it is completed.`);
      if (!(await this.deps.store.setFeedback(c.id, { rating, outcome: input.outcome, at: this.now() }))) throw new ConsultError("invalid_transition", this.notOpenMessage(c));
      this.deps.log.info({ consult: c.id, rating }, "consult: feedback recorded");
      return this.view((await this.deps.store.get(c.id))!);
    });
  }

  /** Timer: the consultant's expected response time passed. The consultant, requester and coordinators are told. */
  async onResponseDeadline(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      const c = await store.get(timer.ref);
      if (!c || (c.status !== "accepted" && c.status !== "in_progress")) return;
      if (await store.markOverdue(c.id, this.now())) {
        this.count(c, "overdue");
        this.deps.log.warn({ consult: c.id, consultant: c.consultant }, "consult: response overdue");
      }
      // Also on a retry after a failure part-way: every message is keyed.
      const overdue = (await store.get(c.id))!;
      const s = await this.serviceLabel(c.serviceId);
      const coordinators = await this.deps.oncall.coordinators(c.serviceId);
      await this.deps.rooms.send(c.roomId!, { body: messages.overdueRoomMessage(overdue, s, coordinators), mentions: [c.consultant!, c.requester] }, `consult:${c.id}:overdue`);
      await this.tellCoordinators(c.serviceId, messages.overdueDm(overdue, s), `consult:${c.id}:overdue`, { strict: true });
      await this.mirror(overdue);
    });
  }

  // --- queries ----------------------------------------------------------------------------

  async get(id: string): Promise<ConsultView> {
    return this.view(await this.load(id));
  }

  async byNumber(n: number): Promise<ConsultView> {
    const c = await this.deps.store.byNumber(n);
    if (!c) throw new ConsultError("not_found", `There is no consult #${n}. Check the number in the consult room.`);
    return this.view(c);
  }

  async inRoom(roomId: string): Promise<ConsultView | null> {
    const c = await this.deps.store.inRoom(roomId);
    return c ? this.view(c) : null;
  }

  async byRequestMessage(eventId: string): Promise<ConsultView | null> {
    const c = await this.deps.store.byPrompt(eventId);
    return c ? this.view(c) : null;
  }

  async forUser(userId: string): Promise<MineResponse> {
    const { store } = this.deps;
    const [incoming, outgoing, archive] = await Promise.all([store.incoming(userId), store.outgoing(userId), store.archive(userId, ARCHIVE_LIMIT)]);
    return { incoming: incoming.map((c) => this.view(c)), outgoing: outgoing.map((c) => this.view(c)), archive: archive.map((c) => this.view(c)) };
  }

  /** Per service, p50 and p90 of time to accept and to complete, over consults requested since `since`. */
  async responseTimes(since: Date): Promise<MetricsResponse> {
    if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new ConsultError("invalid_input", "Give the start of the period as a date, e.g. 2026-03-01.");
    return responseTimesOf(await this.deps.store.timings(since), since);
  }

  async specialists(serviceQuery: string): Promise<SpecialistsResponse> {
    const service = await this.findService(serviceQuery);
    return { service: service.id, specialists: await specialistsOf(this.deps.oncall, service.id, this.now()) };
  }

  // --- helpers ----------------------------------------------------------------------------

  private async load(id: string): Promise<Consult> {
    const c = typeof id === "string" && id ? await this.deps.store.get(id) : null;
    if (!c) throw new ConsultError("not_found", "There is no such consult. Check the consult number, or open it from its room.");
    return c;
  }

  /** Loads an open consult, first finishing its delivery if a crash left it without its room or request message. */
  private async loadDelivered(id: string): Promise<Consult> {
    const c = await this.load(id);
    return c.status === "requested" && c.deliveredStep === null ? this.resume(c.id, null) : c;
  }

  private async findService(query: string): Promise<{ id: string; name: string }> {
    try {
      return await this.deps.oncall.findService(query);
    } catch (err) {
      if (!(err instanceof UnknownServiceError)) throw err;
      const known = err.known.map((s) => `${s.name} (${s.id})`).join(", ");
      throw new ConsultError("unknown_service", known ? `There is no service "${quote(query)}". Consult one of: ${known}.` : `There is no service "${quote(query)}", and no services are set up yet. Ask the on-call coordinator.`);
    }
  }

  private mustBeConsultant(c: Consult, actor: string, verb: "start" | "complete"): void {
    if (c.consultant === actor) return;
    if (c.status === "requested" && c.candidates.includes(actor)) {
      throw new ConsultError("invalid_transition", `Accept consult #${c.number} first (!consult accept ${c.number}), then ${verb} it.`);
    }
    throw new ConsultError("forbidden", c.consultant ? `Only ${c.consultant}, the consultant, can ${verb} consult #${c.number}.` : `Consult #${c.number} has no consultant yet; only the specialist who accepts it can ${verb} it.`);
  }

  private openCandidates(c: Consult): string[] {
    return c.candidates.filter((u) => !c.declinedBy.includes(u));
  }

  /** Why a consult no longer takes this action, with what to do instead. */
  private notOpenMessage(c: Consult): string {
    switch (c.status) {
      case "requested":
        return `Consult #${c.number} has not been accepted yet.`;
      case "accepted":
        return `Consult #${c.number} was already accepted by ${c.consultant}.`;
      case "in_progress":
        return `Consult #${c.number} is already in progress with ${c.consultant}.`;
      case "declined":
        return `Consult #${c.number} was declined and is closed. Ask ${c.requester} to request again if it is still needed.`;
      case "completed":
        return `Consult #${c.number} is already completed; its report is in the consult room.`;
      case "cancelled":
        return `Consult #${c.number} was cancelled; nothing more can be done on it.`;
    }
  }

  private minutesFrom(at: Date, minutes: number): Date {
    return new Date(at.getTime() + minutes * MINUTE_MS);
  }

  private async serviceLabel(serviceId: string): Promise<messages.ServiceLabel> {
    const info = await this.deps.oncall.serviceInfo(serviceId).catch(() => null);
    return { serviceName: info?.name ?? serviceId, timezone: info?.timezone ?? "UTC" };
  }

  /**
   * A guarded transition that ends the consult's deadlines with it, in one transaction; false if
   * it lost a race. `effect` records which command made it, in the same transaction.
   */
  private async endWith(id: string, update: (trx: Db) => Promise<boolean>, effect?: { requestId: string | undefined; outcome: string }): Promise<boolean> {
    return this.deps.store.db.transaction(async (trx) => {
      if (!(await update(trx))) return false;
      if (effect) await this.effects.record(effect.requestId, id, effect.outcome, trx);
      await this.deps.timers.cancelAll(TIMER_CONSULT_ACCEPT, id, trx);
      await this.deps.timers.cancelAll(TIMER_CONSULT_RESPOND, id, trx);
      await this.armSettle(id, trx);
      return true;
    });
  }

  private armSettle(id: string, trx: Db): Promise<void> {
    return this.deps.timers.schedule(TIMER_CONSULT_SETTLE, id, ulid(), new Date(this.now().getTime() + SETTLE_AFTER_MS), trx);
  }

  /** An ended consult's state mirrored, and its settle timer no longer needed; also on a retry. */
  private async finish(c: Consult): Promise<Consult> {
    await this.mirror(c);
    await this.settled(c.id);
    return c;
  }

  /** The transition's effects are out: the settle timer is not needed. */
  private async settled(id: string): Promise<void> {
    await this.deps.timers.cancelAll(TIMER_CONSULT_SETTLE, id);
  }

  /**
   * Finishes what a transition committed but may not have said: the state event, and the messages
   * that follow the commit. Every message is keyed, so what was already sent is not sent again.
   */
  async onSettle(timer: TimerRow): Promise<void> {
    const c = await this.deps.store.get(timer.ref);
    if (!c?.roomId) return;
    await this.lock.run(c.id, async () => {
      const now = (await this.deps.store.get(c.id))!;
      if (now.status === "accepted" || now.status === "in_progress") await this.announceAccepted(now);
      else if (now.status === "declined") await this.announceDeclinedAll(now, now.declinedBy.at(-1) ?? now.requester);
      else await this.mirror(now);
      this.deps.log.info({ consult: c.id, status: now.status }, "consult: settled after an interruption");
    });
  }

  private count(c: Consult, transition: Transition): void {
    this.deps.metrics.consultTransitions.inc({ service: c.serviceId, transition });
  }

  /** Strict: a failure is thrown so the timer that called retries (messages are keyed, sent once). */
  private async tellCoordinators(serviceId: string, text: string, key: string, opts: { strict?: boolean } = {}): Promise<void> {
    for (const c of await this.deps.oncall.coordinators(serviceId)) {
      try {
        await this.deps.notifier.tellUser(c, text, `${key}:${c}`);
      } catch (err) {
        if (opts.strict) throw err;
        this.deps.log.error({ service: serviceId, coordinator: c, err: (err as Error).message }, "consult: could not tell a coordinator");
      }
    }
  }

  /** The state event, from the database row: ids, status, Matrix ids and times only. */
  private stateOf(c: Consult): ConsultState {
    const ms = (d: Date | null) => (d ? d.getTime() : null);
    return {
      id: c.id,
      number: c.number,
      service: c.serviceId,
      urgency: c.urgency,
      status: c.status,
      requester: c.requester,
      consultant: c.consultant,
      candidates: c.candidates,
      declined_by: c.declinedBy,
      care_team: c.careTeam,
      preferred: c.preferred,
      step: c.step,
      exhausted: c.exhausted,
      created_ts: c.createdAt.getTime(),
      accept_by_ts: c.status === "requested" ? ms(c.acceptBy) : null,
      accepted_ts: ms(c.acceptedAt),
      expected_response_minutes: c.expectedMinutes,
      respond_by_ts: ms(c.respondBy),
      overdue: c.overdue,
      started_ts: ms(c.startedAt),
      completed_ts: ms(c.completedAt),
      cancelled_ts: ms(c.cancelledAt),
      report_event_id: c.reportEventId,
      request_event_id: c.requestEventId,
    };
  }

  private async mirror(c: Consult): Promise<void> {
    if (!c.roomId) return;
    const state = ConsultStateSchema.parse(this.stateOf(c));
    await this.deps.rooms.setState(c.roomId, StateType.Consult, c.id, state);
  }

  private view(c: Consult): ConsultView {
    return {
      ...this.stateOf(c),
      room_id: c.roomId ?? "",
      billing_suggestion: c.billing,
      rating: c.rating,
      outcome: c.outcome,
      time_to_accept_s: c.acceptedAt ? secondsBetween(c.createdAt, c.acceptedAt) : null,
      time_to_complete_s: c.completedAt ? secondsBetween(c.createdAt, c.completedAt) : null,
    };
  }
}
