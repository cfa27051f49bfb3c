/**
 * What a workflow declares to join Rounds: one value per workflow folder, exported from its
 * index.ts and listed once in workflows.ts. main.ts, the config, the database, the widget API
 * and the widget build loop over the list; none of them names a workflow. The shape follows
 * hookshot's ConnectionDeclaration and Draupnir's describeProtection (see docs/adrs).
 */
import type { Router } from "express";
import type { Knex } from "knex";
import type { z } from "zod";
import type { Command, EventHandler, ReactionHandler } from "../bots/commands.js";
import type { Db } from "./db/connect.js";
import type { WidgetRoutes } from "./http/widgetApi.js";
import type { Logger } from "./logging.js";
import type { BotClient } from "./matrix/botClient.js";
import type { MatrixRoomWriter } from "./matrix/roomWriter.js";
import type { Metrics } from "./metrics.js";
import type { OnCallService } from "./oncall/oncallService.js";
import type { Pager } from "./ports/pager.js";
import type { CoreConfig } from "./shared/config.js";
import type { TimerRow, TimerStore } from "./timers/timerStore.js";

/** The bot a workflow acts through: `@rounds_<name>` on our server. */
export interface WorkflowBot {
  name: string;
  displayName: string;
  /** The first line of its !help. */
  intro: string;
  /** Whether clinicians of partner homeservers (ROUNDS_PARTNER_SERVERS) may use it. */
  federated?: boolean;
}

/**
 * A workflow's settings: its environment variables, validated with all the others at start-up
 * (a bad value names its key), then read into the workflow's own typed section.
 */
export interface WorkflowConfig<C> {
  env: z.ZodRawShape;
  /** `e` holds the parsed values of these keys and the core ones; throw ConfigError naming a key. */
  read(e: Record<string, unknown>, core: CoreConfig): C;
}

/** A durable timer's handler; `priority` orders timers due together (a backlog after a restart). */
export type TimerHandler = ((t: TimerRow) => Promise<void>) | { run(t: TimerRow): Promise<void>; priority: number };

/** A job started once the bots are ready, such as a cron; stopped with Rounds. */
export type BackgroundJob = () => { stop(): Promise<void> | void };

/** What Rounds gives a workflow to build with. Everything is already constructed and shared. */
export interface WorkflowDeps<C> {
  config: C;
  core: CoreConfig;
  db: Db;
  log: Logger;
  metrics: Metrics;
  /** This workflow's bot, and its view of Matrix: rooms, state, invites, widgets. */
  client: BotClient;
  rooms: MatrixRoomWriter;
  /** The on-call schedules every workflow routes by. */
  oncall: OnCallService;
  timers: TimerStore;
  wakeTimers(): void;
  /** The URL a bot installs for one of this workflow's widgets. */
  widgetUrl(widget: string): string;
  /** Whether the bots can act yet: a webhook answered before then is retried by its sender. */
  ready(): boolean;
  /** What other workflows provide (WorkflowParts.provides), looked up when used; null when that workflow does not run. */
  ports: { pager(): Pager | null };
}

/** A workflow as built: its service behind its adapters. Each part is optional. */
export interface WorkflowParts {
  commands?: Command[];
  reactionHandler?: ReactionHandler;
  eventHandlers?: EventHandler[];
  /** By timer kind; each kind belongs to one workflow. */
  timers?: Record<string, TimerHandler>;
  widgetRoutes?: WidgetRoutes;
  /** Routes behind the admin token; each router checks it with requireAdminToken. */
  adminRoutes?: (adminToken: string) => Router[];
  /** Public routes, such as a webhook that checks its own signature. */
  routes?: Router[];
  jobs?: BackgroundJob[];
  /** Ports this workflow offers the others (the paging engine offers the Pager). */
  provides?: { pager?: Pager };
}

/** What a workflow's CLI command is given: the command line and the running stack's admin API. */
export interface CliContext {
  /** The words after the command's own. */
  args: string[];
  options: Record<string, string | boolean | undefined>;
  /** Calls the Rounds admin API with the admin token; throws with the API's own message. */
  admin(path: string, init?: RequestInit): Promise<unknown>;
  /** A file's text; a file that cannot be read is a usage error. */
  readText(path: string): string;
  /** A mistake in how the command was typed: printed with the usage. */
  usageError(message: string): Error;
}

/** One `npm run rounds -- <words…>` command of a workflow, with its lines of the usage. */
export interface CliCommand {
  /** The words that name it, e.g. ["handoffs", "audit"]. */
  words: string[];
  /** Its lines in `rounds help`: the synopsis, then the description indented. */
  usage: string;
  /** The --options it takes, for the argument parser. */
  options?: Record<string, { type: "string" | "boolean" }>;
  run(ctx: CliContext): Promise<void>;
}

export interface WorkflowDeclaration<C = unknown> {
  name: string;
  bot: WorkflowBot;
  config: WorkflowConfig<C>;
  /** Numbered like every migration ("014_x"), so all of them run in one order by name. */
  migrations: Record<string, Knex.Migration>;
  /** The Element widgets it ships, one folder each under widgets/: served and built from here. */
  widgets: readonly string[];
  /**
   * The room state types its bot writes. In every room a Rounds bot creates, only the bots may
   * write these (power level 100), so a clinician cannot forge a workflow's state.
   */
  stateTypes: readonly string[];
  /**
   * Former names of renamed widgets (old → new). Rooms keep the URL a bot once pinned, so the
   * file server redirects the old folder to the new one.
   */
  renamedWidgets?: Readonly<Record<string, string>>;
  build(deps: WorkflowDeps<C>): WorkflowParts | Promise<WorkflowParts>;
  /** Its coordinator commands in the `rounds` CLI, loaded only by the CLI. */
  cli?: () => Promise<CliCommand[]>;
}

/** What every workflow service takes from Rounds, spread into its constructor's deps. */
export function serviceDeps<C>(deps: WorkflowDeps<C>) {
  const { oncall, timers, wakeTimers, rooms, log, metrics } = deps;
  return { oncall, timers, wakeTimers, rooms, notifier: rooms, log, metrics };
}

/** Keeps a declaration's config type while listing it beside others. */
export function defineWorkflow<C>(declaration: WorkflowDeclaration<C>): WorkflowDeclaration<C> {
  return declaration;
}
