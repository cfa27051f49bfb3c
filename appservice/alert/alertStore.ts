import type { Knex } from "knex";
import { ulid } from "ulid";
import type { Db } from "../db/connect.js";
import type { AtRest } from "../shared/atRest.js";
import type { AlertPriority, AlertStatus } from "../shared/events/index.js";
import type { PatientSettings } from "./alertRules.js";

export const TRAIL_STEPS = ["received", "repeated", "corrected", "cleared", "routed", "delivered", "read", "acknowledged", "escalated", "snoozed", "renotified", "false_positive"] as const;
export type TrailStep = (typeof TRAIL_STEPS)[number];

/** What an alert shows once opened: PHI, sealed at rest, sent only in encrypted events. */
export interface AlertDetail {
  why: string;
  test: string;
  value: string;
  units: string;
  patient: { id: string; authority: string };
  unit: string | null;
  observedAt: string | null;
}

export interface Alert {
  id: string;
  number: number;
  ruleId: string;
  priority: AlertPriority;
  status: AlertStatus;
  patientKey: string;
  band: string;
  dedupKey: string;
  resultKey: string | null;
  repeats: number;
  corrections: number;
  detail: AlertDetail;
  source: string;
  inboundId: number;
  firstAt: Date;
  lastAt: Date;
  closedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  pageNumber: number | null;
  snoozedUntil: Date | null;
  /** Marked a false positive by a recipient (the reason is in their encrypted message). */
  falsePositive: boolean;
}

export interface AlertDelivery {
  userId: string;
  roomId: string;
  eventId: string | null;
  deliveredAt: Date | null;
  /** When the recipient's read receipt first passed the alert's message. */
  readAt: Date | null;
  /** Told by the alert's page, in the page's room. */
  viaPage: boolean;
}

/** An ordered test, as the overdue rules read it. */
export interface AlertOrder {
  id: number;
  patientKey: string;
  patient: { id: string; authority: string };
  loinc: string;
  unit: string | null;
  orderedAt: Date;
  resultedAt: Date | null;
  closedAt: Date | null;
  source: string;
  inboundId: number;
}

interface AlertRow {
  id: string;
  number: number | string;
  rule_id: string;
  priority: AlertPriority;
  status: AlertStatus;
  patient_key: string;
  band: string;
  dedup_key: string;
  result_key: string | null;
  repeats: number;
  corrections: number;
  sealed_detail: string;
  source: string;
  inbound_id: number | string;
  first_at: Date | string;
  last_at: Date | string;
  closed_at: Date | string | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | string | null;
  page_number: number | null;
  snoozed_until: Date | string | null;
  false_positive_at?: Date | string | null;
}

const OPEN: AlertStatus[] = ["open", "acknowledged"];

/**
 * Alerts, their trail and the patients' whereabouts. Every method takes the transaction it runs
 * in, so that one inbound message's effects commit together with its being marked processed.
 */
export class AlertStore {
  constructor(
    readonly db: Db,
    private readonly atRest: AtRest,
  ) {}

  patientKey(p: { id: string; authority: string }): string {
    return this.atRest.digest(`patient:${p.authority}|${p.id}`);
  }

  resultKey(identity: string): string {
    return this.atRest.digest(`result:${identity}`);
  }

  private toAlert(r: AlertRow): Alert {
    return {
      id: r.id,
      number: Number(r.number),
      ruleId: r.rule_id,
      priority: r.priority,
      status: r.status,
      patientKey: r.patient_key,
      band: r.band,
      dedupKey: r.dedup_key,
      resultKey: r.result_key,
      repeats: r.repeats,
      corrections: r.corrections,
      detail: JSON.parse(this.atRest.open(r.sealed_detail)) as AlertDetail,
      source: r.source,
      inboundId: Number(r.inbound_id),
      firstAt: new Date(r.first_at),
      lastAt: new Date(r.last_at),
      closedAt: r.closed_at === null ? null : new Date(r.closed_at),
      acknowledgedBy: r.acknowledged_by,
      acknowledgedAt: r.acknowledged_at === null ? null : new Date(r.acknowledged_at),
      pageNumber: r.page_number,
      snoozedUntil: r.snoozed_until === null ? null : new Date(r.snoozed_until),
      falsePositive: r.false_positive_at !== null && r.false_positive_at !== undefined,
    };
  }

