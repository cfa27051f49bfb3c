import type { Logger } from "../logging.js";
import type { OnCallService } from "../oncall/oncallService.js";
import type { Notifier } from "../ports/notifier.js";
import type { Pager } from "../ports/pager.js";
import type { TimerRow, TimerStore } from "../timers/timerStore.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import { DomainError, type DomainErrorCode } from "../shared/domainError.js";
import { ALERT_STATE_TYPE, type AlertPriority, type AlertState } from "../shared/events/index.js";
import type { AlertEmail } from "./alertEmail.js";
import { TIMER_ALERT_TELL, tellStep, type AlertEffect } from "./alertIntake.js";
import { isValidTimeZone } from "../oncall/schedule.js";
import { quote } from "../shared/quote.js";
import type { AlertRulesResponse, AlertTrailStep, AlertView } from "../shared/alertApiTerms.js";
import { HH_MM, isQuiet, quietEnd } from "./quietHours.js";
import { PatientLimitsSchema, PatientNews2Schema, withPatientLimits, type AlertRule, type PatientSettings } from "./alertRules.js";
import { ruleReport, ruleSummary } from "./ruleReport.js";
import type { AlertMetrics } from "./alertMetrics.js";
import type { AlertRouting } from "./alertRules.js";
import type { Alert, AlertDelivery, AlertStore } from "./alertStore.js";

export const TIMER_ALERT_ESCALATE = "alert.escalate";
export const TIMER_ALERT_SNOOZE = "alert.snooze";
export const TIMER_ALERT_DIGEST = "alert.digest";

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

export class AlertError extends DomainError {
  constructor(code: DomainErrorCode, message: string) {
    super(code, message, code, "alert");
  }
}

const BADGE: Record<AlertPriority, string> = { critical: "🔴 CRITICAL", urgent: "🟠 URGENT", informational: "🔵 FYI" };

/** The PHI-free mirror of an alert, as its state event in each room it was delivered to. */
export function alertState(a: Alert, messageEventId: string | null): AlertState {
  return {
    id: a.id,
    number: a.number,
    rule_id: a.ruleId,
    priority: a.priority,
    status: a.status,
    repeats: a.repeats,
    corrections: a.corrections,
    created_ts: a.firstAt.getTime(),
    last_ts: a.lastAt.getTime(),
    acknowledged_by: a.acknowledgedBy,
    acknowledged_ts: a.acknowledgedAt?.getTime() ?? null,
    closed_ts: a.closedAt?.getTime() ?? null,
    message_event_id: messageEventId,
  };
}

/**
 * Routing, delivery and acknowledgement of alerts. Each clinician gets their alerts in their own
 * encrypted room with the alerts bot: the value and the patient in the message, ids and status in
 * the room's state. Every step is in the alert's trail with its time.
 */
export class AlertService {
  constructor(
    private readonly deps: {
      store: AlertStore;
      rooms: RoomWriter;
      oncall: Pick<OnCallService, "whoIsOnCall"> & Partial<Pick<OnCallService, "coordinators">>;
      /** Tells a coordinator by direct message (the alert load warning). */
      notifier?: Notifier;
      routing: () => AlertRouting;
      /** The paging engine, when the on-call bot runs: critical alerts ride it. */
      pager: () => Pager | null;
      botUserId: string;
      metrics?: AlertMetrics;
      /** Durable timers for escalation and snooze; without them (tests of delivery) nothing is armed. */
      timers?: { store: TimerStore; wake(): void };
      options?: { escalateUrgentMinutes: number; maxSnoozeMinutes: number; digestMinutes: number; shiftHours?: number; perShiftCap?: number };
      /** The Alerts widget pinned in each clinician's alerts room. */
      widgetUrl?: string;
      /** The rules in force with their version, for the coordinators' view. */
      ruleSet?: () => { version: number; rules: readonly AlertRule[] };
      /** Email without PHI for critical and urgent alerts, when SMTP is configured. */
      email?: Pick<AlertEmail, "tell"> | null;
      log: Logger;
    },
  ) {}

  private get options() {
    return this.deps.options ?? { escalateUrgentMinutes: 15, maxSnoozeMinutes: 60, digestMinutes: 60 };
  }

  /** Arms the escalation of an urgent alert: unacknowledged by then, it is paged to its unit's service. */
  private async armEscalation(a: Alert, from: Date, step: string): Promise<void> {
    // Urgent alerts, and critical ones that could not be paged at first: unacknowledged, they are paged.
    if (a.priority === "informational" || !this.deps.timers) return;
    const due = new Date(from.getTime() + this.options.escalateUrgentMinutes * 60_000);
    // One timer per step: a retried delivery does not arm a second escalation.
    await this.deps.timers.store.schedule(TIMER_ALERT_ESCALATE, a.id, step, due);
    this.deps.timers.wake();
  }

