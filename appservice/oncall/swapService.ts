import { CommandEffects } from "../db/commandEffects.js";
import { matrixUserId } from "../shared/events/index.js";
import type { Notifier } from "../ports/notifier.js";
import { quote } from "../shared/quote.js";
import { formatLocal } from "./conflicts.js";
import type { OnCallService } from "./oncallService.js";
import { ScheduleNotFoundError, ScheduleRuleError } from "./scheduleErrors.js";
import type { SwapRequest, SwapStatus, SwapStore } from "./swapStore.js";

/**
 * Shift swaps and trades between clinicians. The requester asks a colleague to cover a slot they
 * hold (optionally taking one of the colleague's slots in return); only the colleague decides.
 * Accepting writes overrides, so the schedule itself shows who covers. Notifications name
 * services, levels and times only: never patients.
 */
export class SwapService {
  private readonly now: () => Date;

  /** Which command made which decision, so a retried command is told from someone else's. */
  private readonly effects: CommandEffects;

  constructor(
    private readonly oncall: OnCallService,
    private readonly store: SwapStore,
    private readonly notifier: Notifier,
    opts: { now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.effects = new CommandEffects(store.db);
  }

  /** `requestId`: the command's event id; the same request again finishes what it left undone (for each decision too). */
  async request(
    requester: string,
    counterpart: string,
    serviceQuery: string,
    level: string | undefined,
    from: Date,
    to: Date,
    returnSlot?: { returnFrom: Date; returnTo: Date },
    requestId?: string,
  ): Promise<SwapRequest> {
    const own = await this.effects.objectOf(requestId, "requested");
    if (own) return this.announceRequest((await this.store.get(Number(own)))!);
    if (!matrixUserId.safeParse(counterpart).success) throw new ScheduleRuleError(`'${quote(counterpart)}' is not a Matrix user id; write it like @bob:example.org.`);
    if (counterpart === requester) throw new ScheduleRuleError("You cannot swap with yourself; name the colleague who will cover.");
    if (!(to > from)) throw new ScheduleRuleError("The slot must end after it starts.");
    if (to <= this.now()) throw new ScheduleRuleError("That slot is already over; you can only swap a slot that has not ended.");
    const svc = await this.oncall.serviceInfo(serviceQuery);
    const heldLevel = await this.holdingLevel(svc, requester, level, from, to, "You");
    let ret: SwapRequest["returnSlot"] = null;
    if (returnSlot) {
      const { returnFrom, returnTo } = returnSlot;
      if (!(returnTo > returnFrom)) throw new ScheduleRuleError("The return slot must end after it starts.");
      ret = { level: await this.holdingLevel(svc, counterpart, undefined, returnFrom, returnTo, counterpart), from: returnFrom, until: returnTo };
    }
    const swap = await this.store.db.transaction(async (trx) => {
      const created = await this.store.create({ serviceId: svc.id, level: heldLevel, requester, counterpart, from, until: to, returnSlot: ret }, trx);
      await this.effects.record(requestId, String(created.id), "requested", trx);
      return created;
    });
    return this.announceRequest(swap);
  }

  private async announceRequest(swap: SwapRequest): Promise<SwapRequest> {
    const svc = await this.oncall.serviceInfo(swap.serviceId);
    const ret = swap.returnSlot;
    const tradeText = ret ? ` In return you would give them your ${svc.name} ${ret.level} ${this.span(ret.from, ret.until, svc.timezone)}.` : "";
    await this.tell(
      [swap.counterpart],
      `${swap.requester} asks you to cover ${svc.name} ${swap.level} ${this.span(swap.from, swap.until, svc.timezone)}.${tradeText} Reply !swap accept ${swap.id} or !swap decline ${swap.id}.`,
      `swap:${swap.id}:requested`,
    );
    return swap;
  }

  /** The counterpart accepts: they get an override for the slot (and the requester one for the return slot). */
  async accept(id: number, byUser: string, requestId?: string): Promise<SwapRequest> {
    const mine = await this.retried(id, requestId, "accepted");
    if (mine) return this.finishAccept(mine);
    const swap = await this.decidable(id, byUser, "accept");
    const svc = await this.oncall.serviceInfo(swap.serviceId);
    // The schedule may have changed since the request; the slots must still be held.
    await this.holdingLevel(svc, swap.requester, swap.level, swap.from, swap.until, swap.requester);
    if (swap.returnSlot) await this.holdingLevel(svc, swap.counterpart, swap.returnSlot.level, swap.returnSlot.from, swap.returnSlot.until, "You");
    if (!(await this.decide(id, "accepted", {}, requestId))) throw new ScheduleRuleError(`Swap ${id} was already decided.`);
    return this.finishAccept({ ...swap, status: "accepted" });
  }

  /** An accepted swap's overrides (unless written already, e.g. before a crash) and its messages. */
  private async finishAccept(swap: SwapRequest): Promise<SwapRequest> {
    const { id } = swap;
    const svc = await this.oncall.serviceInfo(swap.serviceId);
    let ids = swap.overrideIds;
    if (ids.length === 0) {
      const overrides = [
        { serviceId: svc.id, level: swap.level, userId: swap.counterpart, startsAt: swap.from, endsAt: swap.until, reason: `swap ${id}` },
        ...(swap.returnSlot
          ? [{ serviceId: svc.id, level: swap.returnSlot.level, userId: swap.requester, startsAt: swap.returnSlot.from, endsAt: swap.returnSlot.until, reason: `swap ${id}` }]
          : []),
      ];
      try {
        ({ ids } = await this.oncall.addOverrides(overrides, { origin: "swap" }));
      } catch (err) {
        // Nothing was written; the request stays open so it can be fixed and accepted again.
        await this.store.transition(id, "accepted", "requested");
        throw err;
      }
      await this.store.setOverrideIds(id, ids);
    }
    const text = `Swap ${id} accepted: ${swap.counterpart} covers ${svc.name} ${swap.level} for ${swap.requester} ${this.span(swap.from, swap.until, svc.timezone)}${
      swap.returnSlot ? `, and ${swap.requester} covers ${swap.returnSlot.level} ${this.span(swap.returnSlot.from, swap.returnSlot.until, svc.timezone)} in return` : ""
    }.`;
    await this.tell([swap.requester, ...(await this.oncall.coordinators(svc.id))], text, `swap:${id}:accepted`);
    return { ...swap, status: "accepted", overrideIds: ids };
  }

  async decline(id: number, byUser: string, reason?: string, requestId?: string): Promise<SwapRequest> {
    const mine = await this.retried(id, requestId, "declined");
    if (mine) return this.announceDecline(mine);
    const swap = await this.decidable(id, byUser, "decline");
    const why = reason?.trim() || null;
    if (why && why.length > 200) throw new ScheduleRuleError("Keep the reason short (200 characters at most).");
    if (!(await this.decide(id, "declined", { declineReason: why }, requestId))) throw new ScheduleRuleError(`Swap ${id} was already decided.`);
    return this.announceDecline({ ...swap, status: "declined", declineReason: why });
  }

  private async announceDecline(swap: SwapRequest): Promise<SwapRequest> {
    const svc = await this.oncall.serviceInfo(swap.serviceId);
    const why = swap.declineReason;
    const text = `Swap ${swap.id} declined: ${swap.counterpart} will not cover ${svc.name} ${swap.level} for ${swap.requester} ${this.span(swap.from, swap.until, svc.timezone)}${why ? ` (${why})` : ""}.`;
    await this.tell([swap.requester, ...(await this.oncall.coordinators(svc.id))], text, `swap:${swap.id}:declined`);
    return swap;
  }

  async cancel(id: number, byRequester: string, requestId?: string): Promise<SwapRequest> {
    const mine = await this.retried(id, requestId, "cancelled");
    if (mine) return this.announceCancel(mine);
    const swap = await this.store.get(id);
    if (!swap) throw new ScheduleNotFoundError(`There is no swap ${id}. See your open swaps with !swap list.`);
    if (swap.requester !== byRequester) throw new ScheduleRuleError(`Only ${swap.requester}, who asked for swap ${id}, can cancel it.`);
    if (!(await this.decide(id, "cancelled", {}, requestId))) throw new ScheduleRuleError(`Swap ${id} is already ${swap.status === "requested" ? "decided" : swap.status}; it cannot be cancelled.`);
    return this.announceCancel({ ...swap, status: "cancelled" });
  }

  private async announceCancel(swap: SwapRequest): Promise<SwapRequest> {
    const svc = await this.oncall.serviceInfo(swap.serviceId);
    await this.tell([swap.counterpart], `Swap ${swap.id} was cancelled by ${swap.requester}: nothing changes on ${svc.name} ${swap.level}.`, `swap:${swap.id}:cancelled`);
    return swap;
  }

  /** The swap as this request left it, if this request made `outcome` and the swap still stands so. */
  private async retried(id: number, requestId: string | undefined, outcome: SwapStatus): Promise<SwapRequest | null> {
    if (!(await this.effects.made(requestId, String(id), outcome))) return null;
    const swap = await this.store.get(id);
    return swap?.status === outcome ? swap : null;
  }

  /** Decides an open request, recording which request decided it in the same transaction. */
  private async decide(id: number, to: SwapStatus, fields: { declineReason?: string | null }, requestId: string | undefined): Promise<boolean> {
    return this.store.db.transaction(async (trx) => {
      if (!(await this.store.transition(id, "requested", to, fields, trx))) return false;
      await this.effects.record(requestId, String(id), to, trx);
      return true;
    });
  }

  listOpen(userId: string): Promise<SwapRequest[]> {
    return this.store.listOpen(userId);
  }

  get(id: number): Promise<SwapRequest | null> {
    return this.store.get(id);
  }

  private async decidable(id: number, byUser: string, verb: string): Promise<SwapRequest> {
    const swap = await this.store.get(id);
    if (!swap) throw new ScheduleNotFoundError(`There is no swap ${id}. See your open swaps with !swap list.`);
    if (swap.counterpart !== byUser) throw new ScheduleRuleError(`Only ${swap.counterpart}, who was asked to cover, can ${verb} swap ${id}.`);
    if (swap.status !== "requested") throw new ScheduleRuleError(`Swap ${id} is already ${swap.status}.`);
    return swap;
  }

  /**
   * The level `userId` holds for the whole of [from, to): the given one, or the first level they
   * hold at `from`. A clear error says what they actually hold otherwise.
   */
  private async holdingLevel(
    svc: { id: string; name: string; timezone: string; levels: string[] },
    userId: string,
    level: string | undefined,
    from: Date,
    to: Date,
    who: string,
  ): Promise<string> {
    if (level && !svc.levels.includes(level)) throw new ScheduleRuleError(`'${quote(level)}' is not a level of ${svc.name}; its levels are ${svc.levels.join(", ")}.`);
    const intervals = await this.oncall.timeline(svc.id, from, to);
    const candidates = level ? [level] : svc.levels.filter((l) => intervals.some((iv) => iv.level === l && iv.userId === userId && iv.from <= from));
    for (const l of candidates) {
      if (intervals.filter((iv) => iv.level === l).every((iv) => iv.userId === userId)) return l;
    }
    const held = intervals.filter((iv) => iv.userId === userId);
    const verbHold = who === "You" ? "are" : "is";
    const detail = held.length
      ? ` ${who === "You" ? "You hold" : `${who} holds`} ${held.map((iv) => `${iv.level} ${this.span(iv.from, iv.until, svc.timezone)}`).join("; ")}.`
      : "";
    throw new ScheduleRuleError(
      `${who} ${verbHold} not on call for ${svc.name}${level ? ` ${level}` : ""} for the whole of ${this.span(from, to, svc.timezone)}, so it cannot be swapped.${detail} Check with !myshifts.`,
    );
  }

  private span(from: Date, until: Date, timezone: string): string {
    return `from ${formatLocal(from, timezone)} to ${formatLocal(until, timezone)} (${timezone})`;
  }

  /** Keyed per recipient, so a retry tells each person once. */
  private async tell(userIds: string[], text: string, key: string): Promise<void> {
    for (const u of new Set(userIds)) await this.notifier.tellUser(u, text, `${key}:${u}`);
  }
}
