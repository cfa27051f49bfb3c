import type { Logger } from "../logging.js";
import type { Notifier } from "../ports/notifier.js";
import type { PageService } from "./pageService.js";
import type { ShiftWatchStore } from "./shiftWatchStore.js";

/** What shift-change handling needs from the on-call side; OnCallService provides it. */
export interface ShiftDirectory {
  listServices(): Promise<{ id: string; name: string }[]>;
  whoIsOnCall(serviceQuery: string, at: Date): Promise<{ service: { id: string; name: string; timezone: string }; levels: { level: string; userId: string; from: Date; until: Date }[] }>;
  coordinators(serviceId: string): Promise<string[]>;
  onCallHours(userId: string, from: Date, to: Date): Promise<number>;
}

export interface FatigueRule {
  windowHours: number;
  limitHours: number;
}

/**
 * Shift change, run on a cron tick: compares who holds each level with who held it at the last
 * tick. On a change it tells the outgoing and incoming clinicians, hands the outgoing one's
 * open pages to the incoming one, and checks the incoming one's hours against the fatigue rule.
 * Each change is claimed with a guarded update, so it is announced once.
 */
export class ShiftChangeService {
  constructor(
    private readonly deps: { watch: ShiftWatchStore; oncall: ShiftDirectory; pages: PageService; notifier: Notifier; fatigue: FatigueRule; log: Logger },
  ) {}

  async check(now: Date = new Date()): Promise<{ changes: number }> {
    let changes = 0;
    for (const svc of await this.deps.oncall.listServices()) {
      try {
        changes += await this.checkService(svc.id, now);
      } catch (err) {
        // One service's failure must not hold up the others; this one is retried next tick.
        this.deps.log.error({ service: svc.id, err: (err as Error).message }, "shift change check failed for a service");
      }
    }
    return { changes };
  }

  private async checkService(serviceId: string, now: Date): Promise<number> {
    let changes = 0;
    const answer = await this.deps.oncall.whoIsOnCall(serviceId, now);
    const watched = await this.deps.watch.levels(serviceId);
    const levels = new Set([...answer.levels.map((l) => l.level), ...watched.map((w) => w.level)]);
    for (const level of levels) {
      const holder = answer.levels.find((l) => l.level === level) ?? null;
      const row = watched.find((w) => w.level === level);
      const current = holder?.userId ?? null;
      if (!row) {
        // First sight of this level: remember it; there is no hand-over to announce.
        await this.deps.watch.remember(serviceId, level, current, now);
        continue;
      }
      const previous = row.userId;
      if (previous === current) continue;
      // Announce first, then record: a failure or crash part-way is retried at the next tick, and
      // the messages are keyed by the change, so nobody is told twice.
      await this.announce(answer.service, level, previous, holder, row.since.getTime());
      if (await this.deps.watch.record(serviceId, level, previous, current, now)) changes++;
    }
    return changes;
  }

  private async announce(
    service: { id: string; name: string; timezone: string },
    level: string,
    previous: string | null,
    holder: { userId: string; from: Date; until: Date } | null,
    previousSince: number,
  ): Promise<void> {
    const { notifier, log } = this.deps;
    // The change is named by who held the level since when, and who holds it now.
    const key = `shift:${service.id}:${level}:${previous ?? "none"}@${previousSince}>${holder?.userId ?? "none"}`;
    const until = holder ? holder.until.toISOString().slice(0, 16).replace("T", " ") + " UTC" : "";
    log.info({ service: service.id, level, from: previous, to: holder?.userId ?? null }, "shift change");
    if (previous) {
      await notifier.tellUser(previous, `Your ${level} on-call for ${service.name} has ended; ${holder ? `${holder.userId} takes over` : "nobody is scheduled next (gap)"}.`, `${key}:out`);
    }
    if (holder) {
      await notifier.tellUser(holder.userId, `You are now ${level} on call for ${service.name} until ${until}${previous ? `, taking over from ${previous}` : ""}.`, `${key}:in`);
    } else {
      for (const c of await this.deps.oncall.coordinators(service.id)) {
        await notifier.tellUser(c, `Coverage gap: nobody is ${level} on call for ${service.name} from now on. Please fix the schedule.`, `${key}:gap:${c}`);
      }
    }
    if (previous && holder) await this.deps.pages.handOver(service.id, previous, holder.userId);
    if (holder) await this.checkFatigue(service, holder);
  }

  /** Hours on call in the rolling window that ends with the shift just started. */
  private async checkFatigue(service: { id: string; name: string }, holder: { userId: string; from: Date; until: Date }): Promise<void> {
    const { windowHours, limitHours } = this.deps.fatigue;
    const end = holder.until;
    const hours = await this.deps.oncall.onCallHours(holder.userId, new Date(end.getTime() - windowHours * 3600_000), end);
    if (hours <= limitHours) return;
    const shiftKey = `${service.id}:${holder.from.toISOString()}`;
    if (!(await this.deps.watch.claimFatigueAlert(holder.userId, shiftKey, hours))) return;
    this.deps.log.warn({ service: service.id, hours: Math.round(hours), limitHours }, "fatigue limit passed");
    for (const c of await this.deps.oncall.coordinators(service.id)) {
      await this.deps.notifier.tellUser(
        c,
        `Fatigue warning: ${holder.userId} will have been on call ${Math.round(hours)} h in the ${windowHours} h up to the end of their ${service.name} shift (limit ${limitHours} h). Consider relief cover.`,
        `fatigue:${holder.userId}:${shiftKey}:${c}`,
      );
    }
  }
}
