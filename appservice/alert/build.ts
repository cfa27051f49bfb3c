import { alertCommands } from "../../bots/alertCommands.js";
import { alertAdminRouter } from "../http/alertAdminApi.js";
import { alertFhirRouter } from "../http/alertFhirRoutes.js";
import { alertWidgetRoutes } from "../http/alertWidgetRoutes.js";
import { AtRest } from "../shared/atRest.js";
import type { BackgroundJob, WorkflowDeps, WorkflowParts } from "../workflow.js";
import type { AlertConfig } from "./alertConfig.js";
import { alertMetrics } from "./alertMetrics.js";
import { AlertEmail, EMAIL_RETRY_MS, TIMER_ALERT_EMAIL } from "./alertEmail.js";
import { AlertIntake, TIMER_ALERT_OVERDUE, TIMER_ALERT_TELL } from "./alertIntake.js";
import { AlertService, TIMER_ALERT_DIGEST, TIMER_ALERT_ESCALATE, TIMER_ALERT_SNOOZE } from "./alertService.js";
import { AlertStore } from "./alertStore.js";
import { loadFhirDefinitions } from "./fhir/fhirResources.js";
import { SubscriptionLedger } from "./fhir/subscriptionLedger.js";
import { startMllpListener, type MllpListener } from "./hl7/mllpListener.js";
import { InboundStore, INBOUND_AT_REST_PURPOSE } from "./inboundStore.js";
import { startIntakeRunner } from "./intakeRunner.js";
import { RuleSetStore } from "./ruleSetStore.js";

export async function buildAlert(deps: WorkflowDeps<AlertConfig>): Promise<WorkflowParts> {
  const { config, core, db, log, rooms, oncall } = deps;
  let runner: ReturnType<typeof startIntakeRunner> | null = null;
  // A recorded message wakes the intake at once; the poll is only for what a crash left.
  const inbound: InboundStore = new InboundStore(db, new AtRest(core.cryptoStorePassphrase, INBOUND_AT_REST_PURPOSE), (m, duplicate) => {
    metrics.inbound.inc({ source: m.source, kind: m.kind, outcome: duplicate ? "duplicate" : "stored" });
    if (!duplicate) runner?.wake();
  });
  const metrics = alertMetrics(deps.metrics.registry, () => inbound.stuck());
  const store = new AlertStore(db, new AtRest(core.cryptoStorePassphrase, "alerts"));
  const ruleSets = new RuleSetStore(db);
  await ruleSets.load();
  const intake = new AlertIntake({
    inbound,
    alerts: store,
    rules: () => ruleSets.rules().rules,
    timers: { schedule: (kind, ref, step, due, trx) => deps.timers.schedule(kind, ref, step, due, trx), wake: deps.wakeTimers },
    log,
  });
  const email = config.email
    ? new AlertEmail({
        db,
        smtpUrl: config.email.smtpUrl,
        from: config.email.from,
        retryLater: async (alertId, userId) => {
          await deps.timers.schedule(TIMER_ALERT_EMAIL, alertId, `${userId}|${Date.now()}`, new Date(Date.now() + EMAIL_RETRY_MS));
          deps.wakeTimers();
        },
        log,
      })
    : null;
  const alerts = new AlertService({
    store,
    rooms,
    oncall,
    routing: () => ruleSets.rules().routing,
    widgetUrl: deps.widgetUrl("alerts"),
    ruleSet: () => ({ version: ruleSets.info().version, rules: ruleSets.rules().rules }),
    pager: deps.ports.pager,
    botUserId: deps.client.userId,
    metrics,
    timers: { store: deps.timers, wake: deps.wakeTimers },
    options: { escalateUrgentMinutes: config.escalateUrgentMinutes, maxSnoozeMinutes: config.maxSnoozeMinutes, digestMinutes: config.digestMinutes, shiftHours: config.shiftHours, perShiftCap: config.perShiftCap },
    notifier: rooms,
    email,
    log,
  });
  // The paging workflow is built before this one, so its Pager is there to listen to.
  deps.ports.pager()?.onAcknowledged("alert:", (ack) => alerts.onPageAcknowledged(ack));
  if (!deps.ports.pager()) log.warn("the on-call bot is not running: critical alerts go to the alerts room without paging's escalation and SMS");
  const c = alertCommands(alerts, email, () => oncall.defaultTimezone());
  const sources = () => config.sources;

  const jobs: BackgroundJob[] = [
    () => {
      runner = startIntakeRunner({ intake, alerts, pollMs: config.intakePollMs, log });
      return runner;
    },
    () => ({ stop: () => email?.close() }),
  ];
  if (config.sources.some((s) => s.kind === "mllp")) {
    jobs.push(() => {
      let listener: MllpListener | null = null;
      const started = startMllpListener({
        host: config.mllp.host,
        port: config.mllp.port,
        tls: config.mllp.tls ?? undefined,
        sources,
        log,
        accept: async ({ source, text, message }) => {
          const r = await inbound.record({ source: source.id, key: message.header.controlId, kind: "hl7v2", type: message.kind === "results" ? "ORU^R01" : `ADT^${message.trigger}`, payload: text });
          // The crash tests' window: stored and committed, not yet acknowledged.
          if (config.fault === "kill-after-store" && !r.duplicate) process.kill(process.pid, "SIGKILL");
        },
      }).then(
        (l) => (listener = l),
        (err: Error) => log.error({ host: config.mllp.host, port: config.mllp.port, err: err.message }, "the MLLP listener could not start: free the port or set ROUNDS_ALERT_MLLP_PORT"),
      );
      return { stop: async () => (await started, await listener?.close()) };
    });
  }
  if (!config.sources.length) log.warn("no alert sources configured: set ROUNDS_ALERT_SOURCES_FILE to take results over MLLP or FHIR");
  const fhir = config.sources.some((s) => s.kind === "fhir");
  if (fhir) loadFhirDefinitions();

  return {
    commands: c.commands,
    reactionHandler: c.reactionHandler,
    eventHandlers: c.eventHandlers,
    timers: {
      [TIMER_ALERT_ESCALATE]: { run: (t) => alerts.onEscalateTimer(t), priority: 1 },
      [TIMER_ALERT_SNOOZE]: (t) => alerts.onSnoozeTimer(t),
      [TIMER_ALERT_DIGEST]: (t) => alerts.onDigestTimer(t),
      [TIMER_ALERT_OVERDUE]: async (t) => alerts.deliver(await intake.overdue(Number(t.ref), t.step)),
      [TIMER_ALERT_TELL]: (t) => alerts.onTellTimer(t),
      // A failed email, tried again while its alert is open.
      [TIMER_ALERT_EMAIL]: async (t) => {
        const a = await store.get(store.db, t.ref);
        if (a?.status === "open") await email?.tell(a, [t.step.slice(0, t.step.lastIndexOf("|"))]);
      },
    },
    routes: fhir ? [alertFhirRouter({ sources, inbound, subscriptions: new SubscriptionLedger(db), onMissed: (source, n) => metrics.missedEvents.inc({ source }, n), log })] : [],
    widgetRoutes: alertWidgetRoutes({ alerts, rooms, serverName: core.serverName, defaultZone: () => oncall.defaultTimezone() }),
    adminRoutes: (adminToken) => [alertAdminRouter({ adminToken, ruleSets, alerts: store, service: alerts })],
    jobs,
  };
}
