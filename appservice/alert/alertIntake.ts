import type { Knex } from "knex";
import type { Logger } from "../logging.js";
import type { AlertPriority } from "../shared/events/index.js";
import { withPatientLimits, type AlertRule, type InteractionRule, type LabRule, type News2Rule, type OverdueRule } from "./alertRules.js";
import type { Alert, AlertDetail, AlertStore } from "./alertStore.js";
import { readInboundMessage, type LabReport, type LabResult } from "./hl7/inboundMessage.js";
import type { InboundStore, StoredInbound } from "./inboundStore.js";
import { labValueOfObservation, medicationOf, orderOf, type Observation } from "./fhir/fhirResources.js";
import { evaluateInteractions, evaluateLab, evaluateNews2, labRuleMatches, NEWS2_LOINC, overdueOrders, type LabValue } from "./ruleEvaluation.js";

/**
 * Timer: a change to an alert (repeated, corrected, cleared) to be told where it was delivered;
 * armed in the message's transaction, so a crash after it commits still tells it.
 */
export const TIMER_ALERT_TELL = "alert.tell";
const TELL_GRACE_MS = 30_000;

/** Timer: an ordered test's time to a result under one overdue rule (ref: the order, step: the rule). */
export const TIMER_ALERT_OVERDUE = "alert.overdue";

/** The rule id of alerts the lab's own critical flags raise for a test no rule covers ("lab-flags:<code>"). */
export const LAB_FLAGS_RULE = "lab-flags";

/** Where a finding came from: the message (or, for an overdue order, the message that ordered it). */
type Origin = Pick<StoredInbound, "id" | "source" | "receivedAt">;

/** A rule scoped to units applies on those; one without a scope, everywhere. The scoped one wins. */
function ruleOn<R extends AlertRule>(rules: readonly R[], unit: string | null): R | undefined {
  return rules.find((r) => r.units_of_care && unit && r.units_of_care.includes(unit)) ?? rules.find((r) => !r.units_of_care);
}

/** What a processed message did to the alerts; routing and delivery act on these. */
export type AlertEffect = { kind: "raised" | "repeated" | "corrected" | "cleared"; alert: Alert };

const LOINC_SYSTEMS = new Set(["LN", "LOINC", "http://loinc.org"]);

/** A change's timer step, the same key the room message is sent under: told twice, it is sent once. */
export function tellStep(e: AlertEffect): string {
  return `${e.kind}:${e.alert.lastAt.getTime()}`;
}

/** OBX → what the rules read. */
export function labValueOf(r: LabResult): LabValue {
  const isLoinc = LOINC_SYSTEMS.has(r.codeSystem.toUpperCase()) || LOINC_SYSTEMS.has(r.codeSystem);
  return {
    loinc: isLoinc ? r.code : null,
    localCode: isLoinc ? null : r.code,
    numeric: r.numeric,
    comparator: r.comparator,
    units: r.units,
    unitsText: r.unitsText,
    flags: r.flags,
    status: r.status === "corrected" ? "corrected" : r.status,
  };
}

/** What the alert shows of an Observation, in the shape of an OBX. */
function fhirResult(o: Observation, v: LabValue): Omit<LabResult, "identity"> {
  const q = (o as { valueQuantity?: { value?: number; unit?: string } }).valueQuantity;
  const text = (o as { valueString?: string }).valueString;
  const effective = (o as { effectiveDateTime?: string }).effectiveDateTime;
  return {
    setId: 1,
    code: v.loinc ?? v.localCode ?? "",
    codeSystem: v.loinc ? "LN" : "",
    display: "",
    valueType: q ? "NM" : "ST",
    value: q?.value !== undefined ? String(q.value) : (text ?? ""),
    numeric: v.numeric,
    comparator: v.comparator ?? null,
    units: v.units,
    unitsText: "",
    referenceRange: "",
    flags: v.flags as LabResult["flags"],
    status: v.status,
    observedAt: effective && !Number.isNaN(Date.parse(effective)) ? new Date(effective).toISOString() : null,
  };
}

/** The lab rule for this value on this unit: one scoped to the unit wins over one for every unit. */
export function labRuleFor(rules: readonly AlertRule[], v: LabValue, unit: string | null): LabRule | null {
  const labs = rules.filter((r): r is LabRule => r.kind === "lab" && labRuleMatches(r, v));
  const scoped = labs.find((r) => r.units_of_care !== undefined && unit !== null && r.units_of_care.includes(unit));
  return scoped ?? labs.find((r) => r.units_of_care === undefined) ?? null;
}