  /**
   * Where a patient is. `discharged` clears the unit; otherwise only what the message says is
   * changed (an A08 without PV1 leaves the unit and attending as they were).
   */
  async setPatient(trx: Knex.Transaction, p: { id: string; authority: string }, where: { unit: string | null; attending: string | null; discharged?: boolean }, at: Date): Promise<void> {
    const key = this.patientKey(p);
    const known = (await trx("alert_patients").where({ patient_key: key }).first("unit", "attending")) as { unit: string | null; attending: string | null } | undefined;
    const unit = where.discharged ? null : (where.unit ?? known?.unit ?? null);
    const attending = where.attending ?? known?.attending ?? null;
    if (known) await trx("alert_patients").where({ patient_key: key }).update({ unit, attending, updated_at: at });
    else await trx("alert_patients").insert({ patient_key: key, sealed_ref: this.atRest.seal(JSON.stringify(p)), unit, attending, updated_at: at });
  }

  async patientPlace(trx: Knex.Transaction | Db, patientKey: string): Promise<{ unit: string | null; attending: string | null } | null> {
    const row = (await trx("alert_patients").where({ patient_key: patientKey }).first("unit", "attending")) as { unit: string | null; attending: string | null } | undefined;
    return row ?? null;
  }

  /** The latest value of one vital sign for a patient (sealed); an older reading never replaces a newer one. */
  async setVital(trx: Knex.Transaction, patientKey: string, loinc: string, value: number | string, at: Date): Promise<void> {
    const row = { patient_key: patientKey, loinc, sealed_value: this.atRest.seal(JSON.stringify(value)), observed_at: at };
    const existing = (await trx("alert_vitals").where({ patient_key: patientKey, loinc }).first("observed_at")) as { observed_at: Date | string } | undefined;
    if (!existing) await trx("alert_vitals").insert(row);
    else if (new Date(existing.observed_at).getTime() <= at.getTime()) await trx("alert_vitals").where({ patient_key: patientKey, loinc }).update(row);
  }

  async vitalsOf(trx: Knex.Transaction, patientKey: string): Promise<Array<{ loinc: string; value: number | string; at: Date }>> {
    const rows = (await trx("alert_vitals").where({ patient_key: patientKey })) as Array<{ loinc: string; sealed_value: string; observed_at: Date | string }>;
    return rows.map((r) => ({ loinc: r.loinc, value: JSON.parse(this.atRest.open(r.sealed_value)) as number | string, at: new Date(r.observed_at) }));
  }

  async raise(
    trx: Knex.Transaction,
    a: { ruleId: string; priority: AlertPriority; patientKey: string; band: string; dedupKey: string; resultKey: string | null; detail: AlertDetail; source: string; inboundId: number },
    at: Date,
  ): Promise<Alert> {
    const id = ulid(at.getTime());
    await trx("alerts").insert({
      id,
      rule_id: a.ruleId,
      priority: a.priority,
      status: "open",
      patient_key: a.patientKey,
      band: a.band,
      dedup_key: a.dedupKey,
      result_key: a.resultKey,
      sealed_detail: this.atRest.seal(JSON.stringify(a.detail)),
      source: a.source,
      inbound_id: a.inboundId,
      first_at: at,
      last_at: at,
    });
    await this.trail(trx, id, "received", at, null, `inbound:${a.inboundId}`);
    return (await this.get(trx, id))!;
  }

  async get(trx: Knex.Transaction | Db, id: string): Promise<Alert | null> {
    const row = (await trx("alerts").where({ id }).first()) as AlertRow | undefined;
    return row ? this.toAlert(row) : null;
  }

