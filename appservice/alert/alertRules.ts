import { z } from "zod";
import { ALERT_PRIORITIES, matrixUserId, type AlertPriority } from "../shared/events/index.js";
import { isValidTimeZone } from "../oncall/schedule.js";
import { readYamlFile } from "../shared/yamlFile.js";
import { HH_MM } from "./quietHours.js";

/**
 * The alert rules a coordinator loads from a file (CLI or admin API, like schedules): lab value
 * thresholds per LOINC code, the NEWS2 deterioration score, medication interactions and overdue
 * results. The file holds no patient data; a rule for one patient is an override kept sealed in
 * the database, not a line here.
 */

export { ALERT_PRIORITIES, type AlertPriority };

const ruleId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be lower-case letters, digits, '-' or '_' (at most 64)");
const priority = z.enum(ALERT_PRIORITIES, { message: "must be critical, urgent or informational" });
const loinc = z.string().regex(/^\d{1,7}-\d$/, "must be a LOINC code such as 2823-3");
const unitScope = z.array(z.string().min(1)).min(1).optional();

/** A value band: fires below `below` or above `above` (strictly). */
const Limits = z
  .strictObject({ below: z.number().optional(), above: z.number().optional() })
  .refine((l) => l.below !== undefined || l.above !== undefined, "give below, above or both");

const LabRuleSchema = z.strictObject({
  id: ruleId,
  kind: z.literal("lab"),
  /** What the alert calls it, e.g. "Potassium". Not PHI. */
  name: z.string().min(1).max(80),
  loinc,
  /** OBX-3 codes of labs that do not send LOINC for this test. */
  local_codes: z.array(z.string().min(1)).default([]),
  /** The units the thresholds are in (UCUM as the lab writes them, e.g. mmol/L). */
  units: z.string().min(1),
  critical: Limits.optional(),
  urgent: Limits.optional(),
  informational: Limits.optional(),
  /** A preliminary result: alert on it, hold it until the final one, or ignore it. */
  preliminary: z.enum(["alert", "hold", "ignore"]).default("alert"),
  /** A result in other units cannot be compared: it is raised at this priority for a human to read. */
  units_mismatch: priority.default("urgent"),
  /** Units (ADT's point of care) this rule applies to; absent: every unit. */
  units_of_care: unitScope,
  /** The same patient, test and band within this window is one alert, with a repeat count. */
  dedup_minutes: z.number().int().min(0).max(24 * 60).default(60),
});

const News2RuleSchema = z.strictObject({
  id: ruleId,
  kind: z.literal("news2"),
  name: z.string().min(1).max(80).default("NEWS2"),
  /** The RCP's triggers by default: 7+ emergency, 5–6 urgent, a single parameter scoring 3 urgent. */
  // A rule may tighten the RCP's triggers (a lower score), never loosen them.
  critical_at: z.number().int().min(1).max(7, "must be at most 7, the RCP's emergency trigger").default(7),
  urgent_at: z.number().int().min(1).max(5, "must be at most 5, the RCP's urgent trigger").default(5),
  single_parameter_3: priority.default("urgent"),
  informational_at: z.number().int().min(1).max(20).optional(),
  /** Vital signs older than this are not combined into a score. */
  max_age_minutes: z.number().int().min(5).max(24 * 60).default(240),
  units_of_care: unitScope,
  dedup_minutes: z.number().int().min(0).max(24 * 60).default(60),
});

const Medication = z.strictObject({
  /** An RxNorm ingredient code, as FHIR MedicationRequest/MedicationStatement code them. */
  rxnorm: z.string().regex(/^\d{1,10}$/, "must be an RxNorm code (digits)"),
  name: z.string().min(1).max(80),
});

const InteractionRuleSchema = z.strictObject({
  id: ruleId,
  kind: z.literal("interaction"),
  name: z.string().min(1).max(80),
  pairs: z.array(z.strictObject({ a: Medication, b: Medication })).min(1),
  priority: priority.default("urgent"),
  /** What the interaction risks, shown in the (encrypted) alert: e.g. "bleeding". */
  risk: z.string().min(1).max(200),
  units_of_care: unitScope,
});

const OverdueRuleSchema = z.strictObject({
  id: ruleId,
  kind: z.literal("overdue"),
  name: z.string().min(1).max(80),
  loinc,
  hours: z.number().positive().max(24 * 14),
  priority: priority.default("informational"),
  units_of_care: unitScope,
});

/**
 * Who is told. An alert goes to the patient's attending (ADT's PV1-7, mapped to a Matrix user
 * here), else to whoever is on call first for the patient's unit's service, else the default
 * service's. Staff ids and units are not patient data.
 */
const QuietSchema = z.strictObject({
  from: z.string().regex(HH_MM, "must be a time such as 22:00"),
  to: z.string().regex(HH_MM, "must be a time such as 07:00"),
  zone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/London"),
});

const RoutingSchema = z.strictObject({
  units: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Per unit of care: informational alerts for its patients wait until these end. */
  quiet_hours: z.record(z.string().min(1), QuietSchema).default({}),
  default_service: z.string().min(1).optional(),
  staff: z.record(z.string().min(1), matrixUserId).default({}),
});

