import { once } from "node:events";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";
import express from "express";
import { Bot } from "../bots/bot.js";
import { BotClient } from "./matrix/botClient.js";
import { BotDeviceStore } from "./matrix/botDeviceStore.js";
import { ONCALL_BOT, oncallCommands } from "../bots/oncallBot.js";
import { CONSULT_BOT, consultCommandTable } from "../bots/consultBot.js";
import { consultCommands } from "../bots/consultCommands.js";
import { HANDOFF_BOT, handoffCommandTable } from "../bots/handoffBot.js";
import { handoffCommands } from "../bots/handoffCommands.js";
import { calendarCommands } from "../bots/calendarCommands.js";
import { pagingCommands } from "../bots/pagingCommands.js";
import { scheduleCommands } from "../bots/scheduleCommands.js";
import { ConsultService, TIMER_CONSULT_ACCEPT, TIMER_CONSULT_RESPOND, TIMER_CONSULT_SETTLE } from "./consult/consultService.js";
import { ConsultStore } from "./consult/consultStore.js";
import {
  HandoffService,
  TIMER_HANDOFF_DEADLINE,
  TIMER_HANDOFF_ESCALATE,
  TIMER_HANDOFF_REPORT,
  TIMER_HANDOFF_SETTLE,
  TIMER_HANDOFF_TASK,
} from "./handoff/handoffService.js";
import { HandoffStore } from "./handoff/handoffStore.js";
import { handoffAdminRouter } from "./http/handoffAdminApi.js";
import { startHandoffCron } from "./handoff/handoffCron.js";
import { migrate, openDatabase } from "./db/connect.js";
import { pruneCommandEffects } from "./db/commandEffects.js";
import { adminRouter } from "./http/adminApi.js";
import { appserviceRouter } from "./http/appserviceApi.js";
import { ErrCode, errorHandler, sendError } from "./http/errors.js";
import { healthRouter } from "./http/health.js";
import { calendarFeedRouter } from "./http/calendarFeedApi.js";
import { consultAdminRouter } from "./http/consultAdminApi.js";
import { contactsAdminRouter } from "./http/contactsAdminApi.js";
import { scheduleAdminRouter } from "./http/scheduleAdminApi.js";
import { TwilioWebhookReceipts } from "./http/twilioWebhookReceipts.js";
import { twilioWebhookRouter } from "./http/twilioWebhooks.js";
import { consultWidgetRoutes } from "./http/consultWidgetRoutes.js";
import { handoffWidgetRoutes } from "./http/handoffWidgetRoutes.js";
import { widgetApiApp } from "./http/widgetApi.js";
import { widgetFilesRouter, widgetUrl } from "./http/widgetFiles.js";
import { WidgetSessionStore } from "./http/widgetSessionStore.js";
import { WIDGET_API_PREFIX } from "./shared/widgetApiPaths.js";
import { dispatchTo } from "./inbox/dispatch.js";
import { InboxStore } from "./inbox/inboxStore.js";
import { InboxWorker } from "./inbox/inboxWorker.js";
import { createLogger, type Logger } from "./logging.js";
import { Metrics } from "./metrics.js";
import { OnCallService } from "./oncall/oncallService.js";
import { OnCallStore } from "./oncall/oncallStore.js";
import { CalendarFeeds } from "./oncall/calendarFeeds.js";
import { SwapService } from "./oncall/swapService.js";
import { SwapStore } from "./oncall/swapStore.js";
import { MatrixRoomWriter } from "./matrix/roomWriter.js";
import { ContactService } from "./paging/contactService.js";
import { ContactStore } from "./paging/contactStore.js";
import { PageService, TIMER_DELIVER, TIMER_ESCALATE, TIMER_SMS } from "./paging/pageService.js";
import { PageStore } from "./paging/pageStore.js";
import { ShiftChangeService } from "./paging/shiftChange.js";
import { ShiftWatchStore } from "./paging/shiftWatchStore.js";
import { TwilioSmsSender } from "./sms/twilioSms.js";
import { startShiftCron } from "./paging/shiftCron.js";
import { TimerStore, type TimerRow } from "./timers/timerStore.js";
import { TimerWorker } from "./timers/timerWorker.js";
import { AtRest } from "./shared/atRest.js";
import { ConfigError, loadConfig, type RoundsConfig } from "./shared/config.js";
import { homeserverPing, pingUntilUp } from "./matrix/appservicePing.js";
import { waitForHomeserver } from "./matrix/homeserverReady.js";