  /** Timer: an urgent alert's time to be acknowledged passed. Still open (and not snoozed), it is paged. */
  async onEscalateTimer(t: TimerRow): Promise<void> {
    const { store, log } = this.deps;
    const a = await store.get(store.db, t.ref);
    if (!a || a.status !== "open" || a.pageNumber !== null) return;
    if (a.snoozedUntil && a.snoozedUntil.getTime() > Date.now()) return; // the snooze's own timer re-arms it
    const pager = this.deps.pager();
    const service = await this.serviceFor(a);
    if (!pager || !service) {
      log.error({ alert: a.id, number: a.number }, "urgent alert unacknowledged and cannot be escalated: no paging or no service for its unit");
      return;
    }
    const note = this.text(a, "raised").split("\n").slice(0, 2).join("\n");
    const page = await pager.page({ service, urgency: a.priority === "critical" ? "emergent" : "urgent", note: `Not acknowledged for ${this.options.escalateUrgentMinutes} min: ${note}`, origin: `alert:${a.id}`, requester: this.deps.botUserId });
    if (await store.escalated(a.id, page.number, service, new Date())) {
      this.counted(a, "escalated");
      await this.deps.email?.tell(a, page.targets);
      log.info({ alert: a.id, number: a.number, page: page.number, service }, "unacknowledged alert escalated as a page");
    } else {
      // Acknowledged while the page was being raised: stop it ringing.
      await pager.resolve({ number: page.number, requester: this.deps.botUserId });
    }
  }

  /** The clinician's next digest: at the next slot of the digest period, or when their quiet hours end. */
  private async armDigest(userId: string, from: Date): Promise<void> {
    const period = this.options.digestMinutes * 60_000;
    let due = new Date(Math.ceil((from.getTime() + 1) / period) * period);
    const quiet = await this.deps.store.quietHoursOf(userId);
    if (quiet) due = quietEnd(quiet, due);
    // All alerts of one slot share one timer: (kind, user, slot) exists once.
    await this.deps.timers!.store.schedule(TIMER_ALERT_DIGEST, userId, String(due.getTime()), due);
    this.deps.timers!.wake();
  }

  /**
   * Timer: a clinician's digest is due. Held informational alerts go out in one message, unless
   * the clinician's quiet hours or the patient's unit's are on: those wait until they end.
   * Critical and urgent alerts never wait for this.
   */
  async onDigestTimer(t: TimerRow): Promise<void> {
    const { store, rooms } = this.deps;
    const userId = t.ref;
    const now = new Date();
    const mine = await store.quietHoursOf(userId);
    if (mine && isQuiet(mine, now)) {
      const end = quietEnd(mine, now);
      await this.deps.timers?.store.schedule(TIMER_ALERT_DIGEST, userId, String(end.getTime()), end);
      return;
    }
    const unitQuiet = this.deps.routing().quiet_hours ?? {};
    const held = await store.heldFor(userId);
    const waiting = held.filter(({ alert }) => alert.detail.unit && Object.hasOwn(unitQuiet, alert.detail.unit) && isQuiet(unitQuiet[alert.detail.unit]!, now));
    const ready = held.filter((h) => !waiting.includes(h));
    if (waiting.length) {
      const end = new Date(Math.min(...waiting.map(({ alert }) => quietEnd(unitQuiet[alert.detail.unit!]!, now).getTime())));
      await this.deps.timers?.store.schedule(TIMER_ALERT_DIGEST, userId, String(end.getTime()), end);
    }
    if (!ready.length) return;
    const roomId = ready[0]!.roomId;
    const lines = ready.map(({ alert }) => `#${alert.number} ${alert.detail.why} (${alert.detail.patient.id}${alert.detail.unit ? `, ${alert.detail.unit}` : ""})`);
    const body = [`🔵 FYI digest: ${ready.length} result${ready.length === 1 ? "" : "s"} to read.`, ...lines, `Send !ack <n> for each once read.`].join("\n");
    const eventId = await rooms.send(roomId, { body }, `alert-digest:${userId}:${t.step}`);
    for (const { alert } of ready) {
      await store.released(alert.id, userId, roomId, eventId, now);
      await rooms.setState(roomId, ALERT_STATE_TYPE, alert.id, alertState(alert, eventId) as unknown as Record<string, unknown>);
    }
    await this.countLoad(userId, ready[0]!.alert);
  }

  /** Sets or clears a clinician's quiet hours (HH:MM–HH:MM in a zone). */
  async setQuietHours(userId: string, q: { from: string; to: string; zone: string } | null): Promise<void> {
    if (q) {
      if (!HH_MM.test(q.from) || !HH_MM.test(q.to)) throw new AlertError("invalid_input", "Quiet hours run from one time to another, each as HH:MM, e.g. 22:00 to 07:00.");
      if (q.from === q.to) throw new AlertError("invalid_input", `Quiet hours from ${q.from} to ${q.to} would be no time at all, or all day. Give two different times, e.g. 22:00 to 07:00.`);
      if (!isValidTimeZone(q.zone)) throw new AlertError("invalid_input", `"${quote(q.zone)}" is not a time zone. Use a name such as Europe/London.`);
    }
    await this.deps.store.setQuietHours(userId, q);
  }

