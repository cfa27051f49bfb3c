import { DateTime } from "luxon";
import { ulid } from "ulid";
import { z } from "zod";
import { DomainError, type DomainErrorCode } from "../shared/domainError.js";
import { CommandEffects } from "../db/commandEffects.js";
import type { Logger } from "../logging.js";
import type { EscalationPolicy, EscalationTarget } from "../oncall/escalationPolicy.js";
import type { Notifier } from "../ports/notifier.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { SmsSendError, type SmsSender } from "../sms/smsSender.js";
import { PageStateSchema, StateType, URGENCIES, type PageState, type Urgency } from "../shared/events/index.js";
import type { TimerRow, TimerStore } from "../timers/timerStore.js";
import type { ContactStore } from "./contactStore.js";
import { KeyedLock } from "../shared/keyedLock.js";
import { OPEN_STATUSES, type Page, type PageStore } from "./pageStore.js";
import type { PagingMetrics } from "./pagingMetrics.js";

/** What paging needs from the on-call side; OnCallService provides it. */
export interface OnCallDirectory {
  findService(query: string): Promise<{ id: string; name: string }>;
  serviceInfo(serviceQuery: string): Promise<{ id: string; name: string; timezone: string }>;
  whoIsOnCall(serviceQuery: string, at: Date): Promise<{ service: { id: string; name: string; timezone: string }; levels: { level: string; userId: string }[] }>;
  escalationPolicy(serviceId: string): Promise<EscalationPolicy>;
  coordinators(serviceId: string): Promise<string[]>;
}

export interface PagingOptions {
  /** Default wait before escalating, per urgency, in seconds; a service's policy may override. */
  delaysSeconds: Record<Urgency, number>;
  /** Homeserver name: only local users can raise pages (federation policy comes later). */
  serverName: string;
}

/** A page the requester or a responder got wrong: the message is for the clinician. */
export type PageErrorReason = DomainErrorCode | "not_a_page" | "no_coverage" | "which_page";

const PAGE_CODE: Partial<Record<PageErrorReason, DomainErrorCode>> = { not_a_page: "not_found", no_coverage: "unavailable", which_page: "invalid_input" };

/** A paging call that was refused (see DomainError). */
export class PageError extends DomainError {
  constructor(reason: PageErrorReason, message: string) {
    super(PAGE_CODE[reason] ?? (reason as DomainErrorCode), message, reason, "page");
    this.name = "PageError";
  }
}

export const TIMER_PAGE_ESCALATE = "page.escalate";
export const TIMER_PAGE_DELIVER = "page.deliver";
/** An SMS timer is one per (page step, person): its step names both. */
interface SmsStep {
  step: number;
  userId: string;
}
const SmsStepSchema = z.object({ step: z.number().int().min(0), userId: z.string().min(1) });
const encodeSmsStep = (s: SmsStep): string => JSON.stringify({ step: s.step, userId: s.userId });
/** Also reads the "<step>:<userId>" of timers armed before the structured form. */
function decodeSmsStep(raw: string): SmsStep {
  if (raw.startsWith("{")) return SmsStepSchema.parse(JSON.parse(raw));
  const [step, ...user] = raw.split(":");
  return { step: Number(step), userId: user.join(":") };
}
const DELIVERY_GRACE_MS = 90_000;
export const TIMER_PAGE_SMS = "page.sms";

const VIA_TEXT = { reaction: "with ✅", command: "with !ack", sms: "by SMS reply" } as const;

interface StepPlan {
  step: number;
  label: string;
  targets: string[];
  /** Steps before this one that resolved to nobody, for the room log. */
  skipped: string[];
}

/**
 * The paging domain service. Every page transition (trigger, notify, escalate, acknowledge,
 * resolve, hand over, SMS delivery) goes through here, whatever the adapter: command, reaction,
 * SMS webhook or timer. Transitions are guarded in the database and serialised per page in
 * process, so racing acknowledgements and escalations end in one consistent state, and an
 * acknowledged page never notifies again.
 */
export class PageService {
  private readonly lock = new KeyedLock();

  /** Which command made which transition, so a retried command is told from someone else's. */
  private readonly effects: CommandEffects;

  /** Told of each acknowledgement (other workflows' pages, through the Pager port). */
  private readonly ackListeners: Array<(page: Page) => Promise<void>> = [];

  constructor(
    private readonly deps: {
      store: PageStore;
      oncall: OnCallDirectory;
      timers: TimerStore;
      wakeTimers: () => void;
      rooms: RoomWriter;
      notifier: Notifier;
      contacts: ContactStore;
      sms: SmsSender | null;
      options: PagingOptions;
      log: Logger;
      metrics: PagingMetrics;
    },
  ) {
    this.effects = new CommandEffects(deps.store.db);
  }