const RulesFileSchema = z.strictObject({
  routing: RoutingSchema.default({ units: {}, staff: {}, quiet_hours: {} }),
  rules: z.array(z.discriminatedUnion("kind", [LabRuleSchema, News2RuleSchema, InteractionRuleSchema, OverdueRuleSchema])).min(1, "list at least one rule"),
});

export type LabRule = z.infer<typeof LabRuleSchema>;
export type News2Rule = z.infer<typeof News2RuleSchema>;
export type InteractionRule = z.infer<typeof InteractionRuleSchema>;
export type OverdueRule = z.infer<typeof OverdueRuleSchema>;
export type AlertRule = LabRule | News2Rule | InteractionRule | OverdueRule;
export type AlertRouting = z.infer<typeof RoutingSchema>;
export interface AlertRuleSet {
  routing: AlertRouting;
  rules: AlertRule[];
}

/**
 * One patient's own limits for a lab rule: a patient with chronic kidney disease whose usual
 * potassium is 5.6, say. They replace the rule's limits of the bands they name, for that patient
 * only; the patient is known by a digest, and the limits are kept with who set them.
 */
export const PatientLimitsSchema = z
  .strictObject({ critical: Limits.optional(), urgent: Limits.optional(), informational: Limits.optional() })
  .refine((l) => l.critical || l.urgent || l.informational, "give critical, urgent or informational limits");
export type PatientLimits = z.infer<typeof PatientLimitsSchema>;

/**
 * One patient's NEWS2 setting: the RCP's SpO2 scale 2, for a patient with hypercapnic
 * respiratory failure whose target saturation is 88–92 %, chosen by a clinician.
 */
export const PatientNews2Schema = z.strictObject({ scale: z.union([z.literal(1), z.literal(2)], { message: "must be 1 or 2 (the RCP's SpO2 scales)" }) });
export type PatientNews2 = z.infer<typeof PatientNews2Schema>;
/** What a patient's own settings for a rule hold: limits for a lab rule, the SpO2 scale for NEWS2. */
export type PatientSettings = PatientLimits | PatientNews2;

/** Problems of a lab rule's bands: at least one, and widening from informational to urgent to critical. */
function bandProblems(r: Pick<LabRule, "critical" | "urgent" | "informational">): string[] {
  const problems: string[] = [];
  if (!r.critical && !r.urgent && !r.informational) problems.push("give at least one of critical, urgent or informational limits");
  // Nested bands: a value critical-low must also be past the urgent limit, or the limits are inconsistent.
  const order = [r.informational, r.urgent, r.critical];
  for (const side of ["below", "above"] as const) {
    const defined = order.map((l) => l?.[side]).filter((v): v is number => v !== undefined);
    const nested = side === "below" ? defined.every((v, k) => k === 0 || v <= defined[k - 1]!) : defined.every((v, k) => k === 0 || v >= defined[k - 1]!);
    if (!nested) problems.push(`the '${side}' limits must widen from informational to urgent to critical`);
  }
  return problems;
}

/** The rule as it applies to one patient: their limits in place of the rule's for the bands they name; problems if they do not nest. */
export function withPatientLimits(rule: LabRule, limits: PatientLimits): { rule: LabRule; problems: string[] } {
  const merged: LabRule = { ...rule, ...(limits.critical ? { critical: limits.critical } : {}), ...(limits.urgent ? { urgent: limits.urgent } : {}), ...(limits.informational ? { informational: limits.informational } : {}) };
  return { rule: merged, problems: bandProblems(merged) };
}

export class RulesFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`The alert rules file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RulesFileError";
  }
}

/** Reads a rules file whole: every problem with its path, nothing taken unless all is valid. */
export function parseRulesFile(text: string): AlertRuleSet {
  const read = readYamlFile(RulesFileSchema, text);
  if (!read.ok) throw new RulesFileError(read.problems);
  const problems: string[] = [];
  const ids = new Set<string>();
  read.value.rules.forEach((r, i) => {
    const at = `rules.${i}`;
    if (ids.has(r.id)) problems.push(`${at}.id: '${r.id}' is defined twice`);
    ids.add(r.id);
    if (r.kind === "lab") for (const p of bandProblems(r)) problems.push(`${at}: ${p}`);
    if (r.kind === "news2" && r.urgent_at >= r.critical_at) problems.push(`${at}: urgent_at (${r.urgent_at}) must be below critical_at (${r.critical_at})`);
  });
  const loincs = new Map<string, string>();
  for (const r of read.value.rules) {
    if (r.kind !== "lab") continue;
    // Two unit-wide rules for one test would fire twice; scoped to different units they may coexist.
    const key = `${r.loinc}@${(r.units_of_care ?? ["*"]).sort().join(",")}`;
    if (loincs.has(key)) problems.push(`rules: '${loincs.get(key)}' and '${r.id}' both test ${r.loinc} for the same units of care`);
    loincs.set(key, r.id);
  }
  if (problems.length) throw new RulesFileError(problems);
  return { routing: read.value.routing, rules: read.value.rules };
}