  async quietHoursOf(userId: string): Promise<{ from: string; to: string; zone: string } | null> {
    return this.deps.store.quietHoursOf(userId);
  }

  /**
   * Snoozes an urgent or informational alert for a bounded time: it comes back when the snooze
   * ends, and its escalation waits until then. A critical alert pages until acknowledged, so it
   * is never snoozed.
   */
  async snooze(req: { by: string; number: number; minutes: number; at?: Date }): Promise<Alert> {
    const { store } = this.deps;
    const found = await store.byNumber(req.number);
    if (!found) throw new AlertError("not_found", `There is no alert #${req.number}.`);
    if (!(await store.deliveries(found.id)).some((d) => d.userId === req.by)) throw new AlertError("forbidden", `Alert #${found.number} was not sent to you, so you cannot snooze it.`);
    if (found.priority === "critical") throw new AlertError("invalid_transition", `Alert #${found.number} is critical: it cannot be snoozed. Acknowledge it (✅ or !ack ${found.number}) once you are dealing with it.`);
    const max = this.options.maxSnoozeMinutes;
    if (!Number.isInteger(req.minutes) || req.minutes < 1 || req.minutes > max) throw new AlertError("invalid_input", `Snooze for 1 to ${max} minutes, e.g. !snooze ${found.number} 15.`);
    if (found.status !== "open") throw new AlertError("invalid_transition", `Alert #${found.number} is ${found.status}, so there is nothing to snooze.`);
    const at = req.at ?? new Date();
    const until = new Date(at.getTime() + req.minutes * 60_000);
    if (!(await store.snoozed(found.id, req.by, until, at))) throw new AlertError("invalid_transition", `Alert #${found.number} is no longer open.`);
    if (this.deps.timers) {
      await this.deps.timers.store.cancelAll(TIMER_ALERT_ESCALATE, found.id);
      // A new snooze replaces the last: its earlier end must not ring early.
      await this.deps.timers.store.cancelAll(TIMER_ALERT_SNOOZE, found.id);
      await this.deps.timers.store.schedule(TIMER_ALERT_SNOOZE, found.id, String(until.getTime()), until);
      this.deps.timers.wake();
    }
    this.counted(found, "snoozed");
    return (await store.get(store.db, found.id))!;
  }

  /** Timer: a snooze ended. Still open, the alert rings again where it was delivered, and its escalation is re-armed. */
  async onSnoozeTimer(t: TimerRow): Promise<void> {
    const { store, rooms } = this.deps;
    const a = await store.get(store.db, t.ref);
    if (!a || a.status !== "open") return;
    // Snoozed again since this timer was armed (a crash between cancel and schedule): the later snooze decides.
    if (a.snoozedUntil && a.snoozedUntil.getTime() > Number(t.step)) return;
    for (const d of await store.deliveries(a.id)) {
      if (!d.eventId) continue;
      await rooms.send(d.roomId, { body: `⏰ Snooze over: alert #${a.number} is still open (${a.detail.why}). React ✅ to the alert or send !ack ${a.number}.`, mentions: [d.userId], references: d.eventId }, `alert:${a.id}:snooze:${t.step}:${d.userId}`);
    }
    await store.trail(store.db, a.id, "renotified", new Date(), null, `snooze:${t.step}`);
    await this.armEscalation(a, new Date(), `after-snooze-${t.step}`);
  }

  private counted(a: Alert, change: string): void {
    this.deps.metrics?.alerts.inc({ rule: a.ruleId, priority: a.priority, change });
  }

  private ackMeasured(a: Alert, at: Date): void {
    this.counted(a, "acknowledged");
    this.deps.metrics?.ackSeconds.observe({ priority: a.priority }, Math.max(0, (at.getTime() - a.firstAt.getTime()) / 1000));
  }

  /** The service on call for the patient's unit (else the default one), for a page. */
  private async serviceFor(a: Alert): Promise<string | null> {
    const routing = this.deps.routing();
    const place = await this.deps.store.patientPlace(this.deps.store.db, a.patientKey);
    const unit = place?.unit ?? a.detail.unit;
    return (unit && Object.hasOwn(routing.units, unit) ? routing.units[unit] : undefined) ?? routing.default_service ?? null;
  }

