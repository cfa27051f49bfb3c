import type { Logger } from "../logging.js";
import type { Notifier } from "../ports/notifier.js";
import type { RoomWriter } from "../ports/roomWriter.js";
import type { TimerStore } from "../timers/timerStore.js";
import type { HandoffMetrics } from "./handoffMetrics.js";
import type { HandoffStore } from "./handoffStore.js";
import { type HandoffUnit } from "./handoffUnitSchema.js";

export const TIMER_HANDOFF_DEADLINE = "handoff.deadline";
export const TIMER_HANDOFF_ESCALATE = "handoff.escalate";
/** Armed in the completing transaction and due at once: the report is written even after a crash. */
export const TIMER_HANDOFF_REPORT = "handoff.report";
/** Armed with each transition and cancelled once its state is out; finishes it after a crash. */
export const TIMER_HANDOFF_SETTLE = "handoff.settle";
/** A transferred task's due time: the owner is reminded in the handoff room. */
export const TIMER_HANDOFF_TASK = "handoff.task";
export const MINUTE_MS = 60_000;

export interface HandoffOptions {
  /** Default minutes to sign off, for units that set none. */
  deadlineMinutes: number;
  /** Default minutes after the reminder before the charge role is told. */
  escalateAfterMinutes: number;
  handoffWidgetUrl: string;
  unitWidgetUrl: string;
  /** The handoff bot's own user id: events it sent for text-only clients are trusted. */
  botUserId: string;
}

/** Who holds a schedule service's levels: the on-call resolver, for rosters and charge roles. */
export interface HandoffDirectory {
  whoIsOnCall(service: string, at: Date): Promise<{ levels: { level: string; userId: string }[] }>;
}

/** What the handoff service is given; every part of it shares these. */
export interface HandoffDeps {
  store: HandoffStore;
  oncall: HandoffDirectory;
  timers: TimerStore;
  wakeTimers(): void;
  rooms: RoomWriter;
  notifier: Notifier;
  /** Whether the homeserver knows the user; refuses handoffs to mistyped ids. */
  userExists(userId: string): Promise<boolean>;
  options: HandoffOptions;
  log: Logger;
  metrics: HandoffMetrics;
  now?: () => Date;
}

/** What opening a handoff needs; `requestId` names the command that asked for it, if any. */
export type OpenRequest = { unit: HandoffUnit; outgoing: string; incoming: string; startedBy: string; sourceRoomId: string | null; scheduledFor: Date | null; requestId?: string };