  static parseUrgency(word: string | undefined): Urgency | null {
    const w = (word ?? "").toLowerCase();
    return (URGENCIES as readonly string[]).includes(w) ? (w as Urgency) : null;
  }

  /**
   * Raises a page to a service's first escalation step with someone on call. A retried command
   * (same origin event) continues the page it already raised instead of raising another.
   */
  async trigger(req: {
    requester: string;
    serviceQuery: string;
    urgency: Urgency;
    note: string;
    originRoomId: string | null;
    originEventId: string | null;
    broadcast?: boolean;
    at?: Date;
  }): Promise<{ page: Page; serviceName: string; targets: string[]; delaySeconds: number | null }> {
    const { store, oncall } = this.deps;
    if (req.requester.slice(req.requester.indexOf(":") + 1) !== this.deps.options.serverName) {
      throw new PageError("forbidden", "Paging is open to clinicians with an account on this hospital's server. Ask a colleague here to page, or call the switchboard.");
    }
    const service = await oncall.findService(req.serviceQuery);
    const policy = await oncall.escalationPolicy(service.id);
    const existing = req.originEventId ? await store.byOriginEvent(req.originEventId) : null;
    let page = existing;
    if (!page) {
      const at = req.at ?? new Date();
      const plan = req.broadcast ? await this.broadcastPlan(service.id, at) : await this.planFrom(service.id, policy, 0, at);
      if (!plan) {
        await this.warnCoordinators(service.id, `Nobody is on call for ${service.name} at any escalation step: ${req.requester} could not page it at ${await this.localTime(at, service.id)}. Please fix the schedule gap.`, `gap:${service.id}:${req.originEventId ?? at.getTime()}`);
        throw new PageError(
          "no_coverage",
          `Nobody is on call for ${service.name} right now, at any escalation level. Call the switchboard. I have told the on-call coordinator about the gap.`,
        );
      }
      const fields = {
        id: ulid(),
        serviceId: service.id,
        kind: req.broadcast ? ("broadcast" as const) : ("page" as const),
        urgency: req.urgency,
        requester: req.requester,
        originRoomId: req.originRoomId,
        originEventId: req.originEventId,
        step: plan.step,
        targets: plan.targets,
      };
      // The command is retried by the inbox until delivery works; should that give up, the safety
      // timer still delivers the page (without its text, which only the command carries).
      page = await store.db.transaction(async (trx) => {
        const created = await store.create(fields, trx);
        await this.deps.timers.schedule(TIMER_PAGE_DELIVER, created.id, "0", new Date(Date.now() + DELIVERY_GRACE_MS), trx);
        return created;
      });
      this.deps.wakeTimers();
      this.deps.metrics.pages.inc({ service: service.id, urgency: req.urgency, status: "triggered" });
      this.deps.log.info({ page: page.id, number: page.number, service: service.id, urgency: page.urgency, kind: page.kind }, "page: triggered");
    }
    const delivered = await this.lock.run(page.id, () => this.deliverFirst(page!, service.name, req.note, policy));
    return { page: delivered, serviceName: service.name, targets: delivered.targets, delaySeconds: delivered.kind === "broadcast" ? null : this.delayFor(delivered, policy) };
  }

  /** The page's request message in its room (what its first targets were told by), once sent. */
  async requestEventId(pageId: string): Promise<string | null> {
    const first = (await this.deps.store.notifications(pageId)).find((n) => n.channel === "matrix" && n.externalId);
    return first?.externalId ?? null;
  }

  /** Opens the room, posts the request, mirrors the state and arms the timers. Idempotent. */
  private async deliverFirst(page: Page, serviceName: string, note: string | null, policy: EscalationPolicy): Promise<Page> {
    const { store, rooms } = this.deps;
    let roomId = page.roomId;
    if (!roomId) {
      roomId = await rooms.openRoom(this.roomKey(page), { name: page.kind === "broadcast" ? `Broadcast: ${serviceName}` : "Rounds pages", members: [page.requester, ...page.targets] });
      await store.setRoom(page.id, roomId);
      page = { ...page, roomId };
    }
    if (page.status !== "triggered") {
      // A retried command, or the safety timer after it: delivered already; re-arming and
      // mirroring are idempotent and close a crash right after delivery.
      await this.armStep(page);
      await this.mirror(page, policy);
      return page;
    }
    const label = this.stepLabel(page, policy);
    const body = [
      `${this.urgencyBadge(page.urgency)} ${page.kind === "broadcast" ? "BROADCAST page" : "page"} #${page.number} for ${serviceName} (${label}) from ${page.requester}`,
      note ? `Request: ${note}` : note === null ? "Request: (the request text could not be delivered; ask the requester here)" : "Request: (no details given; ask the requester here)",
      `${page.targets.join(", ")}: react ✅ to this message or send !ack to acknowledge.`,
    ].join("\n");
    const eventId = await rooms.send(roomId, { body, mentions: page.targets }, `page:${page.id}:request`);
    for (const u of page.targets) {
      if (await store.claimNotification(page.id, page.step, u, "matrix")) await store.setNotification(page.id, page.step, u, "matrix", "sent", eventId);
    }
    const deadline = page.kind === "broadcast" ? null : new Date(Date.now() + this.delayFor(page, policy) * 1000);
    // Notified and its timers commit together: no crash can leave a notified page unescalated.
    const timers = await this.timersFor({ ...page, deadlineAt: deadline });
    await store.db.transaction(async (trx) => {
      await store.markNotified(page.id, deadline, trx);
      for (const t of timers) await this.deps.timers.schedule(t.kind, page.id, t.step, t.dueAt, trx);
    });
    this.deps.wakeTimers();
    this.deps.metrics.pages.inc({ service: page.serviceId, urgency: page.urgency, status: "notified" });
    const fresh = (await store.get(page.id))!;
    await this.mirror(fresh, policy);
    return fresh;
  }