  /**
   * A critical alert is a page: whoever is on call for the unit's service is rung, and the page
   * escalates along the service's policy, with SMS that carries no PHI. Its acknowledgement, by
   * ✅, !ack or SMS reply, acknowledges the alert (onPageAcknowledged).
   */
  private async page(a: Alert): Promise<boolean> {
    const pager = this.deps.pager();
    const service = await this.serviceFor(a);
    if (!pager || !service) return false;
    const note = `${this.text(a, "raised").split("\n").slice(0, 2).join("\n")}`;
    try {
      const page = await pager.page({ service, urgency: "emergent", note, origin: `alert:${a.id}`, requester: this.deps.botUserId });
      await this.deps.store.paged(a.id, page.number, service, page.targets, new Date(), { roomId: page.roomId, eventId: page.eventId });
      await this.deps.email?.tell(a, page.targets);
      // A page is an alert like any other in the alarm load its targets carry.
      for (const user of page.targets) await this.countLoad(user, a);
      this.deps.log.info({ alert: a.id, number: a.number, page: page.number, service }, "critical alert paged");
      return true;
    } catch (err) {
      // Nobody on call at any step (the coordinators are told by paging): deliver directly instead.
      this.deps.log.error({ alert: a.id, service, err: err instanceof Error ? err.message : String(err) }, "critical alert could not be paged; delivering it directly");
      return false;
    }
  }

  /** The alert's state in each room it reached; a page's room shows the page's own state, so it is left to paging. */
  private async mirror(a: Alert, known?: readonly AlertDelivery[]): Promise<void> {
    for (const d of known ?? (await this.deps.store.deliveries(a.id))) {
      if (!d.viaPage && d.roomId) await this.deps.rooms.setState(d.roomId, ALERT_STATE_TYPE, a.id, alertState(a, d.eventId) as unknown as Record<string, unknown>);
    }
  }

  /** The page of a critical alert was acknowledged: so is the alert (once). */
  async onPageAcknowledged(ack: { origin: string; by: string; via: string; at: Date; number: number }): Promise<void> {
    const id = ack.origin.slice("alert:".length);
    await this.deps.timers?.store.cancelAll(TIMER_ALERT_ESCALATE, id);
    if (await this.deps.store.acknowledged(id, ack.by, ack.at, `page:${ack.number} via:${ack.via}`)) {
      const a = (await this.deps.store.get(this.deps.store.db, id))!;
      this.ackMeasured(a, ack.at);
      await this.deps.timers?.store.cancelAll(TIMER_ALERT_SNOOZE, id);
      await this.mirror(a);
      this.deps.log.info({ alert: a.id, number: a.number, page: ack.number, ackMs: ack.at.getTime() - a.firstAt.getTime() }, "alert acknowledged through its page");
    }
  }

  /**
   * Who is told first: the patient's attending when ADT named one Rounds knows, else whoever
   * is first on call for the unit's service, else the default service's.
   */
  async recipients(a: Alert): Promise<{ users: string[]; via: string }> {
    const routing = this.deps.routing();
    const place = await this.deps.store.patientPlace(this.deps.store.db, a.patientKey);
    const own = (map: Record<string, string>, key: string | null | undefined) => (key && Object.hasOwn(map, key) ? map[key] : undefined);
    const attending = own(routing.staff, place?.attending);
    if (attending) return { users: [attending], via: "attending" };
    const unit = place?.unit ?? a.detail.unit;
    const services = [own(routing.units, unit), routing.default_service].filter((s): s is string => !!s);
    for (const service of services) {
      try {
        const answer = await this.deps.oncall.whoIsOnCall(service);
        const first = answer.levels[0];
        if (first) return { users: [first.userId], via: `on call: ${answer.service.id}/${first.level}` };
      } catch (err) {
        this.deps.log.warn({ alert: a.id, service, err: err instanceof Error ? err.message : String(err) }, "alert routing: service not found");
      }
    }
    return { users: [], via: "nobody" };
  }

  private roomKey(userId: string): string {
    return `alerts:${userId}`;
  }

  private get widget() {
    return this.deps.widgetUrl ? { id: "rounds-alerts", name: "Alerts", url: this.deps.widgetUrl, heightPercent: 50 } : null;
  }

  /**
   * The clinician's own encrypted room with the alerts bot, with the Alerts widget pinned.
   * `ensureWidget` pins it in a room made before the widget existed.
   */
  async alertsRoom(userId: string, ensureWidget = false): Promise<string> {
    const { rooms } = this.deps;
    const widget = this.widget;
    const roomId = await rooms.openRoom(this.roomKey(userId), { name: "Rounds alerts", members: [userId], direct: true, ...(widget ? { initialState: rooms.widgetState(widget) } : {}) });
    if (widget && ensureWidget) await rooms.installWidget(roomId, widget);
    return roomId;
  }

