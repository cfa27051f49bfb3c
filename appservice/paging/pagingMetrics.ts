import type { Registry } from "prom-client";
import { counter } from "../metrics.js";

/** This workflow's Prometheus metrics, on Rounds' registry; labels carry ids and outcomes, never PHI. */
export function pagingMetrics(registry: Registry) {
  return {
    registry,
    pages: counter(registry, "rounds_pages_total", "Page transitions, by service, urgency and the status reached", ["service", "urgency", "status"]),
    smsSent: counter(registry, "rounds_sms_total", "SMS notifications, by outcome (sent, failed) and delivery status updates", ["outcome"]),
  };
}

export type PagingMetrics = ReturnType<typeof pagingMetrics>;
