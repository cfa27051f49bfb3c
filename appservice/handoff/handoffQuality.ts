import { secondsBetween, summarize } from "../shared/responseTimes.js";
import type { HandoffMetricsResponse, UnitQuality } from "../shared/handoffApi.js";

/** One handoff as the quality metrics see it: times, status and the figures frozen at sign-off (no PHI). */
export interface HandoffQualityRow {
  unitId: string;
  createdAt: Date;
  completedAt: Date | null;
  status: string;
  /** Patients handed over, read back and questions asked, frozen at sign-off; null before it. */
  patients: number | null;
  readBack: number | null;
  questions: number | null;
  overridden: boolean;
  overdue: boolean;
}

/**
 * Per unit (sorted by unit id), the quality of the handoffs started since `since`, counting
 * completed handoffs only: how many, how long they took from start to sign-off (p50 and p90 in
 * seconds, the same percentile as the consult response times), the share of patients read back,
 * questions per handoff, and how many were overridden or overdue. A unit with handoffs in the
 * window but none completed is listed with zero handoffs and null figures. `unit` keeps one unit.
 */
export function qualityOf(rows: HandoffQualityRow[], since: Date, unit?: string): HandoffMetricsResponse {
  const byUnit = new Map<string, HandoffQualityRow[]>();
  for (const r of rows) {
    if (unit !== undefined && r.unitId !== unit) continue;
    if (r.createdAt.getTime() < since.getTime()) continue;
    const list = byUnit.get(r.unitId) ?? [];
    byUnit.set(r.unitId, list);
    if (r.status === "completed" && r.completedAt) list.push(r);
  }
  return {
    since: since.toISOString(),
    units: [...byUnit.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, done]) => unitQuality(id, done)),
  };
}

function unitQuality(unit: string, done: HandoffQualityRow[]): UnitQuality {
  const durations = summarize(done.map((r) => secondsBetween(r.createdAt, r.completedAt!)));
  // A handoff whose figures were not frozen counts for neither the numerator nor the denominator.
  const withPatients = done.filter((r) => r.patients !== null);
  const patients = withPatients.reduce((n, r) => n + r.patients!, 0);
  const readBack = withPatients.reduce((n, r) => n + (r.readBack ?? 0), 0);
  const withQuestions = done.filter((r) => r.questions !== null);
  const questions = withQuestions.reduce((n, r) => n + r.questions!, 0);
  return {
    unit,
    handoffs: done.length,
    duration_p50_s: durations.p50_s,
    duration_p90_s: durations.p90_s,
    read_back_share: patients > 0 ? readBack / patients : null,
    questions_per_handoff: withQuestions.length > 0 ? questions / withQuestions.length : null,
    overrides: done.filter((r) => r.overridden).length,
    overdue: done.filter((r) => r.overdue).length,
  };
}