  private text(a: Alert, kind: AlertEffect["kind"]): string {
    const d = a.detail;
    const head = `${BADGE[a.priority]} alert #${a.number}: ${d.why}`;
    const patient = `Patient: ${d.patient.id}${d.patient.authority ? ` (${d.patient.authority})` : ""}${d.unit ? `, unit ${d.unit}` : ""}${d.observedAt ? `, taken ${d.observedAt.slice(0, 16).replace("T", " ")} UTC` : ""}`;
    if (kind === "repeated") return `${head}\nRepeated: ${a.repeats + 1} results in the window.`;
    if (kind === "corrected") return `${head}\nCorrected by the lab (${a.corrections} correction${a.corrections === 1 ? "" : "s"}).\n${patient}`;
    if (kind === "cleared") return `✅ Alert #${a.number} cleared: a later result is normal (${d.why}).`;
    return `${head}\n${patient}\nReact ✅ to this message or send !ack ${a.number} to acknowledge.`;
  }

  /**
   * Alarm load: alerts sent to one clinician within a shift. Counted as a metric; past the cap,
   * the coordinators of the patient's unit's service are told once per shift, because a
   * clinician getting that many alerts stops reading them.
   */
  private async countLoad(userId: string, a: Alert): Promise<void> {
    const hours = this.options.shiftHours ?? 12;
    const cap = this.options.perShiftCap ?? 30;
    const since = new Date(Date.now() - hours * 3_600_000);
    const n = await this.deps.store.deliveredCount(userId, since);
    this.deps.metrics?.perClinician.set({ user: userId }, n);
    if (n <= cap || !this.deps.notifier || !this.deps.oncall.coordinators) return;
    const service = await this.serviceFor(a);
    if (!service) return;
    let coordinators: string[];
    try {
      coordinators = await this.deps.oncall.coordinators(service);
    } catch {
      return;
    }
    // One warning per clinician per shift window: the key is the window's start.
    const window = Math.floor(Date.now() / (hours * 3_600_000));
    for (const c of coordinators) {
      await this.deps.notifier.tellUser(c, `⚠️ Alert load: ${userId} has had ${n} alerts in the last ${hours} h (more than ${cap}). Consider sharing the load or reviewing the noisiest rules (npm run rounds -- alerts report).`, `alert-load:${userId}:${window}`);
    }
    this.deps.log.warn({ user: userId, alerts: n, cap, hours }, "alert load above the cap; coordinators told");
  }

  /** An alert no longer needs anyone rung: its timers go, and a page raised for it is closed. */
  private async settled(a: Alert): Promise<void> {
    await this.deps.timers?.store.cancelAll(TIMER_ALERT_ESCALATE, a.id);
    await this.deps.timers?.store.cancelAll(TIMER_ALERT_SNOOZE, a.id);
    if (a.pageNumber !== null) await this.deps.pager()?.resolve({ number: a.pageNumber, requester: this.deps.botUserId });
  }

  /** Acts on what intake did: new alerts are routed and delivered, changes are told where they were. */
  async deliver(effects: readonly AlertEffect[]): Promise<void> {
    for (const e of effects) {
      this.counted(e.alert, e.kind);
      try {
        if (e.kind === "raised") await this.deliverNew(e.alert);
        else {
          await this.tellChange(e);
          // Told: the timer intake armed for a crash before this is not needed.
          await this.deps.timers?.store.cancel(TIMER_ALERT_TELL, e.alert.id, tellStep(e));
        }
        if (e.kind === "cleared") await this.settled(e.alert);
      } catch (err) {
        // The alert stays open and undelivered in the database; the next delivery pass retries it.
        this.deps.log.error({ alert: e.alert.id, err: err instanceof Error ? err.message : String(err) }, "alert delivery failed");
      }
    }
  }

  /** Open alerts that were never delivered (a crash, a Matrix outage): delivered now. */
  async redeliver(): Promise<number> {
    const pending = await this.deps.store.undelivered();
    for (const a of pending) {
      try {
        await this.deliverNew(a);
      } catch (err) {
        // One alert that keeps failing must not hold back the others.
        this.deps.log.error({ alert: a.id, err: err instanceof Error ? err.message : String(err) }, "alert redelivery failed");
      }
    }
    return pending.length;
  }

  private async deliverNew(a: Alert): Promise<void> {
    const { store, log } = this.deps;
    if (a.priority === "critical" && (a.pageNumber !== null || (await this.page(a)))) {
      // The page rings the unit's on-call; the patient's own attending is told too, in their alerts room.
      const { users, via } = await this.recipients(a);
      const paged = new Set((await store.deliveries(a.id)).filter((d) => d.viaPage).map((d) => d.userId));
      if (via === "attending") await this.sendTo(a, users.filter((u) => !paged.has(u)), via);
      return;
    }
    const { users, via } = await this.recipients(a);
    if (!users.length) {
      log.error({ alert: a.id, rule: a.ruleId, priority: a.priority }, "alert has nobody to go to: no attending mapped and nobody on call for the unit's service");
      return;
    }
    await this.sendTo(a, users, via);
    await this.armEscalation(a, new Date(), "first");
  }

