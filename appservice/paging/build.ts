import express from "express";
import { calendarCommands } from "../../bots/calendarCommands.js";
import { pagingCommands } from "../../bots/pagingCommands.js";
import { scheduleCommands } from "../../bots/scheduleCommands.js";
import { pagingAdminRouter } from "../http/pagingAdminApi.js";
import { TwilioWebhookReceipts } from "../http/twilioWebhookReceipts.js";
import { twilioWebhookRouter } from "../http/twilioWebhooks.js";
import { ErrCode, sendError } from "../http/errors.js";
import { CalendarFeeds } from "../oncall/calendarFeeds.js";
import { SwapService } from "../oncall/swapService.js";
import { SwapStore } from "../oncall/swapStore.js";
import { TwilioSmsSender } from "../sms/twilioSms.js";
import { serviceDeps, type WorkflowDeps, type WorkflowParts } from "../workflow.js";
import { ContactService } from "./contactService.js";
import { ContactStore } from "./contactStore.js";
import { pagerOf } from "./pager.js";
import { PageService, TIMER_PAGE_DELIVER, TIMER_PAGE_ESCALATE, TIMER_PAGE_SMS } from "./pageService.js";
import { PageStore } from "./pageStore.js";
import { pagingMetrics } from "./pagingMetrics.js";
import type { PagingConfig } from "./pagingConfig.js";
import { ShiftChangeService } from "./shiftChange.js";
import { startShiftCron } from "./shiftCron.js";
import { ShiftWatchStore } from "./shiftWatchStore.js";

export function buildPaging(deps: WorkflowDeps<PagingConfig>): WorkflowParts {
  const { config, core, db, log, oncall, rooms, timers } = deps;
  const contacts = new ContactStore(db, config.smsAfter);
  const contactService = new ContactService(contacts);
  const sms = config.twilio
    ? new TwilioSmsSender({
        accountSid: config.twilio.accountSid,
        authToken: config.twilio.authToken,
        from: config.twilio.from,
        statusCallbackUrl: `${core.publicUrl}/_rounds/twilio/status`,
        apiBaseUrl: config.twilio.apiUrl,
        log,
      })
    : null;
  if (!sms) log.warn("SMS fallback is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to turn it on");
  const pages = new PageService({
    ...serviceDeps(deps),
    metrics: pagingMetrics(deps.metrics.registry),
    store: new PageStore(db),
    contacts,
    sms,
    options: { delaysSeconds: config.delaysSeconds, serverName: core.serverName },
  });
  const shifts = new ShiftChangeService({ watch: new ShiftWatchStore(db), oncall, pages, notifier: rooms, fatigue: config.fatigue, log });
  const paging = pagingCommands(pages, contactService);
  const swaps = new SwapService(oncall, new SwapStore(db), rooms);

  const routes: express.Router[] = [];
  if (config.twilio) {
    const twilio = express.Router();
    // An SMS acknowledgement must be told in Matrix: until the bots can send, ask Twilio to retry.
    twilio.use("/_rounds/twilio", (_req, res, next) => (deps.ready() ? next() : sendError(res, ErrCode.Unavailable, "Rounds is starting; try again in a few seconds")));
    twilio.use(
      twilioWebhookRouter({
        authToken: config.twilio.authToken,
        publicBaseUrl: core.publicUrl,
        receipts: new TwilioWebhookReceipts(db),
        onInbound: (msg) => pages.onInboundSms(msg.from, msg.body),
        onStatus: (u) => pages.onSmsStatus(u.messageSid, u.status, u.errorCode),
        log,
      }),
    );
    routes.push(twilio);
  }

  return {
    commands: [...scheduleCommands(oncall, swaps).commands, ...calendarCommands(new CalendarFeeds(db, oncall), core.publicUrl).commands, ...paging.commands],
    reactionHandler: paging.reactionHandler,
    // Escalations first among timers due together: after a crash, they are what is most late.
    timers: {
      [TIMER_PAGE_ESCALATE]: { run: (t) => pages.onEscalationTimer(t), priority: 1 },
      [TIMER_PAGE_SMS]: (t) => pages.onSmsTimer(t),
      [TIMER_PAGE_DELIVER]: (t) => pages.onDeliveryTimer(t),
    },
    adminRoutes: (adminToken) => [pagingAdminRouter({ adminToken, contacts: contactService, pages, timers, log })],
    routes,
    jobs: [() => startShiftCron(config.shiftCheckCron, shifts, log)],
    provides: { pager: pagerOf(pages) },
  };
}
