import { consultCommands } from "../../bots/consultCommands.js";
import { consultAdminRouter } from "../http/consultAdminApi.js";
import { consultWidgetRoutes } from "../http/consultWidgetRoutes.js";
import type { Urgency } from "../shared/events/index.js";
import { serviceDeps, type WorkflowDeps, type WorkflowParts } from "../workflow.js";
import type { ConsultConfig } from "./consultConfig.js";
import { consultMetrics } from "./consultMetrics.js";
import { ConsultService, TIMER_CONSULT_ACCEPT, TIMER_CONSULT_RESPOND, TIMER_CONSULT_SETTLE } from "./consultService.js";
import { ConsultStore } from "./consultStore.js";

const perUrgency = <T, U>(r: Record<Urgency, T>, f: (v: T) => U): Record<Urgency, U> => ({ emergent: f(r.emergent), urgent: f(r.urgent), routine: f(r.routine) });

export function buildConsult(deps: WorkflowDeps<ConsultConfig>): WorkflowParts {
  const { config, core, db, oncall, rooms } = deps;
  const consults = new ConsultService({
    ...serviceDeps(deps),
    metrics: consultMetrics(deps.metrics.registry),
    store: new ConsultStore(db),
    options: {
      // The service counts in minutes; tests and eager deployments want seconds.
      acceptMinutes: perUrgency(config.acceptSeconds, (s) => s / 60),
      expectedResponseMinutes: config.expectedResponseMinutes,
      consultWidgetUrl: deps.widgetUrl("consult-room"),
      maxAttachmentBytes: config.maxAttachmentBytes,
    },
  });
  const c = consultCommands(consults, rooms, { dashboardWidgetUrl: deps.widgetUrl("consult-dashboard") });
  return {
    ...c,
    timers: {
      [TIMER_CONSULT_ACCEPT]: (t) => consults.onAcceptDeadline(t),
      [TIMER_CONSULT_RESPOND]: (t) => consults.onResponseDeadline(t),
      [TIMER_CONSULT_SETTLE]: (t) => consults.onSettle(t),
    },
    widgetRoutes: consultWidgetRoutes({
      consults,
      oncall,
      rooms,
      serverName: core.serverName,
      maxAttachmentBytes: config.maxAttachmentBytes,
      expectedResponseMinutes: config.expectedResponseMinutes,
    }),
    adminRoutes: (adminToken) => [consultAdminRouter({ adminToken, consults })],
  };
}
