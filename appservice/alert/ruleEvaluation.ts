import { ALERT_PRIORITIES, type AlertPriority, type InteractionRule, type LabRule, type News2Rule, type OverdueRule } from "./alertRules.js";
import { news2, NEWS2_PARAMETERS, type Consciousness, type News2Parameter, type News2Score, type News2Vitals } from "./news2.js";

/**
 * What a rule makes of what Rounds knows about a patient: plain code over values already read
 * from HL7 v2 or FHIR. Each finding says why, with the values read; that text is PHI, so it is
 * sealed at rest and travels only in encrypted events.
 */

/** A lab value as the rules read it, from HL7 v2 OBX or FHIR Observation alike. */
export interface LabValue {
  loinc: string | null;
  /** Codes under other systems (OBX-3 local codes). */
  localCode: string | null;
  numeric: number | null;
  /** The value is beyond `numeric` (">9.5"): it can only be shown past a limit, never within. */
  comparator?: "<" | ">" | "<=" | ">=" | null;
  units: string;
  /** The units' text when the sender codes them (OBX-6.2): either may match the rule's. */
  unitsText?: string;
  /** OBX-8 / Observation.interpretation, as HL7 v2 flags. */
  flags: readonly string[];
  status: "final" | "corrected" | "preliminary" | "cancelled" | "pending";
}

export type LabBand = "critical-low" | "critical-high" | "urgent-low" | "urgent-high" | "informational-low" | "informational-high" | "abnormal" | "units" | "normal";

export interface LabFinding {
  /** null: the value is normal for this rule (an open alert of this test clears). */
  priority: AlertPriority | null;
  band: LabBand;
  /** Why, with the values read: PHI, sealed and sent only encrypted. */
  why: string;
}

const sameUnits = (a: string, b: string) => a.replace(/\s+/g, "").toLowerCase() === b.replace(/\s+/g, "").toLowerCase();

export function labRuleMatches(rule: LabRule, v: LabValue): boolean {
  return v.loinc === rule.loinc || (v.localCode !== null && rule.local_codes.includes(v.localCode));
}

/**
 * What one result means under `rule`: the band it falls in and why, or `hold`/`ignore` for a
 * preliminary result the rule says to wait for. Critical wins over urgent over informational.
 */
export function evaluateLab(rule: LabRule, v: LabValue): LabFinding | "hold" | "ignore" {
  if (v.status === "cancelled" || v.status === "pending") return "ignore";
  if (v.status === "preliminary" && rule.preliminary !== "alert") return rule.preliminary;
  const prelim = v.status === "preliminary" ? " (preliminary)" : "";
  if (v.numeric === null) {
    // No number to compare (text, "<0.5"): the sender's own critical or abnormal flags decide.
    if (v.flags.some((f) => f === "HH" || f === "LL" || f === "AA")) return { priority: "critical", band: "abnormal", why: `${rule.name}: flagged critical by the lab (${v.flags.join(", ")})${prelim}` };
    if (v.flags.some((f) => f === "H" || f === "L" || f === "A")) return { priority: "informational", band: "abnormal", why: `${rule.name}: flagged abnormal by the lab (${v.flags.join(", ")})${prelim}` };
    // Text or an unreadable value says nothing about the level: it neither raises nor clears.
    return "ignore";
  }
  if (!sameUnits(v.units, rule.units) && !(v.unitsText && sameUnits(v.unitsText, rule.units))) {
    return { priority: rule.units_mismatch, band: "units", why: `${rule.name} ${v.numeric} ${v.units || "(no units)"}: not in ${rule.units}, so not compared with the limits; read it${prelim}` };
  }
  if (v.comparator) {
    // ">9.5" is above 9.5 but by how much is unknown: past a limit if its bound is, else it says nothing.
    const above = v.comparator.startsWith(">");
    for (const p of ALERT_PRIORITIES) {
      const limit = rule[p]?.[above ? "above" : "below"];
      if (limit === undefined) continue;
      const past = above ? (v.comparator === ">" ? v.numeric >= limit : v.numeric > limit) : v.comparator === "<" ? v.numeric <= limit : v.numeric < limit;
      if (past) return { priority: p, band: `${p}-${above ? "high" : "low"}`, why: `${rule.name} ${v.comparator}${v.numeric} ${rule.units}, ${above ? "above" : "below"} the ${p} limit ${limit}${prelim}` };
    }
    return "ignore";
  }
  for (const p of ALERT_PRIORITIES) {
    const limits = rule[p];
    if (!limits) continue;
    if (limits.below !== undefined && v.numeric < limits.below) return { priority: p, band: `${p}-low`, why: `${rule.name} ${v.numeric} ${rule.units}, below the ${p} limit ${limits.below}${prelim}` };
    if (limits.above !== undefined && v.numeric > limits.above) return { priority: p, band: `${p}-high`, why: `${rule.name} ${v.numeric} ${rule.units}, above the ${p} limit ${limits.above}${prelim}` };
  }
  return { priority: null, band: "normal", why: `${rule.name} ${v.numeric} ${rule.units}, within limits${prelim}` };
}

