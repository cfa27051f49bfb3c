import type { Registry } from "prom-client";
import { Gauge } from "prom-client";
import { counter, gaugeReading, histogram } from "../metrics.js";

/** The alerts workflow's Prometheus metrics; labels are rule ids, priorities, sources and outcomes, never PHI. */
export function alertMetrics(registry: Registry, stuck: () => Promise<number>) {
  return {
    inbound: counter(registry, "rounds_alert_inbound_total", "Messages received from alert sources, by source, kind and outcome (stored, duplicate)", ["source", "kind", "outcome"]),
    alerts: counter(registry, "rounds_alerts_total", "Alert changes (raised, repeated, corrected, cleared, acknowledged, false_positive), by rule and priority", ["rule", "priority", "change"]),
    ackSeconds: histogram(registry, "rounds_alert_ack_seconds", "Time from an alert's first result to its acknowledgement, by priority", ["priority"], [15, 30, 60, 120, 300, 600, 1800, 3600, 7200]),
    missedEvents: counter(registry, "rounds_alert_fhir_missed_events_total", "FHIR subscription notifications a source's events-since-subscription-start shows never arrived, by source", ["source"]),
    readSeconds: histogram(registry, "rounds_alert_read_seconds", "Time from an alert's first result to its recipient's read receipt, by priority", ["priority"], [5, 15, 30, 60, 120, 300, 600, 1800, 3600]),
    perClinician: new Gauge({ name: "rounds_alerts_per_clinician_shift", help: "Alerts delivered to each clinician within the last shift window (ROUNDS_ALERT_SHIFT_HOURS), by Matrix user", labelNames: ["user"], registers: [registry] }),
    stuck: gaugeReading(registry, "rounds_alert_inbound_stuck", "Recorded messages that failed processing too often and wait for a person", stuck),
  };
}

export type AlertMetrics = ReturnType<typeof alertMetrics>;