  /** The step's escalation and each target's SMS fallback, by their personal rules. */
  private async timersFor(page: Page, only?: string[]): Promise<{ kind: string; step: string; dueAt: Date }[]> {
    const out: { kind: string; step: string; dueAt: Date }[] = [];
    if (page.deadlineAt && !page.exhausted && !only) out.push({ kind: TIMER_PAGE_ESCALATE, step: String(page.step), dueAt: page.deadlineAt });
    for (const u of only ?? page.targets) {
      const contact = await this.deps.contacts.get(u);
      const after = contact.smsAfter[page.urgency];
      if (!contact.phone || after === null || !this.deps.sms) continue;
      out.push({ kind: TIMER_PAGE_SMS, step: encodeSmsStep({ step: page.step, userId: u }), dueAt: new Date(Date.now() + after * 1000) });
    }
    return out;
  }

  /** Schedules the step's timers. Re-arming is a no-op: each (kind, page, step) exists once. */
  private async armStep(page: Page, only?: string[]): Promise<void> {
    if (!OPEN_STATUSES.includes(page.status)) return;
    for (const t of await this.timersFor(page, only)) await this.deps.timers.schedule(t.kind, page.id, t.step, t.dueAt);
    this.deps.wakeTimers();
  }

  /** Timer: the page was raised but its command never finished delivering it. */
  async onDeliveryTimer(timer: TimerRow): Promise<void> {
    await this.lock.run(timer.ref, async () => {
      const page = await this.deps.store.get(timer.ref);
      if (!page || page.status !== "triggered") return;
      this.deps.log.warn({ page: page.id }, "page: its command did not finish delivering it; delivering without the request text");
      const service = await this.deps.oncall.serviceInfo(page.serviceId);
      await this.deliverFirst(page, service.name, null, await this.deps.oncall.escalationPolicy(page.serviceId));
    });
  }

  /** The room a page opens: per requester/on-call pair, reused while only those two are in it. */
  private roomKey(page: Page): string {
    return page.kind === "broadcast" ? `broadcast:${page.id}` : `page:${[page.requester, page.notified[0]!].sort().join("|")}`;
  }

