import type { Registry } from "prom-client";
import { counter, histogram } from "../metrics.js";

/** This workflow's Prometheus metrics, on Rounds' registry; labels carry ids and outcomes, never PHI. */
export function handoffMetrics(registry: Registry) {
  return {
    registry,
    handoffDuration: histogram(registry, "rounds_handoff_duration_seconds", "Time from a handoff's start to both sign-offs, by unit", ["unit"], [60, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 7200]),
    handoffPatients: counter(registry, "rounds_handoff_patients_total", "Patients handed over in completed handoffs, by unit and whether they were read back", ["unit", "read_back"]),
    handoffQuestions: counter(registry, "rounds_handoff_questions_total", "Questions asked in handoffs, by unit", ["unit"]),
    handoffOverrides: counter(registry, "rounds_handoff_overrides_total", "Sign-offs that overrode a missing read-back, an open question or the checklist, by unit", ["unit"]),
    handoffTransitions: counter(registry, "rounds_handoff_transitions_total", "Handoff transitions (started, signed_off, completed, cancelled, overdue, escalated), by unit", ["unit", "transition"]),
  };
}

export type HandoffMetrics = ReturnType<typeof handoffMetrics>;