/** The LOINC codes NEWS2 reads, per parameter (the first one present wins). */
export const NEWS2_LOINC: Record<(typeof NEWS2_PARAMETERS)[number], readonly string[]> = {
  respiration_rate: ["9279-1"],
  spo2: ["59408-5", "2708-6"],
  // Inhaled oxygen flow (3151-8) or concentration (3150-0): above 0 L/min or 21 % is oxygen.
  supplemental_oxygen: ["3151-8", "3150-0"],
  systolic_bp: ["8480-6"],
  pulse: ["8867-4"],
  consciousness: ["80288-4", "67775-7"],
  temperature: ["8310-5"],
};

/** One vital sign as last recorded, by LOINC code. */
export interface VitalSign {
  loinc: string;
  value: number | string;
  at: Date;
}

export interface News2Finding {
  priority: AlertPriority | null;
  score: News2Score;
  why: string;
}

const CONSCIOUSNESS: Record<string, Consciousness> = { a: "A", alert: "A", c: "C", confused: "C", "new confusion": "C", v: "V", voice: "V", p: "P", pain: "P", u: "U", unresponsive: "U" };

/**
 * NEWS2 from the latest vital signs: each parameter from its newest observation no older than
 * the rule's limit. Missing or stale parameters give no score (a partial score would understate
 * the risk), and the finding says which are missing.
 */
export function evaluateNews2(rule: News2Rule, vitals: readonly VitalSign[], now: Date, scale: 1 | 2 = 1): News2Finding | { missing: News2Parameter[] } {
  const oldest = now.getTime() - rule.max_age_minutes * 60_000;
  const latest = (codes: readonly string[]) =>
    vitals
      .filter((v) => codes.includes(v.loinc) && v.at.getTime() >= oldest && v.at.getTime() <= now.getTime() + 60_000)
      .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  const read: Partial<News2Vitals> = {};
  const missing: News2Parameter[] = [];
  for (const p of NEWS2_PARAMETERS) {
    const v = latest(NEWS2_LOINC[p]);
    if (!v) {
      // No oxygen recorded is air: charts record oxygen when it is given.
      if (p === "supplemental_oxygen") read.supplemental_oxygen = false;
      else missing.push(p);
      continue;
    }
    if (p === "consciousness") {
      const c = CONSCIOUSNESS[String(v.value).trim().toLowerCase()];
      if (c) read.consciousness = c;
      else missing.push(p);
    } else if (p === "supplemental_oxygen") {
      const n = Number(v.value);
      read.supplemental_oxygen = v.loinc === "3150-0" ? n > 21 : n > 0;
    } else {
      const n = typeof v.value === "number" ? v.value : Number(v.value);
      if (Number.isFinite(n)) read[p] = n;
      else missing.push(p);
    }
  }
  if (missing.length) return { missing };
  const score = news2(read as News2Vitals, scale);
  const threes = NEWS2_PARAMETERS.filter((p) => score.parts[p] === 3);
  const priority: AlertPriority | null =
    score.total >= rule.critical_at
      ? "critical"
      : score.total >= rule.urgent_at
        ? "urgent"
        : threes.length
          ? rule.single_parameter_3
          : rule.informational_at !== undefined && score.total >= rule.informational_at
            ? "informational"
            : null;
  const parts = NEWS2_PARAMETERS.filter((p) => score.parts[p] > 0).map((p) => `${p.replace(/_/g, " ")} ${String(read[p])} (${score.parts[p]})`);
  return { priority, score, why: `${rule.name} ${score.total}${parts.length ? `: ${parts.join(", ")}` : ""}` };
}

/** Interacting pairs among a patient's active medications (RxNorm codes). */
export function evaluateInteractions(rule: InteractionRule, activeRxnorm: readonly string[]): { priority: AlertPriority; why: string } | null {
  const active = new Set(activeRxnorm);
  const hits = rule.pairs.filter((p) => active.has(p.a.rxnorm) && active.has(p.b.rxnorm));
  if (!hits.length) return null;
  return { priority: rule.priority, why: `${rule.name}: ${hits.map((p) => `${p.a.name} with ${p.b.name}`).join("; ")} (${rule.risk})` };
}

/** An ordered test still without a result past the rule's hours: a care gap. */
export function overdueOrders(rule: OverdueRule, orders: ReadonlyArray<{ loinc: string; orderedAt: Date; resulted: boolean }>, now: Date): Array<{ orderedAt: Date; why: string }> {
  const limit = rule.hours * 3_600_000;
  return orders
    .filter((o) => o.loinc === rule.loinc && !o.resulted && now.getTime() - o.orderedAt.getTime() > limit)
    .map((o) => ({ orderedAt: o.orderedAt, why: `${rule.name} ordered ${Math.floor((now.getTime() - o.orderedAt.getTime()) / 3_600_000)} h ago, no result yet (limit ${rule.hours} h)` }));
}
