import { handoffCommands } from "../../bots/handoffCommands.js";
import { handoffAdminRouter } from "../http/handoffAdminApi.js";
import { handoffWidgetRoutes } from "../http/handoffWidgetRoutes.js";
import { serviceDeps, type WorkflowDeps, type WorkflowParts } from "../workflow.js";
import type { HandoffConfig } from "./handoffConfig.js";
import { startHandoffCron } from "./handoffCron.js";
import { handoffMetrics } from "./handoffMetrics.js";
import { HandoffService, TIMER_HANDOFF_DEADLINE, TIMER_HANDOFF_ESCALATE, TIMER_HANDOFF_REPORT, TIMER_HANDOFF_SETTLE, TIMER_HANDOFF_TASK } from "./handoffService.js";
import { HandoffStore } from "./handoffStore.js";

export function buildHandoff(deps: WorkflowDeps<HandoffConfig>): WorkflowParts {
  const { config, core, db, log, rooms } = deps;
  const handoffs = new HandoffService({
    ...serviceDeps(deps),
    metrics: handoffMetrics(deps.metrics.registry),
    store: new HandoffStore(db),
    userExists: (u) => rooms.userExists(u),
    options: {
      deadlineMinutes: config.deadlineMinutes,
      escalateAfterMinutes: config.escalateAfterMinutes,
      handoffWidgetUrl: deps.widgetUrl("handoff-room"),
      unitWidgetUrl: deps.widgetUrl("handoff-dashboard"),
      botUserId: deps.client.userId,
    },
  });
  const c = handoffCommands(handoffs, rooms, { dashboardWidgetUrl: deps.widgetUrl("handoff-dashboard") });
  return {
    commands: c.commands,
    eventHandlers: c.eventHandlers,
    timers: {
      [TIMER_HANDOFF_DEADLINE]: (t) => handoffs.onDeadline(t),
      [TIMER_HANDOFF_ESCALATE]: (t) => handoffs.onEscalate(t),
      [TIMER_HANDOFF_REPORT]: (t) => handoffs.onReport(t),
      [TIMER_HANDOFF_SETTLE]: (t) => handoffs.onSettle(t),
      [TIMER_HANDOFF_TASK]: (t) => handoffs.onTaskDue(t),
    },
    widgetRoutes: handoffWidgetRoutes({ handoffs, rooms, serverName: core.serverName }),
    adminRoutes: (adminToken) => [handoffAdminRouter({ adminToken, handoffs })],
    jobs: [() => startHandoffCron(config.shiftCron, handoffs, log)],
  };
}