  /** Sends the alert to each of `users` in their alerts room (once each), or holds an informational one for their digest. */
  private async sendTo(a: Alert, users: string[], via: string): Promise<void> {
    const { store, rooms, log } = this.deps;
    for (const user of users) {
      if (!(await store.claimDelivery(a.id, user))) continue;
      const roomId = await this.alertsRoom(user);
      await store.setDeliveryRoom(a.id, user, roomId);
      await store.trail(store.db, a.id, "routed", new Date(), user, via);
      if (a.priority === "informational" && this.deps.timers) {
        // Informational alerts are gathered into the clinician's next digest, not sent one by one.
        await store.hold(a.id, user);
        await this.armDigest(user, new Date());
        continue;
      }
      const eventId = await rooms.send(roomId, { body: this.text(a, "raised"), mentions: a.priority === "informational" ? [] : [user] }, `alert:${a.id}:${user}`);
      await store.delivered(a.id, user, roomId, eventId, new Date());
      await rooms.setState(roomId, ALERT_STATE_TYPE, a.id, alertState(a, eventId) as unknown as Record<string, unknown>);
      log.info({ alert: a.id, number: a.number, priority: a.priority, via }, "alert delivered");
    }
    if (a.priority !== "informational") await this.deps.email?.tell(a, users);
    for (const user of users) await this.countLoad(user, a);
  }

  private async tellChange(e: AlertEffect, step = tellStep(e)): Promise<void> {
    const { store, rooms } = this.deps;
    // Repeats are dedup's own: the count is always in the state, and a message goes only at the
    // 1st, 2nd, 4th, 8th … repeat, so a lab re-sending a result every minute does not fill the room.
    const deliveries = await store.deliveries(e.alert.id);
    if (e.kind === "repeated" && !isPowerOfTwo(e.alert.repeats)) return this.mirror(e.alert, deliveries);
    for (const d of deliveries) {
      if (!d.eventId) continue;
      // A page's room is told too: the alerts bot is in it as the page's requester.
      await rooms.send(d.roomId, { body: this.text(e.alert, e.kind), notice: e.kind !== "corrected", references: d.eventId, mentions: e.kind === "corrected" ? [d.userId] : [] }, `alert:${e.alert.id}:${step}:${d.userId}`);
    }
    await this.mirror(e.alert, deliveries);
  }

  /**
   * Timer: a change intake committed (TIMER_ALERT_TELL). Told under the same key as deliver()
   * tells it, so after a crash it is told once, and otherwise not twice.
   */
  async onTellTimer(t: TimerRow): Promise<void> {
    const a = await this.deps.store.get(this.deps.store.db, t.ref);
    const kind = t.step.slice(0, t.step.indexOf(":")) as AlertEffect["kind"];
    if (!a || !["repeated", "corrected", "cleared"].includes(kind)) return;
    await this.tellChange({ kind, alert: a }, t.step);
    if (kind === "cleared") await this.settled(a);
  }

  /** Acknowledges by number (a command), or by the alert message reacted to; idempotent for the same person. */
  async acknowledge(req: { by: string; number?: number; eventId?: string; at?: Date }): Promise<{ alert: Alert; already: boolean }> {
    const { store, log } = this.deps;
    const found = req.number !== undefined ? await store.byNumber(req.number) : req.eventId ? await store.byMessage(req.eventId) : null;
    if (!found) throw new AlertError("not_found", req.number !== undefined ? `There is no alert #${req.number}.` : "That message is not an alert.");
    const delivered = (await store.deliveries(found.id)).some((d) => d.userId === req.by);
    if (!delivered) throw new AlertError("forbidden", `Alert #${found.number} was not sent to you, so you cannot acknowledge it.`);
    if (found.status !== "open") {
      if (found.status === "acknowledged" && found.acknowledgedBy === req.by) return { alert: found, already: true };
      const why = found.status === "acknowledged" ? `was already acknowledged by ${found.acknowledgedBy}` : `is ${found.status}`;
      throw new AlertError("conflict", `Alert #${found.number} ${why}.`);
    }
    const at = req.at ?? new Date();
    if (!(await store.acknowledged(found.id, req.by, at))) return this.acknowledge(req);
    const alert = (await store.get(store.db, found.id))!;
    await this.settled(alert);
    this.ackMeasured(alert, at);
    log.info({ alert: alert.id, number: alert.number, ackMs: at.getTime() - alert.firstAt.getTime() }, "alert acknowledged");
    await this.mirror(alert);
    return { alert, already: false };
  }

  /**
   * A recipient says the alert was a false positive. The reason is their encrypted message
   * (`reasonEventId`); Rounds keeps only its id. The alert closes, and the per-rule report counts it.
   */
  async markFalsePositive(req: { by: string; number: number; reasonEventId: string | null; at?: Date }): Promise<Alert> {
    const { store } = this.deps;
    const found = await store.byNumber(req.number);
    if (!found) throw new AlertError("not_found", `There is no alert #${req.number}.`);
    const recipients = [...(await store.deliveries(found.id)).map((d) => d.userId), ...(found.acknowledgedBy ? [found.acknowledgedBy] : [])];
    if (!recipients.includes(req.by)) throw new AlertError("forbidden", `Alert #${found.number} was not sent to you, so you cannot mark it a false positive.`);
    if (!(await store.falsePositive(found.id, req.by, req.at ?? new Date(), req.reasonEventId))) throw new AlertError("conflict", `Alert #${found.number} is already marked a false positive.`);
    const alert = (await store.get(store.db, found.id))!;
    await this.settled(alert);
    this.counted(alert, "false_positive");
    await this.mirror(alert);
    return alert;
  }