  /** The open alert this finding repeats: same dedup key, first raised within the window (which does not slide). */
  async openForDedup(trx: Knex.Transaction, dedupKey: string, since: Date): Promise<Alert | null> {
    const row = (await trx("alerts").where({ dedup_key: dedupKey }).whereIn("status", OPEN).where("first_at", ">=", since).orderBy("number", "desc").first()) as AlertRow | undefined;
    return row ? this.toAlert(row) : null;
  }

  /** The alert raised on this result (for a correction), open or closed. */
  async byResult(trx: Knex.Transaction, resultKey: string): Promise<Alert | null> {
    const row = (await trx("alerts").where({ result_key: resultKey }).orderBy("number", "desc").first()) as AlertRow | undefined;
    return row ? this.toAlert(row) : null;
  }

  async openFor(trx: Knex.Transaction, patientKey: string, ruleId: string): Promise<Alert[]> {
    const rows = (await trx("alerts").where({ patient_key: patientKey, rule_id: ruleId }).whereIn("status", OPEN).orderBy("number")) as AlertRow[];
    return rows.map((r) => this.toAlert(r));
  }

  /** One more result of the same patient, rule and band: counted, and the alert shows the latest value. */
  async repeated(trx: Knex.Transaction, id: string, detail: AlertDetail, at: Date, inboundId: number): Promise<void> {
    await trx("alerts").where({ id }).increment("repeats", 1).update({ last_at: at, sealed_detail: this.atRest.seal(JSON.stringify(detail)) });
    await this.trail(trx, id, "repeated", at, null, `inbound:${inboundId}`);
  }

  async corrected(trx: Knex.Transaction, id: string, change: { priority: AlertPriority; band: string; detail: AlertDetail }, at: Date, inboundId: number): Promise<void> {
    await trx("alerts")
      .where({ id })
      .increment("corrections", 1)
      .update({ priority: change.priority, band: change.band, sealed_detail: this.atRest.seal(JSON.stringify(change.detail)), last_at: at });
    await this.trail(trx, id, "corrected", at, null, `inbound:${inboundId}`);
  }

  /** Closes an open alert because a later result is normal (or a correction made it so). */
  async cleared(trx: Knex.Transaction, id: string, at: Date, inboundId: number): Promise<boolean> {
    const n = await trx("alerts").where({ id }).whereIn("status", OPEN).update({ status: "cleared", closed_at: at, last_at: at });
    if (n) await this.trail(trx, id, "cleared", at, null, `inbound:${inboundId}`);
    return n > 0;
  }

  async trail(trx: Knex.Transaction | Db, alertId: string, step: TrailStep, at: Date, actor: string | null, ref: string | null): Promise<void> {
    await trx("alert_trail").insert({ alert_id: alertId, step, at, actor, ref });
  }

  async trailOf(alertId: string): Promise<Array<{ step: TrailStep; at: Date; actor: string | null; ref: string | null }>> {
    const rows = (await this.db("alert_trail").where({ alert_id: alertId }).orderBy("id")) as Array<{ step: TrailStep; at: Date | string; actor: string | null; ref: string | null }>;
    return rows.map((r) => ({ step: r.step, at: new Date(r.at), actor: r.actor, ref: r.ref }));
  }

  async byNumber(n: number): Promise<Alert | null> {
    if (!Number.isSafeInteger(n) || n < 1) return null;
    const row = (await this.db("alerts").where({ number: n }).first()) as AlertRow | undefined;
    return row ? this.toAlert(row) : null;
  }

  /** The alert whose message (in any of its rooms) is `eventId`. */
  async byMessage(eventId: string): Promise<Alert | null> {
    const d = (await this.db("alert_deliveries").where({ event_id: eventId }).first("alert_id")) as { alert_id: string } | undefined;
    return d ? this.get(this.db, d.alert_id) : null;
  }

