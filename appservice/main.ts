import { once } from "node:events";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";
import express from "express";
import { Bot } from "../bots/bot.js";
import { CommandTable } from "../bots/commands.js";
import { pruneCommandEffects } from "./db/commandEffects.js";
import { migrate, openDatabase } from "./db/connect.js";
import { adminRouter } from "./http/adminApi.js";
import { appserviceRouter } from "./http/appserviceApi.js";
import { calendarFeedRouter } from "./http/calendarFeedApi.js";
import { ErrCode, errorHandler, sendError } from "./http/errors.js";
import { healthRouter } from "./http/health.js";
import { peopleRoutes } from "./http/peopleRoutes.js";
import { scheduleAdminRouter } from "./http/scheduleAdminApi.js";
import { widgetApiApp, type WidgetRoutes } from "./http/widgetApi.js";
import { widgetFilesRouter, widgetUrl } from "./http/widgetFiles.js";
import { WidgetSessionStore } from "./http/widgetSessionStore.js";
import { dispatchTo } from "./inbox/dispatch.js";
import { InboxStore } from "./inbox/inboxStore.js";
import { InboxWorker } from "./inbox/inboxWorker.js";
import { createLogger, type Logger } from "./logging.js";
import { homeserverPing, pingUntilUp } from "./matrix/appservicePing.js";
import { BotClient } from "./matrix/botClient.js";
import { BotDeviceStore } from "./matrix/botDeviceStore.js";
import { waitForHomeserver } from "./matrix/homeserverReady.js";
import { MatrixRoomWriter } from "./matrix/roomWriter.js";
import { Metrics } from "./metrics.js";
import { CalendarFeeds } from "./oncall/calendarFeeds.js";
import { OnCallService } from "./oncall/oncallService.js";
import { OnCallStore } from "./oncall/oncallStore.js";
import { PeopleDirectory } from "./oncall/peopleDirectory.js";
import { AtRest } from "./shared/atRest.js";
import { ConfigError, loadConfig, type RoundsConfig } from "./shared/config.js";
import { BOT_PREFIX } from "./shared/events/index.js";
import { WIDGET_API_PREFIX } from "./shared/widgetApiPaths.js";
import { TimerStore, type TimerRow } from "./timers/timerStore.js";
import { TimerWorker } from "./timers/timerWorker.js";
import type { Pager } from "./ports/pager.js";
import type { BackgroundJob, WorkflowDeclaration, WorkflowParts } from "./workflow.js";
import { configSections, renamedWidgets, widgetNames, WORKFLOWS } from "./workflows.js";

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
export async function startRounds(config: RoundsConfig, log: Logger, workflows: readonly WorkflowDeclaration[] = WORKFLOWS): Promise<RunningRounds> {
  // Compile the crypto WASM while the database opens, not after: start-up time is how late an
  // overdue escalation fires after a crash. The bots' initRustCrypto reuses the loaded module.
  const cryptoReady = initAsync().catch((err: unknown) => log.warn({ err: (err as Error).message }, "crypto WASM preload failed; the bots will load it"));
  const dataDir = resolve(config.dataDir);
  const db = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  // Every workflow's tables, whichever bots run: the schema does not depend on ROUNDS_BOTS.
  const applied = await migrate(db, workflows.map((w) => w.migrations));
  log.info({ applied, database: config.databaseUrl ? "postgres" : "pglite" }, "database ready");

  const metrics = new Metrics();
  const metricsServer = await listen(metrics.app(), config.metricsPort, config.bindAddress, "ROUNDS_METRICS_PORT");

  const inbox = new InboxStore(db);
  const oncall = new OnCallService(new OnCallStore(db));
  const devices = new BotDeviceStore(db);
  const atRest = new AtRest(config.cryptoStorePassphrase, "bot uploads");
  const timers = new TimerStore(db);
  const timerWorker = new TimerWorker(timers, { pollMs: config.timerPollMs }, log, metrics);
  let botsReady = false;

  const botStarted = new Map<string, Promise<void>>();
  /** A timer handler that first waits for the bot it acts through (see the start order below). */
  const after = (bot: string, handler: (t: TimerRow) => Promise<void>) => async (t: TimerRow) => {
    await botStarted.get(bot);
    await handler(t);
  };

  // Every registered workflow's state, running or not, is the bots' alone in the rooms they create.
  const botOnlyStateTypes = workflows.flatMap((w) => w.stateTypes);
  // Each running workflow, built on its own bot. A workflow whose bot is not in ROUNDS_BOTS is not built.
  const running: { declaration: WorkflowDeclaration; client: BotClient; rooms: MatrixRoomWriter; parts: WorkflowParts }[] = [];
  // Ports one workflow provides and others use, looked up when used (so build order does not matter).
  let pager: Pager | null = null;
  for (const declaration of workflows.filter((w) => config.bots.includes(w.bot.name))) {
    const client = new BotClient({
      identity: declaration.bot,
      homeserverUrl: config.homeserverUrl,
      serverName: config.serverName,
      asToken: config.registration.asToken,
      dataDir,
      storePassphrase: config.cryptoStorePassphrase,
      timelineEvents: config.botTimelineEvents,
      devices,
      log,
    });
    const rooms = new MatrixRoomWriter(client, db, atRest, botOnlyStateTypes);
    const parts = await declaration.build({
      config: config.workflows[declaration.name],
      core: config,
      db,
      log,
      metrics,
      client,
      rooms,
      oncall,
      timers,
      wakeTimers: () => timerWorker.wake(),
      widgetUrl: (widget) => widgetUrl(config.publicUrl, widget),
      ready: () => botsReady,
      ports: { pager: () => pager },
    });
    pager = parts.provides?.pager ?? pager;
    for (const [kind, handler] of Object.entries(parts.timers ?? {})) {
      const run = typeof handler === "function" ? handler : handler.run;
      timerWorker.on(kind, after(declaration.bot.name, run), typeof handler === "function" ? {} : { priority: handler.priority });
    }
    running.push({ declaration, client, rooms, parts });
  }

  const bots = running.map(({ declaration, client, parts }) => {
    const table = CommandTable.forBot(declaration.bot, parts.commands ?? []);
    table.reactionHandler = parts.reactionHandler ?? null;
    for (const h of parts.eventHandlers ?? []) table.eventHandlers.set(h.type, h);
    return new Bot(client, table, { serverName: config.serverName, partnerServers: declaration.bot.federated ? config.partnerServers : [], log, metrics });
  });
  const botUserIds = new Set(bots.map((b) => b.client.userId));
  // Schedules and calendars are the core's: every workflow routes by them, and coordinators
  // manage them whichever bots run. Room writes for the core (user checks) go through the first bot.
  const coreRooms = running[0]?.rooms;

  const worker = new InboxWorker(inbox, dispatchTo(bots), config.inbox, log, metrics);
  const app = express();
  app.disable("x-powered-by");
  app.use(calendarFeedRouter({ feeds: new CalendarFeeds(db, oncall), log }));
  app.use(widgetFilesRouter({ dir: config.widgets.dir, widgets: widgetNames(workflows), renamed: renamedWidgets(workflows), log }));
  // The widget API acts through the workflows' bots (memberships, the widgets' encrypted
  // events): until they run, widgets are asked to retry.
  let widgetApi: express.Express | null = null;
  app.use(WIDGET_API_PREFIX, (req, res, next) => {
    if (!widgetApi) return sendError(res, ErrCode.Unavailable, "Rounds is starting; try again in a few seconds");
    // The sub-app routes on the full path.
    req.url = req.originalUrl;
    widgetApi(req, res, next);
  });
  app.use(healthRouter({ db, homeserverUrl: config.homeserverUrl, botsReady: () => botsReady }));
  if (config.adminToken) {
    const adminToken = config.adminToken;
    app.use(scheduleAdminRouter({ adminToken, oncall, log, userExists: coreRooms ? (u) => coreRooms.userExists(u) : undefined }));
    app.use(adminRouter({ adminToken, oncall, inbox, wakeInbox: () => worker.wake(), log }));
    for (const { parts } of running) for (const router of parts.adminRoutes?.(adminToken) ?? []) app.use(router);
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
  for (const { parts } of running) for (const router of parts.routes ?? []) app.use(router);
  app.use(errorHandler(log));
  const server = await listen(app, config.appservicePort, config.bindAddress, "ROUNDS_APPSERVICE_PORT");
  log.info({ port: config.appservicePort }, "appservice listening");

  await waitForHomeserver(config.homeserverUrl, 120_000);
  // The ping only speeds up Synapse's resend of what it queued; nothing waits for its answer.
  let stopping = false;
  void pingUntilUp(homeserverPing(config.homeserverUrl, config.registration.id, config.registration.asToken), { log, stopped: () => stopping });
  await cryptoReady;
  // Bots start one after another, in the registry's order (the on-call bot first: an overdue
  // escalation after a crash needs only that bot), and two crypto start-ups at once would slow
  // both. Each workflow's timers wait for their own bot, so the timers run from the start.
  let previous: Promise<void> = Promise.resolve();
  for (const { declaration, client } of running) {
    previous = previous.then(() => client.start());
    botStarted.set(declaration.bot.name, previous);
  }
  await timerWorker.start();
  await previous;
  for (const bot of bots) await bot.client.ensureIdentity();
  botsReady = true;
  const widgetRoutes = running.map(({ parts }) => parts.widgetRoutes).filter((r): r is WidgetRoutes => r !== undefined);
  if (widgetRoutes.length) {
    // Who people are, for every widget, asked of the homeserver through the first bot.
    const directory = new PeopleDirectory(
      { displayName: (u) => running[0]!.client.displayName(u), search: (t, n) => running[0]!.client.searchDirectory(t, n) },
      oncall,
      { hidden: (u) => u.startsWith(BOT_PREFIX) },
    );
    widgetRoutes.unshift(peopleRoutes(directory));
    widgetApi = await widgetApiApp({
      routes: widgetRoutes,
      sessions: new WidgetSessionStore(db),
      serverName: config.serverName,
      homeserverUrl: config.homeserverUrl,
      partnerServers: config.partnerServers,
      rateLimitPerMinute: config.widgets.rateLimitPerMinute,
      sessionSeconds: config.widgets.sessionSeconds,
      log,
    });
  }
  const jobs = running.flatMap(({ parts }) => parts.jobs ?? []).map((start: BackgroundJob) => start());
  if (config.inbox.paused) log.warn("inbox processing is paused (ROUNDS_INBOX_PAUSED=1): events are stored, not handled");
  else worker.start();
  const stopPruningEffects = pruneCommandEffects(db, log);
  log.info({ bots: [...botUserIds] }, "Rounds is running");

  return {
    async stop() {
      stopping = true;
      for (const job of jobs) await job.stop();
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

/** Runs Rounds until SIGINT or SIGTERM; scripts/appservice.mjs calls it. */
export async function main(): Promise<void> {
  // Everything Rounds writes (PGlite, the bots' crypto stores) is its service account's alone.
  process.umask(0o077);
  let config: RoundsConfig;
  try {
    config = loadConfig(process.env, configSections(WORKFLOWS));
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