  /** A recipient's read receipt in a room: the alerts delivered to them there before it are read (the trail's "read" step). */
  async read(req: { by: string; roomId: string; at: Date; eventId: string }): Promise<number> {
    const read = await this.deps.store.read(req.by, req.roomId, req.at, req.eventId);
    for (const a of read) this.deps.metrics?.readSeconds.observe({ priority: a.priority }, Math.max(0, (req.at.getTime() - a.firstAt.getTime()) / 1000));
    return read.length;
  }

  /** An alert as the widgets see it: no value, no patient. */
  private view(a: Alert, d: AlertDelivery | undefined): AlertView {
    return {
      number: a.number,
      id: a.id,
      rule_id: a.ruleId,
      priority: a.priority,
      status: a.status,
      repeats: a.repeats,
      corrections: a.corrections,
      first_ts: a.firstAt.getTime(),
      last_ts: a.lastAt.getTime(),
      snoozed_until_ts: a.snoozedUntil && a.snoozedUntil.getTime() > Date.now() ? a.snoozedUntil.getTime() : null,
      acknowledged_by: a.acknowledgedBy,
      acknowledged_ts: a.acknowledgedAt?.getTime() ?? null,
      false_positive: a.falsePositive,
      page_number: a.pageNumber,
      via_page: d?.viaPage ?? false,
      room_id: d?.roomId || null,
      message_event_id: d?.eventId ?? null,
      read_ts: d?.readAt?.getTime() ?? null,
    };
  }

  /** The viewer's alerts: those open, and those closed within the last `closedHours`, newest first. */
  async mine(userId: string, closedHours = 12): Promise<AlertView[]> {
    const rows = await this.deps.store.forRecipient(userId, new Date(Date.now() - closedHours * 3_600_000));
    return rows.map(({ alert, delivery }) => this.view(alert, delivery));
  }

  /**
   * One alert and its closed-loop trail, for a recipient or a coordinator of a service alerts
   * route to. From a room (a widget), the alert must have reached the viewer in that room.
   */
  async alertFor(userId: string, number: number, roomId?: string): Promise<{ alert: AlertView; trail: AlertTrailStep[] }> {
    const { a, mine } = await this.seenBy(userId, number);
    if (roomId !== undefined) await this.actsFrom(userId, number, mine, roomId);
    const trail = (await this.deps.store.trailOf(a.id)).map((t) => ({ step: t.step, ts: t.at.getTime(), actor: t.actor, ref: t.ref }));
    return { alert: this.view(a, mine), trail };
  }

  /** Alert `number` and its delivery to `userId`, when they may see it: a recipient, its acknowledger or a coordinator. */
  private async seenBy(userId: string, number: number, refusal = `Alert #${number} was not sent to you.`): Promise<{ a: Alert; mine: AlertDelivery | undefined }> {
    const { store } = this.deps;
    const a = await store.byNumber(number);
    if (!a) throw new AlertError("not_found", `There is no alert #${number}.`);
    const mine = (await store.deliveries(a.id)).find((d) => d.userId === userId);
    if (!mine && a.acknowledgedBy !== userId && !(await this.isCoordinator(userId))) throw new AlertError("forbidden", refusal);
    return { a, mine };
  }

  /** A refusal unless alert `number` reached `userId` in `roomId` (or, for a page, that is their own alerts room). */
  async requireDeliveredIn(userId: string, number: number, roomId: string): Promise<void> {
    const a = await this.deps.store.byNumber(number);
    if (!a) throw new AlertError("not_found", `There is no alert #${number}.`);
    await this.actsFrom(userId, number, (await this.deps.store.deliveries(a.id)).find((d) => d.userId === userId), roomId);
  }

  private async actsFrom(userId: string, number: number, mine: AlertDelivery | undefined, roomId: string): Promise<void> {
    if (!mine) throw new AlertError("forbidden", `Alert #${number} was not sent to you.`);
    // A critical alert rang in its page's room, which has no Alerts widget: the clinician's own alerts room acts on it too.
    if (mine.roomId === roomId || (mine.viaPage && roomId === (await this.deps.rooms.findRoom(this.roomKey(userId))))) return;
    throw new AlertError("forbidden", `Alert #${number} did not reach you in this room; act on it where it did.`);
  }