  /** Claims the delivery of `alertId` to `userId`; false when it was claimed before (a retry). */
  async claimDelivery(alertId: string, userId: string): Promise<boolean> {
    const existing = (await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).first("event_id", "held")) as { event_id: string | null; held: boolean } | undefined;
    if (existing?.event_id || existing?.held) return false;
    if (!existing) await this.db("alert_deliveries").insert({ alert_id: alertId, user_id: userId, room_id: "" }).onConflict(["alert_id", "user_id"]).ignore();
    return true;
  }

  async setDeliveryRoom(alertId: string, userId: string, roomId: string): Promise<void> {
    await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).update({ room_id: roomId });
  }

  /** The alert's message `eventId` reached `userId` in `roomId`. */
  async delivered(alertId: string, userId: string, roomId: string, eventId: string, at: Date): Promise<void> {
    await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).update({ event_id: eventId, delivered_at: at });
    await this.trail(this.db, alertId, "delivered", at, userId, eventId);
    await this.readIfSeen(alertId, userId, roomId, eventId, at);
  }

  /** An informational alert waits for the clinician's digest. */
  async hold(alertId: string, userId: string): Promise<void> {
    await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).update({ held: true });
  }

  /** The open alerts waiting for `userId`'s digest, with the room they go to. */
  async heldFor(userId: string): Promise<Array<{ alert: Alert; roomId: string }>> {
    const rows = (await this.db("alerts")
      .join("alert_deliveries", "alert_deliveries.alert_id", "alerts.id")
      .where("alert_deliveries.user_id", userId)
      .where("alert_deliveries.held", true)
      .whereNull("alert_deliveries.event_id")
      .whereIn("alerts.status", OPEN)
      .orderBy("alerts.number")
      .select("alerts.*", "alert_deliveries.room_id as delivery_room")) as Array<AlertRow & { delivery_room: string }>;
    return rows.map((r) => ({ alert: this.toAlert(r), roomId: r.delivery_room }));
  }

  /** A held alert went out in a digest message. */
  async released(alertId: string, userId: string, roomId: string, eventId: string, at: Date): Promise<void> {
    await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).update({ event_id: eventId, delivered_at: at, held: false });
    await this.trail(this.db, alertId, "delivered", at, userId, eventId);
    await this.readIfSeen(alertId, userId, roomId, eventId, at);
  }

  async setQuietHours(userId: string, q: { from: string; to: string; zone: string } | null): Promise<void> {
    if (!q) {
      await this.db("alert_quiet_hours").where({ user_id: userId }).delete();
      return;
    }
    await this.db("alert_quiet_hours").insert({ user_id: userId, ...q }).onConflict("user_id").merge(["from", "to", "zone"]);
  }

  async quietHoursOf(userId: string): Promise<{ from: string; to: string; zone: string } | null> {
    const row = (await this.db("alert_quiet_hours").where({ user_id: userId }).first("from", "to", "zone")) as { from: string; to: string; zone: string } | undefined;
    return row ?? null;
  }

  /** How many alerts reached `userId` since `since` (delivered messages and digests alike). */
  async deliveredCount(userId: string, since: Date): Promise<number> {
    const [row] = (await this.db("alert_deliveries").where({ user_id: userId }).where("delivered_at", ">=", since).count({ n: "*" })) as Array<{ n: number | string }>;
    return Number(row!.n);
  }

  async deliveries(alertId: string): Promise<AlertDelivery[]> {
    const rows = (await this.db("alert_deliveries").where({ alert_id: alertId })) as Array<{ user_id: string; room_id: string; event_id: string | null; delivered_at: Date | string | null; read_at: Date | string | null; via_page: boolean | number }>;
    return rows.map((r) => ({
      userId: r.user_id,
      roomId: r.room_id,
      eventId: r.event_id,
      deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at),
      readAt: r.read_at === null ? null : new Date(r.read_at),
      viaPage: Boolean(r.via_page),
    }));
  }

  /**
   * `userId`'s read receipt in `roomId` at `at`, on `eventId`: the alert message it names, and
   * every alert delivered there before it, are read now (a receipt marks everything up to its
   * event). The receipt is kept, so a delivery recorded a moment later is checked against it
   * (readIfSeen). Returns the alerts read, each once, with what the read-time metric needs.
   */
  async read(userId: string, roomId: string, at: Date, eventId: string): Promise<Array<{ id: string; priority: AlertPriority; firstAt: Date }>> {
    const existing = (await this.db("alert_receipts").where({ user_id: userId, room_id: roomId }).first("read_at")) as { read_at: Date | string } | undefined;
    if (!existing) await this.db("alert_receipts").insert({ user_id: userId, room_id: roomId, event_id: eventId, read_at: at }).onConflict(["user_id", "room_id"]).merge();
    else if (new Date(existing.read_at).getTime() <= at.getTime()) await this.db("alert_receipts").where({ user_id: userId, room_id: roomId }).update({ event_id: eventId, read_at: at });
    const rows = (await this.db("alert_deliveries")
      .join("alerts", "alerts.id", "alert_deliveries.alert_id")
      .where({ "alert_deliveries.user_id": userId, "alert_deliveries.room_id": roomId })
      .whereNotNull("alert_deliveries.event_id")
      .whereNull("alert_deliveries.read_at")
      .where((w) => w.where("alert_deliveries.event_id", eventId).orWhere("alert_deliveries.delivered_at", "<=", at))
      .select("alert_deliveries.alert_id", "alert_deliveries.event_id", "alerts.priority", "alerts.first_at")) as Array<{ alert_id: string; event_id: string; priority: AlertPriority; first_at: Date | string }>;
    const read: Array<{ id: string; priority: AlertPriority; firstAt: Date }> = [];
    for (const r of rows) if (await this.markRead(r.alert_id, userId, r.event_id, at)) read.push({ id: r.alert_id, priority: r.priority, firstAt: new Date(r.first_at) });
    return read;
  }

  /** Guarded: two receipts at once mark (and trail) a delivery read once. */
  private async markRead(alertId: string, userId: string, eventId: string, at: Date): Promise<boolean> {
    const n = await this.db("alert_deliveries").where({ alert_id: alertId, user_id: userId }).whereNull("read_at").update({ read_at: at });
    if (n) await this.trail(this.db, alertId, "read", at, userId, eventId);
    return n > 0;
  }

  /** A delivery just recorded: read already if the recipient's latest receipt in that room names its message or came after it. */
  private async readIfSeen(alertId: string, userId: string, roomId: string, eventId: string, deliveredAt: Date): Promise<void> {
    const r = (await this.db("alert_receipts").where({ user_id: userId, room_id: roomId }).first("event_id", "read_at")) as { event_id: string; read_at: Date | string } | undefined;
    if (r && (r.event_id === eventId || new Date(r.read_at).getTime() >= deliveredAt.getTime())) await this.markRead(alertId, userId, eventId, new Date(r.read_at));
  }

  /** A MedicationRequest or MedicationStatement's codes and whether it is active; its latest version replaces the last. */
  async setMedication(trx: Knex.Transaction, patientKey: string, medicationKey: string, codes: readonly string[], active: boolean, at: Date): Promise<void> {
    const row = { patient_key: patientKey, medication_key: medicationKey, sealed_codes: this.atRest.seal(JSON.stringify(codes)), active, updated_at: at };
    await trx("alert_medications").insert(row).onConflict(["patient_key", "medication_key"]).merge(["sealed_codes", "active", "updated_at"]);
  }

  /** The RxNorm codes of a patient's active medications. */
  async activeMedications(trx: Knex.Transaction, patientKey: string): Promise<string[]> {
    const rows = (await trx("alert_medications").where({ patient_key: patientKey, active: true }).select("sealed_codes")) as Array<{ sealed_codes: string }>;
    return [...new Set(rows.flatMap((r) => JSON.parse(this.atRest.open(r.sealed_codes)) as string[]))];
  }

  /** A patient's own limits for a lab rule (null: none), read in the message's transaction. */
  async patientLimits(trx: Knex.Transaction | Db, patientKey: string, ruleId: string): Promise<{ limits: PatientSettings; setBy: string; setAt: Date } | null> {
    const row = (await trx("alert_patient_limits").where({ patient_key: patientKey, rule_id: ruleId }).first("limits", "set_by", "set_at")) as { limits: string; set_by: string; set_at: Date | string } | undefined;
    return row ? { limits: JSON.parse(row.limits) as PatientSettings, setBy: row.set_by, setAt: new Date(row.set_at) } : null;
  }

  async setPatientLimits(patient: { id: string; authority: string }, ruleId: string, limits: PatientSettings | null, by: string, at: Date): Promise<void> {
    const key = this.patientKey(patient);
    if (!limits) {
      await this.db("alert_patient_limits").where({ patient_key: key, rule_id: ruleId }).delete();
      return;
    }
    await this.db("alert_patient_limits")
      .insert({ patient_key: key, rule_id: ruleId, sealed_patient: this.atRest.seal(JSON.stringify(patient)), limits: JSON.stringify(limits), set_by: by, set_at: at })
      .onConflict(["patient_key", "rule_id"])
      .merge(["limits", "set_by", "set_at"]);
  }

  /** Every patient's own limits, with the patient opened: for a coordinator's list. */
  async allPatientLimits(): Promise<Array<{ patient: { id: string; authority: string }; ruleId: string; limits: PatientSettings; setBy: string; setAt: Date }>> {
    const rows = (await this.db("alert_patient_limits").orderBy("set_at")) as Array<{ sealed_patient: string; rule_id: string; limits: string; set_by: string; set_at: Date | string }>;
    return rows.map((r) => ({ patient: JSON.parse(this.atRest.open(r.sealed_patient)) as { id: string; authority: string }, ruleId: r.rule_id, limits: JSON.parse(r.limits) as PatientSettings, setBy: r.set_by, setAt: new Date(r.set_at) }));
  }

  orderKey(identity: string): string {
    return this.atRest.digest(`order:${identity}`);
  }

  /**
   * An ordered test: recorded once per order (a later version may close it). Returns the order
   * and whether it was new, so its overdue timers are armed once.
   */
  async setOrder(
    trx: Knex.Transaction,
    o: { orderKey: string; patient: { id: string; authority: string }; loinc: string; unit: string | null; orderedAt: Date; closed: boolean; source: string; inboundId: number },
    at: Date,
  ): Promise<{ order: AlertOrder; created: boolean }> {
    const existing = (await trx("alert_orders").where({ order_key: o.orderKey }).first()) as OrderRow | undefined;
    if (existing) {
      if (o.closed && existing.closed_at === null) await trx("alert_orders").where({ id: existing.id }).update({ closed_at: at });
      return { order: this.toOrder((await trx("alert_orders").where({ id: existing.id }).first()) as OrderRow), created: false };
    }
    const [inserted] = (await trx("alert_orders")
      .insert({
        order_key: o.orderKey,
        patient_key: this.patientKey(o.patient),
        sealed_patient: this.atRest.seal(JSON.stringify(o.patient)),
        loinc: o.loinc,
        unit: o.unit,
        ordered_at: o.orderedAt,
        closed_at: o.closed ? at : null,
        source: o.source,
        inbound_id: o.inboundId,
      })
      .returning("id")) as Array<{ id: number | string } | number>;
    const id = typeof inserted === "object" ? Number(inserted!.id) : Number(inserted);
    return { order: this.toOrder((await trx("alert_orders").where({ id }).first()) as OrderRow), created: true };
  }

  /** A result for `loinc` came for the patient: their open orders of it taken before then are resulted. */
  async ordersResulted(trx: Knex.Transaction, patientKey: string, loinc: string, at: Date): Promise<number> {
    return Number(await trx("alert_orders").where({ patient_key: patientKey, loinc }).whereNull("resulted_at").whereNull("closed_at").where("ordered_at", "<=", at).update({ resulted_at: at }));
  }

  async order(trx: Knex.Transaction | Db, id: number): Promise<AlertOrder | null> {
    const row = (await trx("alert_orders").where({ id }).first()) as OrderRow | undefined;
    return row ? this.toOrder(row) : null;
  }

  private toOrder(r: OrderRow): AlertOrder {
    return {
      id: Number(r.id),
      patientKey: r.patient_key,
      patient: JSON.parse(this.atRest.open(r.sealed_patient)) as { id: string; authority: string },
      loinc: r.loinc,
      unit: r.unit,
      orderedAt: new Date(r.ordered_at),
      resultedAt: r.resulted_at === null ? null : new Date(r.resulted_at),
      closedAt: r.closed_at === null ? null : new Date(r.closed_at),
      source: r.source,
      inboundId: Number(r.inbound_id),
    };
  }

  /** Open alerts with no delivered message yet (nobody to send to, or a failure midway). */
  async undelivered(): Promise<Alert[]> {
    const rows = (await this.db("alerts")
      .where({ status: "open" })
      .whereNull("page_number")
      .whereNotExists((q) => q.select(1).from("alert_deliveries").whereRaw("alert_deliveries.alert_id = alerts.id").where((w) => w.whereNotNull("event_id").orWhere("held", true)))
      .orderBy("number")) as AlertRow[];
    return rows.map((r) => this.toAlert(r));
  }

  /** Open → acknowledged, once: false when it was no longer open. `ref` says how (e.g. the page and SMS). */
  async acknowledged(id: string, by: string, at: Date, ref: string | null = null): Promise<boolean> {
    const n = await this.db("alerts").where({ id, status: "open" }).update({ status: "acknowledged", acknowledged_by: by, acknowledged_at: at, last_at: at });
    if (n) await this.trail(this.db, id, "acknowledged", at, by, ref);
    return n > 0;
  }

  /** Marks an alert a false positive (and closes it if open); false when it already was one. */
  async falsePositive(id: string, by: string, at: Date, reasonEventId: string | null): Promise<boolean> {
    const n = await this.db("alerts").where({ id }).whereNull("false_positive_at").update({ false_positive_by: by, false_positive_at: at, last_at: at });
    if (!n) return false;
    await this.db("alerts").where({ id }).whereIn("status", OPEN).update({ status: "resolved", closed_at: at });
    await this.trail(this.db, id, "false_positive", at, by, reasonEventId);
    return true;
  }

  /** What the per-rule report reads: each alert's rule, outcome and times, and its value (opened here, never sent as is). */
  async outcomes(since: Date): Promise<Array<{ ruleId: string; priority: string; band: string; status: string; falsePositive: boolean; paged: boolean; ackMs: number | null; value: number | null }>> {
    const rows = (await this.db("alerts").where("first_at", ">=", since).orderBy("number")) as Array<AlertRow & { false_positive_at: Date | string | null }>;
    return rows.map((r) => {
      const a = this.toAlert(r);
      const v = Number(a.detail.value);
      return {
        ruleId: a.ruleId,
        priority: a.priority,
        band: a.band,
        status: a.status,
        falsePositive: r.false_positive_at !== null,
        paged: a.pageNumber !== null,
        ackMs: a.acknowledgedAt ? a.acknowledgedAt.getTime() - a.firstAt.getTime() : null,
        value: a.detail.value.trim() !== "" && Number.isFinite(v) ? v : null,
      };
    });
  }

  /** Snoozes an open alert until `until`; false when it is no longer open. */
  async snoozed(id: string, by: string, until: Date, at: Date): Promise<boolean> {
    const n = await this.db("alerts").where({ id, status: "open" }).update({ snoozed_until: until });
    if (n) await this.trail(this.db, id, "snoozed", at, by, `until:${until.toISOString()}`);
    return n > 0;
  }

  /** An urgent alert nobody acknowledged was escalated as a page; false when it already was. */
  async escalated(id: string, pageNumber: number, service: string, at: Date): Promise<boolean> {
    const n = await this.db("alerts").where({ id, status: "open" }).whereNull("page_number").update({ page_number: pageNumber, snoozed_until: null });
    if (n) await this.trail(this.db, id, "escalated", at, null, `page:${pageNumber} service:${service}`);
    return n > 0;
  }

  /** The page a critical alert was raised as; its delivery is then the paging engine's. */
  /**
   * A critical alert was raised as a page: its targets were told by the page's request message
   * (`where`), which is their delivery, so their reads, the alert's changes and their alarm load
   * count as for any other.
   */
  async paged(id: string, pageNumber: number, service: string, targets: readonly string[], at: Date, where: { roomId: string | null; eventId: string | null } = { roomId: null, eventId: null }): Promise<void> {
    const n = await this.db("alerts").where({ id }).whereNull("page_number").update({ page_number: pageNumber });
    if (!n) return;
    await this.trail(this.db, id, "routed", at, null, `page:${pageNumber} service:${service}`);
    for (const t of targets) {
      if (where.roomId && where.eventId) {
        await this.db("alert_deliveries")
          .insert({ alert_id: id, user_id: t, room_id: where.roomId, event_id: where.eventId, delivered_at: at, via_page: true })
          .onConflict(["alert_id", "user_id"])
          .ignore();
      }
      await this.trail(this.db, id, "delivered", at, t, `page:${pageNumber}`);
      if (where.roomId && where.eventId) await this.readIfSeen(id, t, where.roomId, where.eventId, at);
    }
  }

  async openDeliveredTo(userId: string): Promise<Alert[]> {
    const rows = (await this.db("alerts")
      .whereIn("status", OPEN)
      .whereExists((q) => q.select(1).from("alert_deliveries").whereRaw("alert_deliveries.alert_id = alerts.id").where("alert_deliveries.user_id", userId))
      .orderBy("number")) as AlertRow[];
    return rows.map((r) => this.toAlert(r));
  }

  /** Alerts delivered (or held) for `userId`: open ones, and those closed since `closedSince`; newest first. */
  async forRecipient(userId: string, closedSince: Date): Promise<Array<{ alert: Alert; delivery: AlertDelivery }>> {
    const rows = (await this.db("alerts")
      .join("alert_deliveries", "alert_deliveries.alert_id", "alerts.id")
      .where("alert_deliveries.user_id", userId)
      .where((w) => w.whereIn("alerts.status", OPEN).orWhere("alerts.closed_at", ">=", closedSince).orWhere("alerts.acknowledged_at", ">=", closedSince))
      .orderBy("alerts.number", "desc")
      .limit(200)
      .select("alerts.*", "alert_deliveries.room_id as d_room", "alert_deliveries.event_id as d_event", "alert_deliveries.delivered_at as d_at", "alert_deliveries.read_at as d_read", "alert_deliveries.via_page as d_page")) as Array<
      AlertRow & { d_room: string; d_event: string | null; d_at: Date | string | null; d_read: Date | string | null; d_page: boolean | number }
    >;
    return rows.map((r) => ({
      alert: this.toAlert(r),
      delivery: { userId, roomId: r.d_room, eventId: r.d_event, deliveredAt: r.d_at === null ? null : new Date(r.d_at), readAt: r.d_read === null ? null : new Date(r.d_read), viaPage: Boolean(r.d_page) },
    }));
  }

  async all(): Promise<Alert[]> {
    const rows = (await this.db("alerts").orderBy("number")) as AlertRow[];
    return rows.map((r) => this.toAlert(r));
  }
}

interface OrderRow {
  id: number | string;
  order_key: string;
  patient_key: string;
  sealed_patient: string;
  loinc: string;
  unit: string | null;
  ordered_at: Date | string;
  resulted_at: Date | string | null;
  closed_at: Date | string | null;
  source: string;
  inbound_id: number | string;
}
