import { DateTime } from "luxon";
import { BOT_PREFIX } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import { MINUTE_MS, type HandoffDeps, type OpenRequest } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import { shiftHandoffOpen, shiftReminder, time } from "./handoffMessages.js";
import type { Handoff } from "./handoffStore.js";
import { type HandoffUnit } from "./handoffUnitSchema.js";

/** A shift change is still acted on this long after it passed (a restart, a slow tick). */
const SHIFT_CATCH_UP_MS = 30 * MINUTE_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** How a shift change opens its handoff: the lifecycle, handed in so the two do not import each other. */
export interface HandoffOpener {
  open(p: OpenRequest): Promise<HandoffView>;
  /** Finishes opening a handoff a first attempt left part-way. */
  resume(h: Handoff): Promise<HandoffView>;
}

/** Scheduled handoffs: at each unit's shift change, the roster's outgoing clinician hands over to its incoming one. */
export class HandoffShiftChange {
  constructor(
    private readonly deps: HandoffDeps,
    private readonly opener: HandoffOpener,
    private readonly now: () => Date,
  ) {}

  /**
   * Starts the handoffs of every unit whose shift changed in the last half hour and was not handled
   * yet: the cron adapter ticks this each minute, and after a restart it catches up.
   */
  async checkShiftChanges(at: Date = this.now()): Promise<{ unit: string; shiftAt: Date; outcome: string }[]> {
    const out = [];
    for (const unit of await this.deps.store.units()) {
      for (const hhmm of unit.shift_times) {
        const shiftAt = lastOccurrence(hhmm, unit.timezone, at);
        if (at.getTime() - shiftAt.getTime() > SHIFT_CATCH_UP_MS) continue;
        const outcome = await this.onShiftChange(unit, shiftAt);
        if (outcome) out.push({ unit: unit.id, shiftAt, outcome });
      }
    }
    return out;
  }

  /** Once per unit and shift change: the roster's outgoing hands over to its incoming; without a roster, a reminder. */
  async onShiftChange(unit: HandoffUnit, shiftAt: Date): Promise<string | null> {
    const { store } = this.deps;
    if (!(await store.claimShiftChange(unit.id, shiftAt, "pending", this.now()))) return null;
    const hhmm = time(shiftAt, unit.timezone);
    let outcome = "reminded";
    try {
      const pair = unit.roster ? await rosterPair(this.deps, unit, shiftAt) : null;
      if (pair && pair.outgoing !== pair.incoming) {
        // A retried claim (the first attempt crashed or failed part-way) finishes the handoff it opened.
        const earlier = await store.openBetween(unit.id, pair.outgoing, pair.incoming);
        const v =
          earlier && earlier.scheduledFor?.getTime() === shiftAt.getTime()
            ? await this.opener.resume(earlier)
            : await this.opener.open({ unit, outgoing: pair.outgoing, incoming: pair.incoming, startedBy: this.deps.options.botUserId, sourceRoomId: unit.room_id ?? null, scheduledFor: shiftAt });
        outcome = `started:${v.number}`;
        if (unit.room_id) {
          const body = shiftHandoffOpen({ hhmm, number: v.number, outgoing: pair.outgoing, incoming: pair.incoming, mode: unit.mode, location: unit.location, deadline: new Date(v.deadline_ts), timezone: unit.timezone });
          await this.deps.rooms.send(unit.room_id, { body, mentions: [pair.outgoing, pair.incoming] }, `shift:${unit.id}:${shiftAt.getTime()}`);
        }
      } else if (unit.room_id) {
        await this.deps.rooms.send(unit.room_id, { body: shiftReminder(hhmm, unit.name, unit.mode), notice: false }, `shift:${unit.id}:${shiftAt.getTime()}`);
      }
    } catch (err) {
      outcome = err instanceof HandoffError ? `refused:${err.code}` : "failed";
      this.deps.log.warn({ unit: unit.id, shiftAt: shiftAt.toISOString(), err: (err as Error).message }, "handoff: scheduled handoff not started");
    }
    await store.setShiftOutcome(unit.id, shiftAt, outcome);
    return outcome;
  }
}

/**
 * Whom a clinician starting a handoff on the unit most likely means, for the widget's picker: the
 * roster's incoming and outgoing at the next shift change (or the one just passed), then the members of the unit's room
 * (shown only to one of them). Ids only; Rounds' bots and the viewer are left out.
 */
export async function peopleNear(deps: Pick<HandoffDeps, "oncall" | "rooms" | "log">, unit: HandoffUnit, viewer: string, at: Date): Promise<string[]> {
  const near: string[] = [];
  // The next shift change, or the one just passed: a handoff is often started just after it.
  const from = at.getTime() - SHIFT_CATCH_UP_MS;
  const next = unit.shift_times.map((hhmm) => lastOccurrence(hhmm, unit.timezone, new Date(from + DAY_MS))).sort((a, b) => a.getTime() - b.getTime())[0];
  if (unit.roster && next) {
    const pair = await rosterPair(deps, unit, next).catch((err: unknown) => {
      deps.log.warn({ unit: unit.id, err: (err as Error).message }, "handoff: could not read the roster's on-call for the picker");
      return null;
    });
    if (pair) near.push(pair.incoming, pair.outgoing);
  }
  if (unit.room_id && (await deps.rooms.membership(unit.room_id, viewer)) === "join") near.push(...(await deps.rooms.joinedMembers(unit.room_id)));
  return [...new Set(near)].filter((u) => u !== viewer && !u.startsWith(BOT_PREFIX));
}

/** Who held the unit's roster level just before the shift change, and who holds it just after. */
export async function rosterPair(deps: Pick<HandoffDeps, "oncall">, unit: HandoffUnit, shiftAt: Date): Promise<{ outgoing: string; incoming: string } | null> {
  const pick = async (at: Date) => {
    const { levels } = await deps.oncall.whoIsOnCall(unit.roster!.service, at);
    return (unit.roster!.level ? levels.find((l) => l.level === unit.roster!.level) : levels[0])?.userId ?? null;
  };
  const outgoing = await pick(new Date(shiftAt.getTime() - MINUTE_MS));
  const incoming = await pick(new Date(shiftAt.getTime() + MINUTE_MS));
  return outgoing && incoming ? { outgoing, incoming } : null;
}

/** The unit's charge role at `at`: the users it names, and whoever holds its on-call level. */
export async function chargeOf(deps: Pick<HandoffDeps, "oncall" | "log">, unit: HandoffUnit, at: Date): Promise<string[]> {
  const users = new Set(unit.charge?.users ?? []);
  if (unit.charge?.service) {
    try {
      const { levels } = await deps.oncall.whoIsOnCall(unit.charge.service, at);
      const l = unit.charge.level ? levels.find((x) => x.level === unit.charge!.level) : levels[0];
      if (l) users.add(l.userId);
    } catch (err) {
      deps.log.error({ unit: unit.id, err: (err as Error).message }, "handoff: could not resolve the charge role's on-call");
    }
  }
  return [...users];
}

/** The latest time `hh:mm` local to `zone` at or before `at`. */
export function lastOccurrence(hhmm: string, zone: string, at: Date): Date {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  const local = DateTime.fromJSDate(at, { zone });
  let candidate = local.set({ hour: h, minute: m, second: 0, millisecond: 0 });
  if (candidate > local) candidate = candidate.minus({ days: 1 });
  return candidate.toJSDate();
}