  /** Timer: the step's deadline passed. Moves to the next step with someone on call, or gives up loudly. */
  async onEscalationTimer(timer: TimerRow): Promise<void> {
    const fromStep = Number(timer.step);
    await this.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      let page = await store.get(timer.ref);
      if (!page || !OPEN_STATUSES.includes(page.status)) return;
      const policy = await this.deps.oncall.escalationPolicy(page.serviceId);
      if (page.step === fromStep && page.exhausted) {
        // A crash or failure after giving up and before saying so: say it now (idempotent).
        await this.announceExhausted(page);
      } else if (page.step === fromStep) {
        const plan = await this.planFrom(page.serviceId, policy, fromStep + 1, new Date());
        if (!plan) {
          if (await store.markExhausted(page.id, fromStep)) await this.announceExhausted(page);
          return;
        }
        const notified = [...new Set([...page.notified, ...plan.targets])];
        const delay = this.delayFor(page, policy);
        const advanced = await store.advance(page.id, fromStep, { step: plan.step, targets: plan.targets, notified, deadlineAt: new Date(Date.now() + delay * 1000) });
        if (!advanced) return; // acknowledged or moved on meanwhile
        this.deps.metrics.pages.inc({ service: page.serviceId, urgency: page.urgency, status: "escalated" });
        this.deps.log.info({ page: page.id, fromStep, toStep: plan.step }, "page: escalated");
        page = (await store.get(page.id))!;
        await this.deliverEscalation(page, plan, fromStep, delay, policy);
      } else if (page.step > fromStep) {
        // A crash between advancing and notifying: finish the step (each send is idempotent).
        const plan = this.describeStep(policy, page.step, page.targets);
        await this.deliverEscalation(page, plan, fromStep, this.delayFor(page, policy), policy);
      }
    });
  }

  private async deliverEscalation(page: Page, plan: StepPlan, fromStep: number, delay: number, policy: EscalationPolicy): Promise<void> {
    const { store, rooms } = this.deps;
    if (!page.roomId) throw new Error(`page ${page.id} has no room`);
    // Others join the pair's room now: later pages between the pair get a fresh room, so
    // this escalation's people never read them.
    if (page.kind === "page") await rooms.retire(this.roomKey(page), page.roomId);
    await rooms.invite(page.roomId, plan.targets);
    const request = await this.requestText(page);
    const skipped = plan.skipped.length ? ` (${plan.skipped.join("; ")})` : "";
    const body = [
      `⬆️ Escalated ${page.urgency} page #${page.number} to ${plan.label}: ${plan.targets.join(", ")}. Nobody acknowledged within ${this.humanDelay(delay)}${skipped}.`,
      request ? `Request: ${request}` : "",
      `${plan.targets.join(", ")}: react ✅ or send !ack to acknowledge.`,
    ]
      .filter(Boolean)
      .join("\n");
    const eventId = await rooms.send(page.roomId, { body, mentions: plan.targets }, `page:${page.id}:step:${page.step}:from:${fromStep}`);
    for (const u of plan.targets) {
      if (await store.claimNotification(page.id, page.step, u, "matrix")) await store.setNotification(page.id, page.step, u, "matrix", "sent", eventId);
    }
    await this.armStep(page);
    await this.mirror(page, policy);
  }

  private async announceExhausted(page: Page): Promise<void> {
    const coordinators = await this.deps.oncall.coordinators(page.serviceId);
    const who = coordinators.length ? coordinators.join(", ") : "the on-call coordinator (none is set for this service)";
    if (page.roomId) {
      await this.deps.rooms.send(
        page.roomId,
        { body: `⚠️ Nobody acknowledged page #${page.number} after every escalation step. I have told ${who}. ${page.requester}: call the switchboard if this cannot wait.`, mentions: [page.requester, ...coordinators] },
        `page:${page.id}:exhausted`,
      );
    }
    await this.warnCoordinators(page.serviceId, `Page #${page.number} (${page.urgency}) for ${page.serviceId} went through every escalation step without an acknowledgement. Requester: ${page.requester}.`, `exhausted:${page.id}`, { strict: true });
    await this.mirror((await this.deps.store.get(page.id))!);
    this.deps.log.warn({ page: page.id, service: page.serviceId }, "page: escalation exhausted; coordinators told");
  }

  /** Timer: a target's personal SMS delay passed without an acknowledgement. */
  async onSmsTimer(timer: TimerRow): Promise<void> {
    const { step, userId } = decodeSmsStep(timer.step);
    await this.lock.run(timer.ref, async () => {
      const { store, sms } = this.deps;
      const page = await store.get(timer.ref);
      if (!page || !OPEN_STATUSES.includes(page.status) || !sms) return;
      // Still this user's step, or an SMS that fell due before the page moved on (after a restart,
      // the overdue escalation goes first, but the SMS that was due earlier is still owed).
      if (!page.targets.includes(userId) && !(page.notified.includes(userId) && (await this.smsFellDueFirst(page.id, step, timer.dueAt)))) return;
      const contact = await this.deps.contacts.get(userId);
      if (!contact.phone) return;
      // At most once: a crash after claiming and before sending loses this SMS rather than doubling it.
      if (!(await store.claimNotification(page.id, step, userId, "sms"))) return;
      const text = `${page.urgency.toUpperCase()} page ${page.number} from Rounds. Reply ${page.number} to acknowledge. Details are in the Rounds app.`;
      let sent;
      try {
        sent = await sms.send(contact.phone, text);
      } catch (err) {
        if (err instanceof SmsSendError && err.retryable) {
          // Twilio is down or busy: release the claim and let the timer try again with backoff.
          await store.releaseNotification(page.id, step, userId, "sms");
          throw err;
        }
        await store.setNotification(page.id, step, userId, "sms", "failed");
        this.deps.metrics.smsSent.inc({ outcome: "failed" });
        this.deps.log.error({ page: page.id, step, err: (err as Error).message }, "page: SMS failed");
        if (page.roomId) await this.deps.rooms.send(page.roomId, { body: `📱 Could not send an SMS to ${userId} for page #${page.number}: ${(err as Error).message}`, notice: true }, `page:${page.id}:smsfail:${step}:${userId}`);
        await this.mirror((await store.get(page.id))!);
        return;
      }
      await store.setNotification(page.id, step, userId, "sms", sent.status, sent.sid);
      this.deps.metrics.smsSent.inc({ outcome: "sent" });
      this.deps.log.info({ page: page.id, step, sid: sent.sid }, "page: SMS sent");
      if (page.roomId) await this.deps.rooms.send(page.roomId, { body: `📱 Sent an SMS to ${userId} for page #${page.number}.`, notice: true }, `page:${page.id}:sms:${step}:${userId}`);
      await this.mirror((await store.get(page.id))!);
    });
  }

  private async smsFellDueFirst(pageId: string, step: number, smsDueAt: Date): Promise<boolean> {
    const escalationDue = await this.deps.timers.dueAtOf(TIMER_PAGE_ESCALATE, pageId, String(step));
    return escalationDue !== null && smsDueAt.getTime() < escalationDue.getTime();
  }

  /**
   * Acknowledges by page number, by the reacted message, or the one open page in the room.
   * `requestId`: the command's or reaction's event id; the same request again finishes telling people.
   */
  async acknowledge(req: { by: string; via: "reaction" | "command" | "sms"; number?: number; messageEventId?: string; roomId?: string; at?: Date; requestId?: string }): Promise<Page> {
    const own = await this.effects.objectOf(req.requestId, "acknowledged");
    if (own) return this.lock.run(own, async () => this.finishAck((await this.deps.store.get(own))!));
    const target = await this.find(req);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const page = (await store.get(target.id))!;
      // Without a request id (an SMS reply), the same person by the same means is taken as a retry.
      if (!req.requestId && page.status === "acknowledged" && page.ackedBy === req.by && page.ackVia === req.via) return this.finishAck(page);
      if (page.status === "acknowledged" || page.status === "resolved") {
        throw new PageError("invalid_transition", `Page #${page.number} was already acknowledged by ${page.ackedBy ?? "someone"}${page.ackedAt ? ` at ${await this.localTime(page.ackedAt, page.serviceId)}` : ""}.`);
      }
      if (!page.notified.includes(req.by)) {
        throw new PageError(
          "forbidden",
          req.by === page.requester
            ? `You raised page #${page.number}, so you cannot acknowledge it. Send !resolve ${page.number} to close it.`
            : `Page #${page.number} was not sent to you, so you cannot acknowledge it. Only ${page.notified.join(", ")} can.`,
        );
      }
      const at = req.at ?? new Date();
      const acked = await store.db.transaction(async (trx) => {
        if (!(await store.acknowledge(page.id, req.by, req.via, at, trx))) return false;
        await this.effects.record(req.requestId, page.id, "acknowledged", trx);
        return true;
      });
      if (!acked) throw new PageError("invalid_transition", `Page #${page.number} is no longer open.`);
      this.deps.metrics.pages.inc({ service: page.serviceId, urgency: page.urgency, status: "acknowledged" });
      this.deps.log.info({ page: page.id, via: req.via }, "page: acknowledged");
      return this.finishAck((await store.get(page.id))!);
    });
  }

  /** After an acknowledgement, also on a retry: its timers go and the requester is told (each step idempotent). */
  private async finishAck(page: Page): Promise<Page> {
    await this.cancelTimers(page.id);
    await this.announceAck(page);
    for (const listener of this.ackListeners) {
      try {
        await listener(page);
      } catch (err) {
        // The page stays acknowledged; the listener is told again on a retry of the same acknowledgement.
        this.deps.log.error({ page: page.id, err: err instanceof Error ? err.message : String(err) }, "page: an acknowledgement listener failed");
      }
    }
    return page;
  }

  /** Calls `listener` after each acknowledgement, also when a retried one finishes; it must be idempotent. */
  onAcknowledged(listener: (page: Page) => Promise<void>): void {
    this.ackListeners.push(listener);
  }

  /** Tells the requester (in the page room and where they paged from) and mirrors the state. Idempotent. */
  private async announceAck(page: Page): Promise<void> {
    const text = `✅ Page #${page.number} acknowledged by ${page.ackedBy} ${VIA_TEXT[page.ackVia!]} at ${await this.localTime(page.ackedAt!, page.serviceId)}. No more notifications will be sent.`;
    if (page.roomId) await this.deps.rooms.send(page.roomId, { body: text, mentions: [page.requester] }, `page:${page.id}:ack`);
    if (page.originRoomId && page.originRoomId !== page.roomId) {
      await this.deps.rooms.send(page.originRoomId, { body: text, mentions: [page.requester] }, `page:${page.id}:ack:origin`);
    }
    await this.mirror(page);
  }

  /** The requester, a responder or a coordinator closes the page. `requestId` as for acknowledge. */
  async resolve(req: { by: string; number?: number; roomId?: string; requestId?: string }): Promise<Page> {
    const own = await this.effects.objectOf(req.requestId, "resolved");
    if (own) return this.lock.run(own, async () => this.finishResolve((await this.deps.store.get(own))!));
    const target = await this.find(req, true);
    return this.lock.run(target.id, async () => {
      const { store } = this.deps;
      const page = (await store.get(target.id))!;
      // Without a request id, the same person resolving again is taken as a retry.
      if (page.status === "resolved" && (req.requestId || page.resolvedBy !== req.by)) throw new PageError("invalid_transition", `Page #${page.number} is already resolved.`);
      const coordinators = await this.deps.oncall.coordinators(page.serviceId);
      if (req.by !== page.requester && !page.notified.includes(req.by) && !coordinators.includes(req.by)) {
        throw new PageError("forbidden", `Only the requester, the people paged or the coordinator can resolve page #${page.number}.`);
      }
      if (page.status === "resolved") return this.finishResolve(page);
      const resolved = await store.db.transaction(async (trx) => {
        if (!(await store.resolve(page.id, req.by, new Date(), trx))) return false;
        await this.effects.record(req.requestId, page.id, "resolved", trx);
        return true;
      });
      if (!resolved) throw new PageError("invalid_transition", `Page #${page.number} is already resolved.`);
      this.deps.metrics.pages.inc({ service: page.serviceId, urgency: page.urgency, status: "resolved" });
      return this.finishResolve((await store.get(page.id))!);
    });
  }

  /** A page no longer escalates, texts or waits for delivery. */
  private async cancelTimers(id: string): Promise<void> {
    for (const kind of [TIMER_PAGE_ESCALATE, TIMER_PAGE_SMS, TIMER_PAGE_DELIVER]) await this.deps.timers.cancelAll(kind, id);
  }

  /** After resolving, also on a retry after a failure part-way: these steps are idempotent. */
  private async finishResolve(page: Page): Promise<Page> {
    await this.cancelTimers(page.id);
    if (page.roomId) await this.deps.rooms.send(page.roomId, { body: `Page #${page.number} resolved by ${page.resolvedBy}.`, notice: true }, `page:${page.id}:resolved`);
    await this.mirror(page);
    return page;
  }

  /** An SMS reply: the number in it names the page; the sender's phone names the clinician. */
  async onInboundSms(from: string, body: string): Promise<string> {
    const contact = await this.deps.contacts.byPhone(from);
    if (!contact) return "Rounds does not know this phone number. Ask your Rounds administrator to add it to your profile.";
    const match = body.match(/\d+/);
    if (!match) return "Reply with the page number to acknowledge, for example: 42";
    const number = Number(match[0]);
    try {
      await this.acknowledge({ by: contact.userId, via: "sms", number });
      return `Page ${number} acknowledged. Details are in the Rounds app.`;
    } catch (err) {
      if (err instanceof PageError) {
        // Never echo other people's ids to a phone; keep the SMS content-free.
        const page = await this.deps.store.byNumber(number);
        if (!page) return `There is no page ${number}. Reply with the number from the page SMS.`;
        if (page.status === "acknowledged" || page.status === "resolved") return `Page ${number} was already acknowledged.`;
        return `Page ${number} was not sent to you, so it cannot be acknowledged from this phone.`;
      }
      throw err;
    }
  }

  /** Twilio's delivery callback: recorded and mirrored as the page's delivery state. */
  async onSmsStatus(messageSid: string, status: string, errorCode?: string): Promise<void> {
    const pageId = await this.deps.store.updateByExternalId(messageSid, status);
    if (!pageId) {
      this.deps.log.warn({ sid: messageSid }, "sms: status for an unknown message; ignored");
      return;
    }
    this.deps.metrics.smsSent.inc({ outcome: `status_${status}` });
    await this.lock.run(pageId, async () => {
      const page = (await this.deps.store.get(pageId))!;
      if ((status === "undelivered" || status === "failed") && page.roomId && OPEN_STATUSES.includes(page.status)) {
        const n = (await this.deps.store.notifications(pageId)).find((x) => x.externalId === messageSid);
        await this.deps.rooms.send(
          page.roomId,
          { body: `📱 The SMS to ${n?.userId ?? "a clinician"} for page #${page.number} was not delivered${errorCode ? ` (Twilio error ${errorCode})` : ""}. Escalation continues as planned.`, notice: true },
          `page:${page.id}:sms-undelivered:${messageSid}`,
        );
      }
      await this.mirror(page);
    });
  }

  /** Shift change: the outgoing on-call's open pages go to the incoming one, with a summary. */
  async handOver(serviceId: string, fromUser: string, toUser: string): Promise<number> {
    let moved = 0;
    for (const open of await this.deps.store.openForService(serviceId)) {
      if (!open.targets.includes(fromUser) || open.targets.includes(toUser)) continue;
      await this.lock.run(open.id, async () => {
        const page = (await this.deps.store.get(open.id))!;
        // Re-checked under the lock: the page may have escalated or been acknowledged meanwhile.
        if (!OPEN_STATUSES.includes(page.status) || !page.roomId || !page.targets.includes(fromUser) || page.targets.includes(toUser)) return;
        const targets = [...page.targets.filter((u) => u !== fromUser), toUser];
        const notified = [...new Set([...page.notified, toUser])];
        if (!(await this.deps.store.addTargets(page.id, page.step, targets, notified))) return;
        if (page.kind === "page") await this.deps.rooms.retire(this.roomKey(page), page.roomId);
        await this.deps.rooms.invite(page.roomId, [toUser]);
        const request = await this.requestText(page);
        const summary = [
          `🔁 Shift change: ${fromUser} hands page #${page.number} to ${toUser}.`,
          `Summary: ${page.urgency} ${page.kind} for ${page.serviceId}, raised by ${page.requester} at ${await this.localTime(page.createdAt, page.serviceId)}, ${page.status === "escalated" ? `escalated (step ${page.step + 1})` : "notified"}, not yet acknowledged.`,
          request ? `Request: ${request}` : "",
          `${toUser}: react ✅ or send !ack to acknowledge.`,
        ]
          .filter(Boolean)
          .join("\n");
        const eventId = await this.deps.rooms.send(page.roomId, { body: summary, mentions: [toUser] }, `page:${page.id}:handover:${fromUser}:${toUser}`);
        if (await this.deps.store.claimNotification(page.id, page.step, toUser, "matrix")) await this.deps.store.setNotification(page.id, page.step, toUser, "matrix", "sent", eventId);
        const updated = (await this.deps.store.get(page.id))!;
        await this.armStep(updated, [toUser]);
        await this.mirror(updated);
        moved++;
      });
    }
    if (moved) this.deps.log.info({ service: serviceId, moved }, "page: open pages handed over at shift change");
    return moved;
  }

  async openPages(): Promise<Page[]> {
    return this.deps.store.open();
  }

  // --- helpers -----------------------------------------------------------------------------

  private async find(req: { number?: number; messageEventId?: string; roomId?: string }, includeAcked = false): Promise<Page> {
    const { store } = this.deps;
    if (req.number !== undefined) {
      const p = await store.byNumber(req.number);
      if (!p) throw new PageError("not_found", `There is no page #${req.number}.`);
      return p;
    }
    if (req.messageEventId) {
      const p = await store.byMessage(req.messageEventId);
      if (!p) throw new PageError("not_a_page", "That message is not a page.");
      return p;
    }
    if (req.roomId) {
      const open = await store.openInRoom(req.roomId);
      const candidates = includeAcked ? [...open, ...(await store.ackedInRoom(req.roomId))] : open;
      if (candidates.length === 1) return candidates[0]!;
      if (candidates.length === 0) throw new PageError("which_page", "There is no open page in this room. Give the page number, e.g. !ack 42.");
      throw new PageError("which_page", `This room has ${candidates.length} open pages (${candidates.map((p) => `#${p.number}`).join(", ")}). Give the number, e.g. !ack ${candidates[0]!.number}.`);
    }
    throw new PageError("which_page", "Which page? Give its number, e.g. !ack 42.");
  }

  /** The first step at or after `from` with someone on call; steps with nobody are skipped, never waited on. */
  private async planFrom(serviceId: string, policy: EscalationPolicy, from: number, at: Date): Promise<StepPlan | null> {
    const passes = policy.steps.length * (policy.loops + 1);
    const total = passes + (policy.fallback ? 1 : 0);
    const skipped: string[] = [];
    let onCall: { level: string; userId: string }[] | null = null;
    for (let s = from; s < total; s++) {
      const target = s < passes ? policy.steps[s % policy.steps.length]! : policy.fallback!;
      if (target.kind === "level" && !onCall) onCall = (await this.deps.oncall.whoIsOnCall(serviceId, at)).levels;
      const targets = this.resolveTarget(target, onCall ?? []);
      const label = this.targetLabel(target, s, passes);
      if (targets.length) return { step: s, label, targets, skipped };
      skipped.push(`${label}: nobody on call`);
    }
    return null;
  }

  private describeStep(policy: EscalationPolicy, step: number, targets: string[]): StepPlan {
    const passes = policy.steps.length * (policy.loops + 1);
    const target = step < passes ? policy.steps[step % policy.steps.length] : policy.fallback;
    return { step, label: target ? this.targetLabel(target, step, passes) : `step ${step + 1}`, targets, skipped: [] };
  }

  private async broadcastPlan(serviceId: string, at: Date): Promise<StepPlan | null> {
    const levels = (await this.deps.oncall.whoIsOnCall(serviceId, at)).levels;
    const targets = [...new Set(levels.map((l) => l.userId))];
    return targets.length ? { step: 0, label: "every level", targets, skipped: [] } : null;
  }

  private resolveTarget(target: EscalationTarget, onCall: { level: string; userId: string }[]): string[] {
    if (target.kind === "user") return [target.userId];
    if (target.kind === "chain") return [...target.members];
    return onCall.filter((l) => l.level === target.level).map((l) => l.userId);
  }

  private targetLabel(target: EscalationTarget, step: number, passes: number): string {
    const base = target.kind === "level" ? target.level : target.kind === "chain" ? `the ${target.name} chain` : target.userId;
    return step >= passes ? `the fallback (${base})` : `step ${step + 1}, ${base}`;
  }

  private stepLabel(page: Page, policy: EscalationPolicy): string {
    if (page.kind === "broadcast") return "every level";
    return this.describeStep(policy, page.step, page.targets).label;
  }

  private delayFor(page: Page, policy: EscalationPolicy): number {
    return policy.delaysSeconds[page.urgency] ?? this.deps.options.delaysSeconds[page.urgency];
  }

  /**
   * The request text for people joining later: their devices never got the room key of the
   * original message, so the bot quotes it again. It is read back from the room (the bot can
   * decrypt what it sent), never stored by Rounds.
   */
  private async requestText(page: Page): Promise<string | null> {
    const first = await this.requestEventId(page.id);
    if (!page.roomId || !first) return null;
    const body = await this.deps.rooms.readMessage(page.roomId, first);
    // The request runs from its "Request: " line to the last line (who is to acknowledge): a
    // request of several lines (an alert's result, then its patient) is quoted whole.
    const lines = body?.split("\n") ?? [];
    const start = lines.findIndex((l) => l.startsWith("Request: "));
    if (start < 0) return null;
    return lines.slice(start, Math.max(start + 1, lines.length - 1)).join("\n").slice("Request: ".length);
  }

  /** Writes the page's state event from the database row: the database is the truth. */
  private async mirror(page: Page, known?: EscalationPolicy): Promise<void> {
    if (!page.roomId) return;
    const policy = known ?? (await this.deps.oncall.escalationPolicy(page.serviceId));
    const delivery: Record<string, Record<string, string>> = {};
    for (const n of await this.deps.store.notifications(page.id)) (delivery[n.userId] ??= {})[n.channel] = n.status;
    const state: PageState = {
      id: page.id,
      number: page.number,
      kind: page.kind,
      service: page.serviceId,
      urgency: page.urgency,
      status: page.status,
      step: page.step,
      level: this.stepLabel(page, policy),
      requester: page.requester,
      targets: page.targets,
      notified: page.notified,
      exhausted: page.exhausted,
      created_ts: page.createdAt.getTime(),
      deadline_ts: page.deadlineAt?.getTime() ?? null,
      acknowledged_by: page.ackedBy,
      acknowledged_via: page.ackVia,
      acknowledged_ts: page.ackedAt?.getTime() ?? null,
      resolved_ts: page.resolvedAt?.getTime() ?? null,
      delivery,
    };
    // Checked before writing, as consult and handoff do: the state is public, so only what the
    // schema allows (ids, status, times; never clinical text) is written.
    await this.deps.rooms.setState(page.roomId, StateType.Page, page.id, PageStateSchema.parse(state));
  }

  /** Strict: a failure is thrown, so the timer that called retries (messages are keyed, sent once). */
  private async warnCoordinators(serviceId: string, text: string, key: string, opts: { strict?: boolean } = {}): Promise<void> {
    for (const c of await this.deps.oncall.coordinators(serviceId)) {
      try {
        await this.deps.notifier.tellUser(c, text, `${key}:${c}`);
      } catch (err) {
        if (opts.strict) throw err;
        this.deps.log.error({ service: serviceId, err: (err as Error).message }, "page: could not warn a coordinator");
      }
    }
  }

  /** A time as the service's clinicians read it: their wall clock, with the zone named. */
  private async localTime(at: Date, serviceId: string): Promise<string> {
    const zone = await this.deps.oncall.serviceInfo(serviceId).then((s) => s.timezone, () => "UTC");
    return DateTime.fromJSDate(at, { zone }).toFormat("HH:mm:ss ZZZZ");
  }

  private urgencyBadge(u: Urgency): string {
    return u === "emergent" ? "🚨 EMERGENT" : u === "urgent" ? "❗ URGENT" : "ROUTINE";
  }

  private humanDelay(seconds: number): string {
    return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  }
}