function perUrgency<T, U>(r: Record<"emergent" | "urgent" | "routine", T>, f: (v: T) => U): Record<"emergent" | "urgent" | "routine", U> {
  return { emergent: f(r.emergent), urgent: f(r.urgent), routine: f(r.routine) };
}

export interface RunningRounds {
  stop(): Promise<void>;
}

function listen(app: express.Express, port: number, host: string, key: string): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    // Express 5 hands a listen error to this callback instead of throwing it.
    const server = app.listen(port, host, (err?: NodeJS.ErrnoException) => {
      if (!err) return resolvePromise(server);
      reject(err.code === "EADDRINUSE" ? new ConfigError(key, `port ${port} on ${host} is already in use; stop what uses it or choose another port`) : err);
    });
  });
}

/** Starts the appservice, its inbox worker and the bots. Transactions are accepted from the first moment. */
export async function startRounds(config: RoundsConfig, log: Logger): Promise<RunningRounds> {
  // Compile the crypto WASM while the database opens, not after: start-up time is how late an
  // overdue escalation fires after a crash. The bots' initRustCrypto reuses the loaded module.
  const cryptoReady = initAsync().catch((err: unknown) => log.warn({ err: (err as Error).message }, "crypto WASM preload failed; the bots will load it"));
  const dataDir = resolve(config.dataDir);
  const db = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  const applied = await migrate(db);
  log.info({ applied, database: config.databaseUrl ? "postgres" : "pglite" }, "database ready");

  const metrics = new Metrics();
  const metricsServer = await listen(metrics.app(), config.metricsPort, config.bindAddress, "ROUNDS_METRICS_PORT");

  const inbox = new InboxStore(db);
  const oncall = new OnCallService(new OnCallStore(db));
  const devices = new BotDeviceStore(db);
  const newBotClient = (identity: typeof ONCALL_BOT) =>
    new BotClient({
      identity,
      homeserverUrl: config.homeserverUrl,
      serverName: config.serverName,
      asToken: config.registration.asToken,
      dataDir,
      storePassphrase: config.cryptoStorePassphrase,
      timelineEvents: config.botTimelineEvents,
      devices,
      log,
    });

  // Paging acts in Matrix as the on-call bot: its rooms, its DMs, its state events.
  const oncallClient = newBotClient(ONCALL_BOT);
  const atRest = new AtRest(config.cryptoStorePassphrase, "bot uploads");
  const rooms = new MatrixRoomWriter(oncallClient, db, atRest);
  const timers = new TimerStore(db);
  const timerWorker = new TimerWorker(timers, { pollMs: config.paging.timerPollMs }, log, metrics);
  const contacts = new ContactStore(db, config.paging.smsAfter);
  const contactService = new ContactService(contacts);
  const sms = config.twilio
    ? new TwilioSmsSender({
        accountSid: config.twilio.accountSid,
        authToken: config.twilio.authToken,
        from: config.twilio.from,
        statusCallbackUrl: `${config.publicUrl}/_rounds/twilio/status`,
        apiBaseUrl: config.twilio.apiUrl,
        log,
      })
    : null;
  if (!sms) log.warn("SMS fallback is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to turn it on");
  const pages = new PageService({
    store: new PageStore(db),
    oncall,
    timers,
    wakeTimers: () => timerWorker.wake(),
    rooms,
    notifier: rooms,
    contacts,
    sms,
    options: { delaysSeconds: config.paging.delaysSeconds, serverName: config.serverName },
    log,
    metrics,
  });
  const botStarted = new Map<string, Promise<void>>();
  /** A timer handler that first waits for the bot it acts through (see the start order below). */
  const after = (bot: string, handler: (t: TimerRow) => Promise<void>) => async (t: TimerRow) => {
    await botStarted.get(bot);
    await handler(t);
  };
  timerWorker.on(TIMER_ESCALATE, after(ONCALL_BOT.name, (t) => pages.onEscalationTimer(t)), { priority: 1 });
  timerWorker.on(TIMER_SMS, after(ONCALL_BOT.name, (t) => pages.onSmsTimer(t)));
  timerWorker.on(TIMER_DELIVER, after(ONCALL_BOT.name, (t) => pages.onDeliveryTimer(t)));
  // Consults act in Matrix as the consult bot: the consult rooms, their widgets and state.
  const consultClient = newBotClient(CONSULT_BOT);
  const consultRooms = new MatrixRoomWriter(consultClient, db, atRest);
  const consults = new ConsultService({
    store: new ConsultStore(db),
    oncall,
    timers,
    wakeTimers: () => timerWorker.wake(),
    rooms: consultRooms,
    notifier: consultRooms,
    options: {
      // The service counts in minutes; tests and eager deployments want seconds.
      acceptMinutes: perUrgency(config.consult.acceptSeconds, (s) => s / 60),
      expectedResponseMinutes: config.consult.expectedResponseMinutes,
      consultWidgetUrl: widgetUrl(config.publicUrl, "consult"),
      maxAttachmentBytes: config.consult.maxAttachmentBytes,
    },
    log,
    metrics,
  });
  timerWorker.on(TIMER_CONSULT_ACCEPT, after(CONSULT_BOT.name, (t) => consults.onAcceptDeadline(t)));
  timerWorker.on(TIMER_CONSULT_RESPOND, after(CONSULT_BOT.name, (t) => consults.onResponseDeadline(t)));
  timerWorker.on(TIMER_CONSULT_SETTLE, after(CONSULT_BOT.name, (t) => consults.onSettle(t)));
  // Handoffs act in Matrix as the handoff bot: the handoff rooms, their widgets and state.
  const handoffClient = newBotClient(HANDOFF_BOT);
  const handoffRooms = new MatrixRoomWriter(handoffClient, db, atRest);
  const handoffs = new HandoffService({
    store: new HandoffStore(db),
    oncall,
    timers,
    wakeTimers: () => timerWorker.wake(),
    rooms: handoffRooms,
    notifier: handoffRooms,
    userExists: (u) => handoffRooms.userExists(u),
    options: {
      deadlineMinutes: config.handoff.deadlineMinutes,
      escalateAfterMinutes: config.handoff.escalateAfterMinutes,
      handoffWidgetUrl: widgetUrl(config.publicUrl, "handoff"),
      unitWidgetUrl: widgetUrl(config.publicUrl, "handoffs"),
      botUserId: handoffClient.userId,
    },
    log,
    metrics,
  });
  timerWorker.on(TIMER_HANDOFF_DEADLINE, after(HANDOFF_BOT.name, (t) => handoffs.onDeadline(t)));
  timerWorker.on(TIMER_HANDOFF_ESCALATE, after(HANDOFF_BOT.name, (t) => handoffs.onEscalate(t)));
  timerWorker.on(TIMER_HANDOFF_REPORT, after(HANDOFF_BOT.name, (t) => handoffs.onReport(t)));
  timerWorker.on(TIMER_HANDOFF_SETTLE, after(HANDOFF_BOT.name, (t) => handoffs.onSettle(t)));
  timerWorker.on(TIMER_HANDOFF_TASK, after(HANDOFF_BOT.name, (t) => handoffs.onTaskDue(t)));
  const feeds = new CalendarFeeds(db, oncall);
  const shifts = new ShiftChangeService({ watch: new ShiftWatchStore(db), oncall, pages, notifier: rooms, fatigue: config.paging.fatigue, log });

  const botDefs = [
    {
      identity: ONCALL_BOT,
      client: oncallClient,
      commands: () => {
        const paging = pagingCommands(pages, contactService);
        const swaps = new SwapService(oncall, new SwapStore(db), rooms);
        const table = oncallCommands([...scheduleCommands(oncall, swaps), ...calendarCommands(feeds, config.publicUrl), ...paging.commands]);
        table.reactionHandler = paging.onReaction;
        return table;
      },
    },
    {
      identity: CONSULT_BOT,
      client: consultClient,
      commands: () => {
        const c = consultCommands(consults, consultRooms, { dashboardWidgetUrl: widgetUrl(config.publicUrl, "consults") });
        const table = consultCommandTable(c.commands);
        table.reactionHandler = c.onReaction;
        table.eventHandlers.set(c.onRequestEvent.type, c.onRequestEvent);
        return table;
      },
    },
    {
      identity: HANDOFF_BOT,
      client: handoffClient,
      commands: () => {
        const c = handoffCommands(handoffs, handoffRooms, { dashboardWidgetUrl: widgetUrl(config.publicUrl, "handoffs") });
        const table = handoffCommandTable(c.commands);
        for (const h of c.eventHandlers) table.eventHandlers.set(h.type, h);
        return table;
      },
    },
  ].filter((b) => config.bots.includes(b.identity.name));
  const bots = botDefs.map((def) => new Bot(def.client, def.commands(), { serverName: config.serverName, partnerServers: def.identity === CONSULT_BOT ? config.partnerServers : [], log, metrics }));
  const botUserIds = new Set(bots.map((b) => b.client.userId));
  let botsReady = false;

  const worker = new InboxWorker(inbox, dispatchTo(bots), config.inbox, log, metrics);
  const app = express();
  app.disable("x-powered-by");
  app.use(calendarFeedRouter({ feeds, log }));
  app.use(widgetFilesRouter({ dir: config.widgets.dir, log }));
  // The widget API needs the consult bot (memberships, the widgets' encrypted events): until it
  // runs, widgets are asked to retry.
  let widgetApi: express.Express | null = null;
  app.use(WIDGET_API_PREFIX, (req, res, next) => {
    if (!widgetApi) return sendError(res, ErrCode.Unavailable, "Rounds is starting; try again in a few seconds");
    // The sub-app routes on the full path.
    req.url = req.originalUrl;
    widgetApi(req, res, next);
  });
  app.use(healthRouter({ db, homeserverUrl: config.homeserverUrl, botsReady: () => botsReady }));
  if (config.adminToken) {
    app.use(scheduleAdminRouter({ adminToken: config.adminToken, oncall, log, userExists: (u) => rooms.userExists(u) }));
    app.use(adminRouter({ adminToken: config.adminToken, oncall, inbox, wakeInbox: () => worker.wake(), log }));
    app.use(contactsAdminRouter({ adminToken: config.adminToken, contacts: contactService, pages, timers, log }));
    app.use(consultAdminRouter({ adminToken: config.adminToken, consults }));
    app.use(handoffAdminRouter({ adminToken: config.adminToken, handoffs }));
  }
  app.use(
    appserviceRouter({
      hsToken: config.registration.hsToken,
      inbox,
      onCommitted: () => worker.wake(),
      isOurUser: (u) => botUserIds.has(u),
      log,
      metrics,
    }),
  );
  if (config.twilio) {
    // An SMS acknowledgement must be told in Matrix: until the bots can send, ask Twilio to retry.
    app.use("/_rounds/twilio", (_req, res, next) => (botsReady ? next() : sendError(res, ErrCode.Unavailable, "Rounds is starting; try again in a few seconds")));
    app.use(
      twilioWebhookRouter({
        authToken: config.twilio.authToken,
        publicBaseUrl: config.publicUrl,
        receipts: new TwilioWebhookReceipts(db),
        onInbound: (msg) => pages.onInboundSms(msg.from, msg.body),
        onStatus: (u) => pages.onSmsStatus(u.messageSid, u.status, u.errorCode),
        log,
      }),
    );
  }
  app.use(errorHandler(log));
  const server = await listen(app, config.appservicePort, config.bindAddress, "ROUNDS_APPSERVICE_PORT");
  log.info({ port: config.appservicePort }, "appservice listening");

  await waitForHomeserver(config.homeserverUrl, 120_000);
  // The ping only speeds up Synapse's resend of what it queued; nothing waits for its answer.
  let stopping = false;
  void pingUntilUp(homeserverPing(config.homeserverUrl, config.registration.id, config.registration.asToken), { log, stopped: () => stopping });
  await cryptoReady;
  // Bots start one after another, the on-call bot first: an overdue escalation after a crash needs
  // only that bot, and two crypto start-ups at once would slow both. Each workflow's timers wait
  // for their own bot, so the timers run from the start.
  let previous: Promise<void> = Promise.resolve();
  for (const [i, bot] of bots.entries()) {
    previous = previous.then(() => bot.client.start());
    botStarted.set(botDefs[i]!.identity.name, previous);
  }
  await timerWorker.start();
  await previous;
  for (const bot of bots) await bot.client.ensureIdentity();
  botsReady = true;
  if (config.bots.includes(CONSULT_BOT.name) || config.bots.includes(HANDOFF_BOT.name)) {
    const routes = [
      consultWidgetRoutes({
        consults,
        oncall,
        rooms: consultRooms,
        serverName: config.serverName,
        maxAttachmentBytes: config.consult.maxAttachmentBytes,
        expectedResponseMinutes: config.consult.expectedResponseMinutes,
      }),
    ];
    if (config.bots.includes(HANDOFF_BOT.name)) routes.push(handoffWidgetRoutes({ handoffs, rooms: handoffRooms, serverName: config.serverName }));
    widgetApi = await widgetApiApp({
      routes,
      sessions: new WidgetSessionStore(db),
      serverName: config.serverName,
      homeserverUrl: config.homeserverUrl,
      partnerServers: config.partnerServers,
      rateLimitPerMinute: config.widgets.rateLimitPerMinute,
      sessionSeconds: config.widgets.sessionSeconds,
      log,
    });
  }
  const shiftTask = config.bots.includes(ONCALL_BOT.name) ? startShiftCron(config.paging.shiftCheckCron, shifts, log) : null;
  const handoffTask = config.bots.includes(HANDOFF_BOT.name) ? startHandoffCron(config.handoff.shiftCron, handoffs, log) : null;
  if (config.inbox.paused) log.warn("inbox processing is paused (ROUNDS_INBOX_PAUSED=1): events are stored, not handled");
  else worker.start();
  const stopPruningEffects = pruneCommandEffects(db, log);
  log.info({ bots: [...botUserIds] }, "Rounds is running");

  return {
    async stop() {
      stopping = true;
      await shiftTask?.stop();
      await handoffTask?.stop();
      await timerWorker.stop();
      await worker.stop();
      stopPruningEffects();
      server.close();
      metricsServer.close();
      for (const bot of bots) await bot.client.stop();
      await db.destroy();
      log.info("Rounds stopped");
    },
  };
}

/**
 * Asks the homeserver to ping us. A successful ping makes Synapse resend at once whatever it
 * queued while we were down, instead of waiting out its retry backoff (up to minutes).
 */
/** Runs Rounds until SIGINT or SIGTERM; scripts/appservice.mjs calls it. */
export async function main(): Promise<void> {
  // Everything Rounds writes (PGlite, the bots' crypto stores) is its service account's alone.
  process.umask(0o077);
  let config: RoundsConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let running: RunningRounds;
  try {
    running = await startRounds(config, log);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const signal = await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
  log.info({ signal: String(signal) }, "shutting down");
  await running.stop();
  process.exit(0);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`Rounds failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