  /** Coordinators of the services alerts route to (a unit's or the default) see the rules and analytics. */
  async isCoordinator(userId: string): Promise<boolean> {
    const routing = this.deps.routing();
    const services = new Set([...Object.values(routing.units), ...(routing.default_service ? [routing.default_service] : [])]);
    if (!this.deps.oncall.coordinators) return false;
    for (const service of services) {
      const coordinators = await this.deps.oncall.coordinators(service).catch(() => [] as string[]);
      if (coordinators.includes(userId)) return true;
    }
    return false;
  }

  /** The rules in force in words, and each rule's effectiveness since `since`: for coordinators only. */
  async rulesOverview(userId: string, since: Date): Promise<AlertRulesResponse> {
    if (!(await this.isCoordinator(userId))) throw new AlertError("forbidden", "The rules and their analytics are for the coordinators of the services alerts go to.");
    const set = this.deps.ruleSet?.() ?? { version: 0, rules: [] };
    return {
      version: set.version,
      rules: set.rules.map(ruleSummary),
      since: since.toISOString(),
      report: ruleReport(set.rules, await this.deps.store.outcomes(since)),
    };
  }

  /**
   * Sets (or, with null, clears) the own limits of the patient of alert `number` for its lab
   * rule, so that patient's usual values stop alerting: by a clinician the alert reached, or a
   * coordinator. The limits must nest with the rule's other bands.
   */
  async setPatientLimits(req: { by: string; number: number; limits: unknown; at?: Date }): Promise<{ ruleId: string; limits: PatientSettings | null }> {
    const { store, log } = this.deps;
    const { a } = await this.seenBy(req.by, req.number, `Alert #${req.number} was not sent to you, so you cannot set its patient's limits.`);
    const limits = this.checkedLimits(a.ruleId, req.limits, `Alert #${a.number} is from the ${a.ruleId} rule`);
    await store.setPatientLimits(a.detail.patient, a.ruleId, limits, req.by, req.at ?? new Date());
    log.info({ alert: a.id, number: a.number, rule: a.ruleId, by: req.by, cleared: limits === null }, "patient-specific alert limits set");
    return { ruleId: a.ruleId, limits };
  }

  /** The same for a patient named outright (the admin API, for a coordinator who has the reference). */
  async setPatientLimitsFor(req: { by: string; patient: { id: string; authority: string }; ruleId: string; limits: unknown }): Promise<PatientSettings | null> {
    const limits = this.checkedLimits(req.ruleId, req.limits, `The ${req.ruleId} rule`);
    await this.deps.store.setPatientLimits(req.patient, req.ruleId, limits, req.by, new Date());
    this.deps.log.info({ rule: req.ruleId, by: req.by, cleared: limits === null }, "patient-specific alert limits set");
    return limits;
  }

  async allPatientLimits() {
    return this.deps.store.allPatientLimits();
  }

  /** Limits for one patient under a lab rule in force, checked as the rules file's are; null clears. */
  private checkedLimits(ruleId: string, raw: unknown, what: string): PatientSettings | null {
    const rule = this.deps.ruleSet?.().rules.find((r) => r.id === ruleId);
    if (!rule) throw new AlertError("not_found", `There is no rule '${ruleId}' in force.`);
    if (rule.kind !== "lab" && rule.kind !== "news2") throw new AlertError("invalid_input", `${what}, which has nothing to set for one patient (lab rules have limits, NEWS2 its SpO2 scale).`);
    if (raw === null) return null;
    const parsed = rule.kind === "news2" ? PatientNews2Schema.safeParse(raw) : PatientLimitsSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AlertError("invalid_input", `${issue.path.join(".") || "limits"}: ${issue.message}${rule.kind === "news2" ? " (for NEWS2, give the SpO2 scale: !limit <alert> scale 2)" : ""}`);
    }
    if ("scale" in parsed.data || rule.kind !== "lab") return parsed.data;
    const { problems } = withPatientLimits(rule, parsed.data);
    if (problems.length) throw new AlertError("invalid_input", `Those limits do not fit ${rule.name}'s other bands: ${problems.join("; ")}.`);
    return parsed.data;
  }

  /** The own limits of alert `number`'s patient for its rule, for one who may see that alert. */
  async patientLimitsOf(by: string, number: number): Promise<{ ruleId: string; units: string | null; limits: PatientSettings | null }> {
    const { a } = await this.seenBy(by, number);
    const rule = this.deps.ruleSet?.().rules.find((r) => r.id === a.ruleId);
    const own = await this.deps.store.patientLimits(this.deps.store.db, a.patientKey, a.ruleId);
    return { ruleId: a.ruleId, units: rule?.kind === "lab" ? rule.units : null, limits: own?.limits ?? null };
  }

  get maxSnoozeMinutes(): number {
    return this.options.maxSnoozeMinutes;
  }

  async openFor(userId: string): Promise<Alert[]> {
    return this.deps.store.openDeliveredTo(userId);
  }
}
