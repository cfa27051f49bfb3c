import type { Registry } from "prom-client";
import { counter, histogram } from "../metrics.js";

/** 30 s to 2 days: emergent consults are accepted in minutes, routine ones answered within days. */
const CONSULT_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800];

/** This workflow's Prometheus metrics, on Rounds' registry; labels carry ids and outcomes, never PHI. */
export function consultMetrics(registry: Registry) {
  return {
    registry,
    consultTimeToAccept: histogram(registry, "rounds_consult_time_to_accept_seconds", "Time from a consult request to its acceptance, by service", ["service"], CONSULT_BUCKETS),
    consultTimeToComplete: histogram(registry, "rounds_consult_time_to_complete_seconds", "Time from a consult request to its completed report, by service", ["service"], CONSULT_BUCKETS),
    consultTransitions: counter(registry, "rounds_consult_transitions_total", "Consult transitions (requested, escalated, exhausted, declined, accepted, started, completed, cancelled, overdue), by service", ["service", "transition"]),
  };
}

export type ConsultMetrics = ReturnType<typeof consultMetrics>;
