import express from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** A counter on `registry`, for the workflows' own metrics files. */
export const counter = <L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });

/** A histogram on `registry`, for the workflows' own metrics files. */
export const histogram = <L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
  new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });

/** A gauge on `registry` whose value is read when Prometheus scrapes (e.g. a count in the database). */
export const gaugeReading = (registry: Registry, name: string, help: string, read: () => Promise<number>) =>
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });

/**
 * The core's Prometheus metrics and the registry every workflow adds its own to (each in its
 * folder: pagingMetrics.ts, …); labels carry ids and outcomes, never PHI.
 */
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
}