/**
 * Turns recorded inbound messages into alerts, one message per transaction: its ADT updates the
 * patient's place, each of its results is evaluated under the rules, and the alerts it raises,
 * repeats, corrects or clears commit together with the message being marked processed. A crash
 * midway redoes the message whole, never half of it.
 */
export class AlertIntake {
  constructor(
    private readonly deps: {
      inbound: InboundStore;
      alerts: AlertStore;
      rules: () => readonly AlertRule[];
      /** Durable timers, armed in the message's transaction, for the overdue-result rules. */
      timers?: { schedule(kind: string, ref: string, step: string, dueAt: Date, trx: Knex.Transaction): Promise<void>; wake(): void };
      log: Logger;
    },
  ) {}

  /** Processes what is waiting, oldest first; returns what changed. */
  async processPending(limit = 100): Promise<AlertEffect[]> {
    const effects: AlertEffect[] = [];
    for (const m of await this.deps.inbound.unprocessed(limit)) {
      effects.push(...(await this.processOne(m)));
    }
    return effects;
  }

  async processOne(m: StoredInbound): Promise<AlertEffect[]> {
    const db = this.deps.alerts.db;
    try {
      return await db.transaction(async (trx) => {
        const effects = m.kind === "hl7v2" ? await this.hl7(trx, m) : await this.fhir(trx, m);
        await trx("alert_inbound").where({ id: m.id }).whereNull("processed_at").update({ processed_at: new Date(), sealed_payload: null });
        // A new alert is found again by redelivery; a change is not, so it is kept as a timer.
        // Due a little later: told at once (the usual case), it is cancelled before it fires.
        for (const e of effects) if (e.kind !== "raised") await this.deps.timers?.schedule(TIMER_ALERT_TELL, e.alert.id, tellStep(e), new Date(Date.now() + TELL_GRACE_MS), trx);
        return effects;
      });
    } catch (err) {
      // Accepted (ACKed) and stored, so never dropped: it stays sealed and is tried again, up to
      // a limit past which it waits for a person (InboundStore.stuck) instead of blocking the rest.
      const attempts = await this.deps.inbound.failed(m.id);
      this.deps.log.error({ inbound: m.id, source: m.source, attempts, err: err instanceof Error ? err.name : "error" }, "alert intake: message could not be processed");
      return [];
    }
  }

  private async hl7(trx: Knex.Transaction, m: StoredInbound): Promise<AlertEffect[]> {
    const msg = readInboundMessage(m.payload);
    const { alerts } = this.deps;
    if (msg.kind === "adt") {
      await alerts.setPatient(trx, msg.patient, { unit: msg.unit, attending: msg.attending, discharged: msg.trigger === "A03" }, m.receivedAt);
      return [];
    }
    return this.results(trx, m, msg);
  }

  /** A FHIR Observation is one result; medications and orders are kept for the interaction and overdue rules. */
  private async fhir(trx: Knex.Transaction, m: StoredInbound): Promise<AlertEffect[]> {
    const resource = JSON.parse(m.payload) as { resourceType: string; id?: string; status?: string };
    if (resource.resourceType === "MedicationRequest" || resource.resourceType === "MedicationStatement") return this.medication(trx, m, resource);
    if (resource.resourceType === "ServiceRequest") return this.order(trx, m, resource);
    if (resource.resourceType !== "Observation") return [];
    const o = resource as Observation;
    const subject = o.subject?.reference ?? "";
    if (!subject) return [];
    const value = labValueOfObservation(o);
    const identity = o.id ? `Observation/${o.id}` : m.key;
    // The subject is a FHIR reference of this source's server: its own namespace of patients.
    const report: LabReport = {
      kind: "results",
      header: { controlId: m.key, sendingApplication: m.source, sendingFacility: "", version: "R4" },
      patient: { id: subject, authority: `fhir:${m.source}` },
      unit: null,
      attending: null,
      orders: [],
      results: [{ ...fhirResult(o, value), identity }],
    };
    return this.results(trx, m, report, [value]);
  }

