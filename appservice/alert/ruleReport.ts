import { percentile } from "../shared/responseTimes.js";
import type { RuleReport, RuleSummary } from "../shared/alertApiTerms.js";
import type { AlertRule } from "./alertRules.js";

export type { RuleReport };

export interface RuleOutcome {
  ruleId: string;
  band: string;
  status: string;
  falsePositive: boolean;
  paged: boolean;
  ackMs: number | null;
  value: number | null;
}

/** At or above this share of false positives (over enough alerts), the report suggests a limit. */
const FALSE_POSITIVE_SUGGESTION_RATE = 0.3;
const MIN_ALERTS_FOR_SUGGESTION = 5;

const range = (vs: number[]) => (vs.length ? `${Math.min(...vs)}–${Math.max(...vs)}` : "none");

/** A limit that would have spared most false positives and kept every confirmed alert, if one exists. */
function suggest(rule: AlertRule, outcomes: RuleOutcome[]): RuleReport["suggestion"] {
  if (rule.kind !== "lab") return null;
  for (const bandName of [...new Set(outcomes.map((o) => o.band))]) {
    const side = bandName.endsWith("-high") ? "high" : bandName.endsWith("-low") ? "low" : null;
    if (!side) continue;
    // One band at a time: a limit is suggested from that band's own alerts only.
    const onSide = outcomes.filter((o) => o.band === bandName && o.value !== null);
    const fp = onSide.filter((o) => o.falsePositive).map((o) => o.value!);
    const tp = onSide.filter((o) => !o.falsePositive && o.status !== "cleared").map((o) => o.value!);
    if (onSide.length < MIN_ALERTS_FOR_SUGGESTION || fp.length / onSide.length < FALSE_POSITIVE_SUGGESTION_RATE) continue;
    const band = onSide[0]!.band.split("-")[0] as "critical" | "urgent" | "informational";
    const limit = rule[band]?.[side === "high" ? "above" : "below"];
    if (limit === undefined) continue;
    // The new limit must keep every confirmed alert: above the highest false positive and below the lowest true one.
    const candidate = side === "high" ? Math.max(...fp) : Math.min(...fp);
    const keepsAll = side === "high" ? tp.every((v) => v > candidate) : tp.every((v) => v < candidate);
    const evidence = `${fp.length} of ${onSide.length} ${band} ${side === "high" ? "above" : "below"} alerts were marked false positive, at ${range(fp)} ${rule.units}; the others were at ${range(tp)} ${rule.units}.`;
    if (!keepsAll) return { text: `No single limit separates them: review the false-positive reasons before changing ${band}.${side === "high" ? "above" : "below"} (${limit}).`, evidence };
    return { text: `Consider ${band}.${side === "high" ? "above" : "below"}: ${candidate} ${rule.units} instead of ${limit}: it would have spared these false positives and kept every other alert.`, evidence };
  }
  return null;
}

/** Per-rule effectiveness over the alerts given (one report row per rule in force or seen). */
export function ruleReport(rules: readonly AlertRule[], outcomes: readonly RuleOutcome[]): RuleReport[] {
  const ids = [...new Set([...rules.map((r) => r.id), ...outcomes.map((o) => o.ruleId)])];
  return ids.map((id) => {
    const os = outcomes.filter((o) => o.ruleId === id);
    const acks = os
      .filter((o) => o.ackMs !== null)
      .map((o) => o.ackMs! / 1000)
      .sort((a, b) => a - b);
    const p = (q: number) => {
      const v = percentile(acks, q);
      return v === null ? null : Math.round(v);
    };
    const fp = os.filter((o) => o.falsePositive).length;
    const rule = rules.find((r) => r.id === id);
    return {
      rule: id,
      fired: os.length,
      acknowledged: acks.length,
      ackSecondsP50: p(0.5),
      ackSecondsP90: p(0.9),
      paged: os.filter((o) => o.paged).length,
      falsePositives: fp,
      falsePositiveRate: os.length ? Math.round((fp / os.length) * 100) / 100 : null,
      autoCleared: os.filter((o) => o.status === "cleared").length,
      suggestion: rule ? suggest(rule, [...os]) : null,
    };
  });
}

const limits = (l: { below?: number; above?: number } | undefined, units: string) =>
  l ? [l.below !== undefined ? `below ${l.below}` : null, l.above !== undefined ? `above ${l.above}` : null].filter(Boolean).join(" or ") + ` ${units}` : null;

/** A rule in words for the coordinators' view: what it watches and when it fires. Rules hold no patient data. */
export function ruleSummary(rule: AlertRule): RuleSummary {
  let fires: string;
  if (rule.kind === "lab") {
    fires = (["critical", "urgent", "informational"] as const)
      .map((p) => [p, limits(rule[p], rule.units)] as const)
      .filter(([, l]) => l)
      .map(([p, l]) => `${p} ${l}`)
      .join("; ");
    fires = `LOINC ${rule.loinc}: ${fires}; preliminary results: ${rule.preliminary}`;
  } else if (rule.kind === "news2") {
    fires = `critical at ${rule.critical_at}+, urgent at ${rule.urgent_at}+, a single parameter scoring 3: ${rule.single_parameter_3}`;
  } else if (rule.kind === "interaction") {
    fires = `${rule.priority}: ${rule.pairs.map((p) => `${p.a.name} with ${p.b.name}`).join(", ")} (${rule.risk})`;
  } else {
    fires = `${rule.priority}: LOINC ${rule.loinc} ordered and not resulted within ${rule.hours} h`;
  }
  const scope = rule.units_of_care ? ` (units ${rule.units_of_care.join(", ")})` : "";
  return { id: rule.id, kind: rule.kind, name: rule.name, fires: fires + scope };
}
