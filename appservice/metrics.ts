import express from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One place for every Prometheus metric; labels carry ids and outcomes, never PHI. */
export class Metrics {
  readonly registry = new Registry();
  readonly transactions = new Counter({
    name: "rounds_appservice_transactions_total",
    help: "Appservice transactions received, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly transactionStore = new Histogram({
    name: "rounds_appservice_transaction_store_seconds",
    help: "Time to commit an appservice transaction to the inbox before answering the homeserver",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly inboxProcessed = new Counter({
    name: "rounds_inbox_events_total",
    help: "Inbox events processed, by outcome (done, retry, dead)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly inboxPending = new Gauge({
    name: "rounds_inbox_pending",
    help: "Events waiting in the inbox",
    registers: [this.registry],
  });
  readonly commandDuration = new Histogram({
    name: "rounds_bot_command_seconds",
    help: "Time from a command reaching the bot to its reply being sent",
    labelNames: ["bot", "command", "outcome"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly botPhase = new Histogram({
    name: "rounds_bot_phase_seconds",
    help: "Time a bot spends per phase of answering: waiting in the inbox, decrypt, command, reply",
    labelNames: ["phase"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  readonly timerLateness = new Histogram({
    name: "rounds_timer_lateness_seconds",
    help: "How late a durable timer fired after its deadline",
    labelNames: ["kind"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
    registers: [this.registry],
  });
  readonly timersFired = new Counter({
    name: "rounds_timers_fired_total",
    help: "Durable timers fired, by kind and outcome (done, retry, failed)",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly timersPending = new Gauge({
    name: "rounds_timers_pending",
    help: "Durable timers waiting to fire (checked hourly)",
    registers: [this.registry],
  });
  readonly pages = new Counter({
    name: "rounds_pages_total",
    help: "Page transitions, by service, urgency and the status reached",
    labelNames: ["service", "urgency", "status"] as const,
    registers: [this.registry],
  });
  readonly smsSent = new Counter({
    name: "rounds_sms_total",
    help: "SMS notifications, by outcome (sent, failed) and delivery status updates",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rounds_" });
  }

  /** The /metrics app, served on its own port so it can be firewalled apart from the appservice API. */
  app(): express.Express {
    const app = express();
    app.get("/metrics", async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
    return app;
  }

  // Consults: labels are service ids and transition names only.
  readonly consultTimeToAccept = new Histogram({
    name: "rounds_consult_time_to_accept_seconds",
    help: "Time from a consult request to its acceptance, by service",
    labelNames: ["service"] as const,
    buckets: CONSULT_BUCKETS,
    registers: [this.registry],
  });
  readonly consultTimeToComplete = new Histogram({
    name: "rounds_consult_time_to_complete_seconds",
    help: "Time from a consult request to its completed report, by service",
    labelNames: ["service"] as const,
    buckets: CONSULT_BUCKETS,
    registers: [this.registry],
  });
  readonly consultTransitions = new Counter({
    name: "rounds_consult_transitions_total",
    help: "Consult transitions (requested, escalated, exhausted, declined, accepted, started, completed, cancelled, overdue), by service",
    labelNames: ["service", "transition"] as const,
    registers: [this.registry],
  });

  // Handoffs: labels are unit ids and transition names only.
  readonly handoffDuration = new Histogram({
    name: "rounds_handoff_duration_seconds",
    help: "Time from a handoff's start to both sign-offs, by unit",
    labelNames: ["unit"] as const,
    buckets: [60, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 7200],
    registers: [this.registry],
  });
  readonly handoffPatients = new Counter({
    name: "rounds_handoff_patients_total",
    help: "Patients handed over in completed handoffs, by unit and whether they were read back",
    labelNames: ["unit", "read_back"] as const,
    registers: [this.registry],
  });
  readonly handoffQuestions = new Counter({
    name: "rounds_handoff_questions_total",
    help: "Questions asked in handoffs, by unit",
    labelNames: ["unit"] as const,
    registers: [this.registry],
  });
  readonly handoffOverrides = new Counter({
    name: "rounds_handoff_overrides_total",
    help: "Sign-offs that overrode a missing read-back, an open question or the checklist, by unit",
    labelNames: ["unit"] as const,
    registers: [this.registry],
  });
  readonly handoffTransitions = new Counter({
    name: "rounds_handoff_transitions_total",
    help: "Handoff transitions (started, signed_off, completed, cancelled, overdue, escalated), by unit",
    labelNames: ["unit", "transition"] as const,
    registers: [this.registry],
  });
}

/** 30 s to 2 days: emergent consults are accepted in minutes, routine ones answered within days. */
const CONSULT_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800];