  private async results(trx: Knex.Transaction, m: StoredInbound, report: LabReport, values = report.results.map(labValueOf)): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    const patientKey = alerts.patientKey(report.patient);
    const known = await alerts.patientPlace(trx, patientKey);
    // ADT is the authority on where a patient is; a result's own PV1 serves until ADT has spoken.
    if (!known && (report.unit || report.attending)) await alerts.setPatient(trx, report.patient, { unit: report.unit, attending: report.attending }, m.receivedAt);
    const unit = known?.unit ?? report.unit;
    const effects: AlertEffect[] = [];
    for (const [i, r] of report.results.entries()) {
      const value = values[i]!;
      if (value.loinc && value.status !== "cancelled" && value.status !== "pending") effects.push(...(await this.resulted(trx, m, patientKey, value.loinc, r.observedAt ? new Date(r.observedAt) : m.receivedAt)));
      const unitRule = labRuleFor(this.deps.rules(), value, unit);
      if (!unitRule) {
        effects.push(...(await this.flaggedWithoutRule(trx, m, report, r, value, patientKey, unit)));
        continue;
      }
      // The patient's own limits, where a clinician set them, stand in for the rule's.
      const own = await alerts.patientLimits(trx, patientKey, unitRule.id);
      const rule = own && !("scale" in own.limits) ? withPatientLimits(unitRule, own.limits).rule : unitRule;
      const found = evaluateLab(rule, value);
      if (found === "hold" || found === "ignore") continue;
      const finding = rule !== unitRule && found.priority !== null ? { ...found, why: `${found.why} (this patient's own limits)` } : found;
      // A correction finds the alert of the same result of the same patient from the same source.
      const resultKey = r.identity.startsWith("|") ? null : alerts.resultKey(`${m.source}|${patientKey}|${r.identity}`);
      const detail = { why: finding.why, test: rule.name, value: r.value, units: r.units, patient: report.patient, unit, observedAt: r.observedAt };
      // A preliminary normal value does not clear a final one's alert: the final result will.
      if (finding.priority === null && value.status === "preliminary") continue;
      effects.push(...(await this.apply(trx, m, { ruleId: rule.id, dedupMinutes: rule.dedup_minutes, patientKey, finding, resultKey, corrected: value.status === "corrected", detail })));
    }
    effects.push(...(await this.news2(trx, m, report, values, patientKey, unit)));
    return effects;
  }

  /**
   * A test no rule covers is still the lab's to flag: a critical flag (HH, LL, AA) is a critical
   * alert under the lab's judgement, one per patient and test, and the test's next unflagged
   * final result clears it. Nothing else about an unruled test alerts.
   */
  private async flaggedWithoutRule(trx: Knex.Transaction, m: StoredInbound, report: LabReport, r: LabResult, value: LabValue, patientKey: string, unit: string | null): Promise<AlertEffect[]> {
    if (value.status === "cancelled" || value.status === "pending" || value.status === "preliminary") return [];
    const test = (value.loinc ?? value.localCode ?? "").slice(0, 40);
    if (!test) return [];
    const ruleId = `${LAB_FLAGS_RULE}:${test}`;
    const critical = value.flags.filter((f) => f === "HH" || f === "LL" || f === "AA");
    if (!critical.length && value.flags.some((f) => f !== "N")) return []; // abnormal but not critical: no rule asked for it
    const name = r.display || test;
    const finding = critical.length ? { priority: "critical" as const, band: "flagged-critical", why: `${name} ${r.value}${r.units ? ` ${r.units}` : ""}: flagged critical by the lab (${critical.join(", ")}); Rounds has no rule for this test` } : { priority: null, band: "flagged-critical", why: `${name}: no longer flagged` };
    const resultKey = r.identity.startsWith("|") ? null : this.deps.alerts.resultKey(`${m.source}|${patientKey}|${r.identity}`);
    const detail = { why: finding.why, test: name, value: r.value, units: r.units, patient: report.patient, unit, observedAt: r.observedAt };
    return this.apply(trx, m, { ruleId, dedupMinutes: 60, patientKey, finding, resultKey, corrected: value.status === "corrected", detail });
  }

  /**
   * NEWS2 after each message carrying a vital sign: the latest of each parameter is kept
   * (sealed), and the score from all of them decides, under the patient's unit's NEWS2 rule.
   */
  private async news2(trx: Knex.Transaction, m: StoredInbound, report: LabReport, values: LabValue[], patientKey: string, unit: string | null): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    const vitalCodes = new Set(Object.values(NEWS2_LOINC).flat());
    const vitals = report.results.map((r, i) => ({ r, v: values[i]! })).filter(({ v }) => v.loinc !== null && vitalCodes.has(v.loinc) && v.status !== "cancelled");
    if (!vitals.length) return [];
    for (const { r, v } of vitals) await alerts.setVital(trx, patientKey, v.loinc!, v.numeric ?? r.value, r.observedAt ? new Date(r.observedAt) : m.receivedAt);
    const rule = ruleOn(this.deps.rules().filter((x): x is News2Rule => x.kind === "news2"), unit);
    if (!rule) return [];
    // SpO2 scale 2 where a clinician chose it for this patient (hypercapnic respiratory failure).
    const own = await alerts.patientLimits(trx, patientKey, rule.id);
    const scale = own && "scale" in own.limits ? own.limits.scale : 1;
    const scored = evaluateNews2(rule, await alerts.vitalsOf(trx, patientKey), m.receivedAt, scale);
    if ("missing" in scored) return [];
    const finding = { priority: scored.priority, band: `news2-${scored.score.risk}`, why: scored.why };
    const detail = { why: scored.why, test: rule.name, value: String(scored.score.total), units: "", patient: report.patient, unit, observedAt: m.receivedAt.toISOString() };
    return this.apply(trx, m, { ruleId: rule.id, dedupMinutes: rule.dedup_minutes, patientKey, finding, resultKey: null, corrected: false, detail });
  }

  /**
   * A MedicationRequest or MedicationStatement: the patient's active medications are checked
   * against the interaction rule of their unit. A new interacting pair raises an alert; when no
   * pair is left (a drug stopped), the open alert clears.
   */
  private async medication(trx: Knex.Transaction, m: StoredInbound, resource: { resourceType: string; id?: string; status?: string }): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    const fact = medicationOf(resource);
    if (!fact.subject) return [];
    const patient = { id: fact.subject, authority: `fhir:${m.source}` };
    const patientKey = alerts.patientKey(patient);
    const identity = resource.id ? `${resource.resourceType}/${resource.id}` : m.key;
    await alerts.setMedication(trx, patientKey, alerts.resultKey(`${m.source}|${identity}`), fact.rxnorm, fact.active, m.receivedAt);
    const unit = (await alerts.patientPlace(trx, patientKey))?.unit ?? null;
    const rule = ruleOn(this.deps.rules().filter((r): r is InteractionRule => r.kind === "interaction"), unit);
    if (!rule) return [];
    const hit = evaluateInteractions(rule, await alerts.activeMedications(trx, patientKey));
    // Another update of a list that still interacts the same way is not news.
    if (hit && (await alerts.openFor(trx, patientKey, rule.id)).some((a) => a.detail.why === hit.why)) return [];
    const detail = { why: hit?.why ?? `${rule.name}: no interacting pair is active now`, test: rule.name, value: "", units: "", patient, unit, observedAt: m.receivedAt.toISOString() };
    return this.apply(trx, m, { ruleId: rule.id, dedupMinutes: 24 * 60, patientKey, finding: { priority: hit?.priority ?? null, band: "interaction" }, resultKey: null, corrected: false, detail });
  }

  /** A ServiceRequest: an ordered test is recorded, and each overdue rule for its code arms a timer for its deadline. */
  private async order(trx: Knex.Transaction, m: StoredInbound, resource: { resourceType: string; id?: string; status?: string }): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    const fact = orderOf(resource);
    if (!fact.subject || !fact.loinc || fact.state === "draft") return [];
    const patient = { id: fact.subject, authority: `fhir:${m.source}` };
    const patientKey = alerts.patientKey(patient);
    const unit = (await alerts.patientPlace(trx, patientKey))?.unit ?? null;
    const identity = resource.id ? `ServiceRequest/${resource.id}` : m.key;
    const orderedAt = fact.orderedAt ? new Date(fact.orderedAt) : m.receivedAt;
    const { order, created } = await alerts.setOrder(
      trx,
      { orderKey: alerts.orderKey(`${m.source}|${identity}`), patient, loinc: fact.loinc, unit, orderedAt, closed: fact.state === "done", source: m.source, inboundId: m.id },
      m.receivedAt,
    );
    if (!created || fact.state === "done") return fact.state === "done" ? this.gapClosed(trx, m, order.patientKey, order.loinc) : [];
    const rules = this.deps.rules().filter((r): r is OverdueRule => r.kind === "overdue" && r.loinc === fact.loinc && (!r.units_of_care || (unit !== null && r.units_of_care.includes(unit))));
    for (const rule of rules) await this.deps.timers?.schedule(TIMER_ALERT_OVERDUE, String(order.id), rule.id, new Date(orderedAt.getTime() + rule.hours * 3_600_000), trx);
    if (rules.length) this.deps.timers?.wake();
    return [];
  }

  /** A result for `loinc` arrived: the patient's orders of it are resulted, and their overdue alerts clear. */
  private async resulted(trx: Knex.Transaction, m: Origin, patientKey: string, loinc: string, at: Date): Promise<AlertEffect[]> {
    if (!(await this.deps.alerts.ordersResulted(trx, patientKey, loinc, at))) return [];
    return this.gapClosed(trx, m, patientKey, loinc);
  }

  private async gapClosed(trx: Knex.Transaction, m: Origin, patientKey: string, loinc: string): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    const out: AlertEffect[] = [];
    for (const rule of this.deps.rules().filter((r): r is OverdueRule => r.kind === "overdue" && r.loinc === loinc)) {
      for (const open of await alerts.openFor(trx, patientKey, rule.id)) {
        if (await alerts.cleared(trx, open.id, m.receivedAt, m.id)) out.push({ kind: "cleared", alert: (await alerts.get(trx, open.id))! });
      }
    }
    return out;
  }

  /** Timer: an order's deadline under one overdue rule passed. Still without a result, it is a care-gap alert (once). */
  async overdue(orderId: number, ruleId: string, now = new Date()): Promise<AlertEffect[]> {
    const { alerts } = this.deps;
    return alerts.db.transaction(async (trx) => {
      const order = await alerts.order(trx, orderId);
      const rule = this.deps.rules().find((r): r is OverdueRule => r.kind === "overdue" && r.id === ruleId);
      if (!order || !rule || order.resultedAt || order.closedAt) return [];
      const [gap] = overdueOrders(rule, [{ loinc: order.loinc, orderedAt: order.orderedAt, resulted: false }], now);
      if (!gap) return [];
      const resultKey = alerts.resultKey(`overdue|${order.id}|${rule.id}`);
      if (await alerts.byResult(trx, resultKey)) return [];
      const detail = { why: gap.why, test: rule.name, value: "", units: "", patient: order.patient, unit: order.unit, observedAt: now.toISOString() };
      return this.apply(trx, { id: order.inboundId, source: order.source, receivedAt: now }, { ruleId: rule.id, dedupMinutes: 0, patientKey: order.patientKey, finding: { priority: rule.priority, band: "overdue" }, resultKey, corrected: false, detail });
    });
  }

  /** One finding's effect: a correction updates its alert, normal clears, a repeat counts, else a new alert. */
  private async apply(
    trx: Knex.Transaction,
    m: Origin,
    f: { ruleId: string; dedupMinutes: number; patientKey: string; finding: { priority: AlertPriority | null; band: string }; resultKey: string | null; corrected: boolean; detail: AlertDetail },
  ): Promise<AlertEffect[]> {
    const { alerts, log } = this.deps;
    const at = m.receivedAt;
    const { finding, detail, patientKey } = f;
    if (f.corrected && f.resultKey) {
      const earlier = await alerts.byResult(trx, f.resultKey);
      if (earlier) {
        if (finding.priority === null) return (await alerts.cleared(trx, earlier.id, at, m.id)) ? [{ kind: "cleared", alert: (await alerts.get(trx, earlier.id))! }] : [];
        await alerts.corrected(trx, earlier.id, { priority: finding.priority, band: finding.band, detail }, at, m.id);
        return [{ kind: "corrected", alert: (await alerts.get(trx, earlier.id))! }];
      }
    }
    if (finding.priority === null) {
      // A normal follow-up clears what this rule raised for this patient.
      const out: AlertEffect[] = [];
      for (const open of await alerts.openFor(trx, patientKey, f.ruleId)) {
        // Only a later result clears: one taken before the alert's, arriving late, does not.
        if (open.detail.observedAt && detail.observedAt && Date.parse(detail.observedAt) < Date.parse(open.detail.observedAt)) continue;
        if (await alerts.cleared(trx, open.id, at, m.id)) out.push({ kind: "cleared", alert: (await alerts.get(trx, open.id))! });
      }
      return out;
    }
    const dedupKey = `${patientKey}|${f.ruleId}|${finding.band}`;
    const same = await alerts.openForDedup(trx, dedupKey, new Date(at.getTime() - f.dedupMinutes * 60_000));
    if (same) {
      await alerts.repeated(trx, same.id, detail, at, m.id);
      return [{ kind: "repeated", alert: (await alerts.get(trx, same.id))! }];
    }
    const alert = await alerts.raise(trx, { ruleId: f.ruleId, priority: finding.priority, patientKey, band: finding.band, dedupKey, resultKey: f.resultKey, detail, source: m.source, inboundId: m.id }, at);
    log.info({ alert: alert.id, number: alert.number, rule: f.ruleId, priority: alert.priority, source: m.source }, "alert raised");
    return [{ kind: "raised", alert }];
  }
}
