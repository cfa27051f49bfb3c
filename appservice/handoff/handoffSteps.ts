import { createHash } from "node:crypto";
import { ulid } from "ulid";
import { CommandEffects } from "../db/commandEffects.js";
import type { Db } from "../db/connect.js";
import { HandoffEventType, HandoffNoteContentSchema } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import { KeyedLock } from "../shared/keyedLock.js";
import type { SentEvent } from "./handoffActions.js";
import { TIMER_HANDOFF_SETTLE, type HandoffDeps } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import type { HandoffReadSide } from "./handoffReadSide.js";
import type { Handoff } from "./handoffStore.js";

const SETTLE_AFTER_MS = 30_000;

export type Note = { noteEventId: string } | { reason: string; txnKey: string };

/**
 * What every transition shares: the per-handoff lock that serialises them in process, the record
 * of which command made which transition, the settle timer that finishes one after a crash, the
 * room messages, and the checks of who may do what. One instance serves all the parts.
 */
export class HandoffSteps {
  readonly lock = new KeyedLock();

  /** Which command made which transition, so a retried command is told from someone else's. */
  readonly effects: CommandEffects;

  constructor(
    readonly deps: HandoffDeps,
    readonly read: HandoffReadSide,
    readonly now: () => Date,
  ) {
    this.effects = new CommandEffects(deps.store.db);
  }

  armSettle(id: string, trx: Db): Promise<void> {
    return this.deps.timers.schedule(TIMER_HANDOFF_SETTLE, id, ulid(), new Date(this.now().getTime() + SETTLE_AFTER_MS), trx);
  }

  async settled(id: string): Promise<void> {
    await this.deps.timers.cancelAll(TIMER_HANDOFF_SETTLE, id);
  }

  /** The state event and the settle timer once a transition's messages are out. */
  async finished(h: Handoff): Promise<void> {
    await this.read.mirror(h);
    await this.settled(h.id);
  }

  count(h: Handoff, transition: string): void {
    this.deps.metrics.handoffTransitions.inc({ unit: h.unitId, transition });
  }

  /** A message in the handoff room; a failure is logged, as the state and the widget still show the step. */
  async postInRoom(h: Handoff, message: { body: string; mentions?: string[]; notice?: boolean }, key: string): Promise<void> {
    if (!h.roomId) return;
    try {
      await this.deps.rooms.send(h.roomId, message, `handoff:${key}`);
    } catch (err) {
      this.deps.log.error({ handoff: h.id, err: (err as Error).message }, "handoff: could not post a message");
    }
  }

  /** Withdraws the sign-offs so far; an override goes with its sign-off (the audit log keeps it). */
  async withdrawSignOffs(id: string, trx: Db): Promise<number> {
    const n = await this.deps.store.clearSignOffs(id, trx);
    if (n) await this.deps.store.update(id, { overridden: false }, { trx });
    return n;
  }

  /** Whether this event was recorded for this handoff already (the same event delivered again). */
  async recordedHere(handoffId: string, eventId: string): Promise<boolean> {
    return (await this.deps.store.recordedFor(eventId)) === handoffId;
  }

  /** The same event delivered again (widget API and inbox, or a replay): answered quietly, whatever the handoff's status now. */
  async recordedBefore(actor: string, event: SentEvent, type: string): Promise<HandoffView | null> {
    // Only for its own sender and as it was: anything else naming the event is checked (and refused) as usual.
    if (event.sender !== actor || event.type !== type || !event.encrypted || typeof event.eventId !== "string") return null;
    const id = await this.deps.store.recordedFor(event.eventId);
    return id ? this.read.view(await this.read.load(id)) : null;
  }

  /** Closing the loop means the other clinician answers: an asker answering themselves would clear the gate unseen. */
  ownQuestion(h: Handoff, number: number, asker: string): HandoffError {
    const other = asker === h.outgoing ? h.incoming : h.outgoing;
    return new HandoffError("forbidden", `You asked Q${number}; ${other} answers it. If it no longer matters, ask them to answer so, or sign off with an override and a reason.`);
  }

  mustBeOutgoing(h: Handoff, actor: string): void {
    if (actor !== h.outgoing) throw new HandoffError("forbidden", `Only ${h.outgoing}, who hands over, can present or change patients on handoff #${h.number}.`);
  }

  mustBeIncoming(h: Handoff, actor: string, what: string): void {
    if (actor !== h.incoming) throw new HandoffError("forbidden", `Only ${h.incoming}, who takes over, can ${what} on handoff #${h.number}.`);
  }

  mustBeParticipant(h: Handoff, actor: string, what: string): void {
    if (actor !== h.outgoing && actor !== h.incoming) throw new HandoffError("forbidden", `Only ${h.outgoing} and ${h.incoming} can ${what} handoff #${h.number}.`);
  }

  /** The override, cancel or incident note: an encrypted note the widget sent, or the text posted by the bot. */
  async noteEvent(h: Handoff, actor: string, kind: "override" | "cancel" | "incident", note: Note): Promise<string> {
    if ("noteEventId" in note) {
      const ev = await this.deps.rooms.readEvent(h.roomId!, note.noteEventId);
      if (!ev) throw new HandoffError("not_found", "Rounds cannot read that note yet. Wait a moment and try again.");
      const parsed = HandoffNoteContentSchema.safeParse(ev.content);
      if (ev.type !== HandoffEventType.Note || ev.sender !== actor || !ev.encrypted || !parsed.success || parsed.data.kind !== kind || parsed.data.handoff_id !== h.id) {
        throw new HandoffError("invalid_input", `That event is not your encrypted ${kind} note on handoff #${h.number}.`);
      }
      if (kind === "override" && parsed.data.text.trim().length < 5) throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
      return note.noteEventId;
    }
    const text = note.reason.trim();
    if (kind === "override" && text.length < 5) throw new HandoffError("invalid_input", "Give the reason for the override (at least 5 characters).");
    if (!text) throw new HandoffError("invalid_input", "The note is empty.");
    return this.deps.rooms.sendEvent(h.roomId!, HandoffEventType.Note, { handoff_id: h.id, kind, text, by: actor, "m.relates_to": { rel_type: "m.reference", event_id: h.anchorEventId } }, `handoff:${note.txnKey}:note`);
  }
}

/** A part of the service that makes transitions: it reaches the dependencies and the read side through the shared steps. */
export abstract class HandoffPart {
  protected readonly deps: HandoffDeps;
  protected readonly read: HandoffReadSide;

  constructor(protected readonly steps: HandoffSteps) {
    this.deps = steps.deps;
    this.read = steps.read;
  }
}

export function parseContent<T extends { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }>(
  schema: T,
  content: unknown,
  what: string,
): Extract<ReturnType<T["safeParse"]>, { success: true }>["data"] {
  const r = schema.safeParse(content);
  if (r.success) return r.data as never;
  const problems = r.error.issues.map((i) => `${i.path.map(String).join(".") || what}: ${i.message}`).join("; ");
  throw new HandoffError("invalid_input", `The ${what} is incomplete (${problems}). Correct it and send it again.`);
}

/** A patient or task is named within its handoff; the handoff id (a ULID) holds no ":". */
export function effectKey(handoffId: string, id: string): string {
  return `${handoffId}:${id}`;
}

export function splitEffectKey(key: string): [string, string] {
  const i = key.indexOf(":");
  return i < 0 ? [key, ""] : [key.slice(0, i), key.slice(i + 1)];
}

export function entryIdFor(txnKey: string): string {
  return `e${createHash("sha256").update(txnKey).digest("base64url").slice(0, 25)}`;
}
