import { DomainError } from "../shared/domainError.js";
import { matrixUserId } from "../shared/events/index.js";
import { quote } from "../shared/quote.js";
import { DEFAULT_CONFLICT_WINDOW_DAYS, detectConflicts, newConflicts, type Conflict } from "./conflicts.js";
import { parseAbsencesCsv, parseOverridesCsv } from "./csvImport.js";
import type { EscalationPolicy } from "./escalationPolicy.js";
import { fairnessReport, type FairnessRow } from "./fairness.js";
import { calendarFor, type CalendarShift } from "./icalExport.js";
import type { NewOverride, OnCallStore, OverrideOrigin, StoredAbsence, StoredOverride } from "./oncallStore.js";
import { ScheduleConflictError, ScheduleNotFoundError, ScheduleRuleError } from "./scheduleErrors.js";
import { defaultEscalationPolicy, parseScheduleFile, type ScheduleImport } from "./scheduleFile.js";
import {
  isValidTimeZone,
  levelsOf,
  resolveOnCall,
  timeline,
  type Absence,
  type LevelAssignment,
  type ServiceSchedule,
  type TimelineInterval,
} from "./schedule.js";

/** No service answers to `query`; the message lists the known ones, so the next try can succeed. */
export class UnknownServiceError extends DomainError {
  constructor(
    readonly query: string,
    readonly known: { id: string; name: string }[],
  ) {
    super(
      "not_found",
      known.length
        ? `I don't know a service called "${quote(query)}". Known services: ${known.map((s) => `${s.id} (${s.name})`).join(", ")}.`
        : "No on-call services are set up yet. A coordinator can import a schedule with: npm run rounds -- schedule import <file.yaml>",
      "unknown_service",
      "oncall",
      { known },
    );
    this.message = `unknown service '${query}'`;
    this.name = "UnknownServiceError";
  }
}

export interface OnCallAnswer {
  service: { id: string; name: string; timezone: string };
  at: Date;
  levels: (LevelAssignment & { displayName: string })[];
}

export interface ShiftInfo {
  serviceId: string;
  serviceName: string;
  timezone: string;
  level: string;
  userId: string;
  source: "rotation" | "override";
  from: Date;
  until: Date;
}

export interface ImportResult {
  services: string[];
  clinicians: number;
  /** Conflicts saved anyway because the caller forced the import. */
  warnings: Conflict[];
}

export interface SaveOptions {
  force?: boolean;
}

const DAY_MS = 86_400_000;
/** Longest window a query may span, so a typo in a year cannot make the server compute for minutes. */
const MAX_WINDOW_DAYS = 400;

/** The on-call domain service: every question and change about on-call schedules goes through here. */
export class OnCallService {
  private readonly now: () => Date;
  private readonly windowDays: number;

  constructor(
    private readonly store: OnCallStore,
    opts: { now?: () => Date; conflictWindowDays?: number } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.windowDays = opts.conflictWindowDays ?? DEFAULT_CONFLICT_WINDOW_DAYS;
  }

  // --- schedule files --------------------------------------------------------------------

  /**
   * Validates the whole file first (ScheduleFileError lists every problem), then checks the
   * resulting schedule for conflicts over the conflict window; with conflicts it saves nothing
   * (ScheduleConflictError) unless forced, when they come back as warnings. All or nothing.
   */
  async importSchedule(yamlText: string, opts: SaveOptions = {}): Promise<ImportResult> {
    const data = parseScheduleFile(yamlText);
    const conflicts = await this.conflictsAfterImport(data);
    if (conflicts.length && !opts.force) throw new ScheduleConflictError(conflicts);
    await this.store.importSchedule(data);
    return { services: data.services.map((s) => s.id), clinicians: data.clinicians.length, warnings: conflicts };
  }

  /** A dry run of importSchedule: what it would import and the conflicts it would report. */
  async checkSchedule(yamlText: string): Promise<{ services: string[]; clinicians: number; conflicts: Conflict[] }> {
    const data = parseScheduleFile(yamlText);
    return { services: data.services.map((s) => s.id), clinicians: data.clinicians.length, conflicts: await this.conflictsAfterImport(data) };
  }

  /** The conflicts touching the imported services, as the schedule would be after the import. */
  private async conflictsAfterImport(data: ScheduleImport): Promise<Conflict[]> {
    const imported = new Set(data.services.map((s) => s.id));
    const stored = await this.store.loadSchedules();
    const schedules: ServiceSchedule[] = stored.filter((s) => !imported.has(s.id));
    for (const s of data.services) {
      const levels = new Set(s.rotations.map((r) => r.level));
      const kept = (stored.find((x) => x.id === s.id)?.overrides ?? []).filter(
        (o) => (o as StoredOverride).origin !== "file" && levels.has(o.level),
      );
      schedules.push({ ...s, overrides: [...s.overrides, ...kept] });
    }
    const { from, to } = this.window();
    // The file's absences replace the ones an earlier file brought; ones added by hand stay.
    const kept = await this.store.listAbsences({ from, to, exceptOrigin: "file" });
    return detectConflicts(schedules, [...kept, ...data.absences], from, to).filter(
      (c) => imported.has(c.serviceId) || (c.other && imported.has(c.other.serviceId)),
    );
  }

  // --- lookups ---------------------------------------------------------------------------

  listServices(): Promise<{ id: string; name: string; timezone: string }[]> {
    return this.store.listServices();
  }

  /** Looks a service up by id or name, case-insensitively. */
  async findService(query: string): Promise<{ id: string; name: string }> {
    const q = query.trim().toLowerCase();
    const services = await this.store.listServices();
    const hit = services.find((s) => s.id === q || s.name.toLowerCase() === q);
    if (!hit) throw new UnknownServiceError(query, services);
    return hit;
  }

  private async schedule(serviceQuery: string): Promise<ServiceSchedule> {
    const { id } = await this.findService(serviceQuery);
    const schedule = await this.store.loadSchedule(id);
    if (!schedule) throw new UnknownServiceError(serviceQuery, await this.store.listServices());
    return schedule;
  }

  /** The service's time zone, for adapters that read local times typed by people. */
  async serviceInfo(serviceQuery: string): Promise<{ id: string; name: string; timezone: string; levels: string[] }> {
    const s = await this.schedule(serviceQuery);
    return { id: s.id, name: s.name, timezone: s.timezone, levels: levelsOf(s).map((l) => l.level) };
  }

  async whoIsOnCall(serviceQuery: string, at: Date = new Date()): Promise<OnCallAnswer> {
    const schedule = await this.schedule(serviceQuery);
    const absences = await this.store.listAbsences({ from: new Date(at.getTime() - 60 * DAY_MS), to: new Date(at.getTime() + 60 * DAY_MS) });
    const levels = resolveOnCall(schedule, at, absences);
    const names = await this.store.displayNames(levels.map((l) => l.userId));
    return {
      service: { id: schedule.id, name: schedule.name, timezone: schedule.timezone },
      at,
      levels: levels.map((l) => ({ ...l, displayName: names.get(l.userId) ?? l.userId })),
    };
  }

  /** One service's timeline: who holds each level over [from, to), gaps as userId null. */
  async timeline(serviceId: string, from: Date, to: Date): Promise<(Omit<TimelineInterval, "serviceId" | "levelOrder">)[]> {
    checkWindow(from, to);
    const schedule = await this.schedule(serviceId);
    return timeline(schedule, await this.store.listAbsences({ from, to }), from, to).map(({ level, userId, source, from: f, until }) => ({
      level,
      userId,
      source,
      from: f,
      until,
    }));
  }

  /** Every contiguous assignment the user holds over [from, to), across services, by start time. */
  async shiftsFor(userId: string, from: Date, to: Date): Promise<ShiftInfo[]> {
    checkWindow(from, to);
    const schedules = await this.store.loadSchedules();
    const absences = await this.store.listAbsences({ from, to });
    const out: ShiftInfo[] = [];
    for (const s of schedules) {
      for (const iv of timeline(s, absences, from, to)) {
        if (iv.userId !== userId || !iv.source) continue;
        out.push({ serviceId: s.id, serviceName: s.name, timezone: s.timezone, level: iv.level, userId, source: iv.source, from: iv.from, until: iv.until });
      }
    }
    return out.sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  /** Who of `userIds` is on call at `at`, and where: the schedules are read once for all of them. */
  async onCallAt(userIds: readonly string[], at: Date): Promise<Map<string, ShiftInfo[]>> {
    const to = new Date(at.getTime() + 1);
    const schedules = await this.store.loadSchedules();
    const absences = await this.store.listAbsences({ from: at, to });
    const wanted = new Set(userIds);
    const out = new Map<string, ShiftInfo[]>();
    for (const s of schedules) {
      for (const iv of timeline(s, absences, at, to)) {
        const userId = iv.userId;
        if (!userId || !wanted.has(userId) || !iv.source) continue;
        const list = out.get(userId) ?? [];
        list.push({ serviceId: s.id, serviceName: s.name, timezone: s.timezone, level: iv.level, userId, source: iv.source, from: iv.from, until: iv.until });
        out.set(userId, list);
      }
    }
    return out;
  }

  /** Hours the user is on call over [from, to), across all services and levels. */
  async onCallHours(userId: string, from: Date, to: Date): Promise<number> {
    const shifts = await this.shiftsFor(userId, from, to);
    return shifts.reduce((h, s) => h + (s.until.getTime() - s.from.getTime()) / 3_600_000, 0);
  }

  async escalationPolicy(serviceId: string): Promise<EscalationPolicy> {
    const s = await this.schedule(serviceId);
    const meta = await this.store.serviceMeta(s.id);
    return meta?.escalation ?? defaultEscalationPolicy(levelsOf(s).map((l) => l.level));
  }

  /** The service's coordinators, then the schedule-wide ones, each once. */
  async coordinators(serviceId: string): Promise<string[]> {
    const { id } = await this.findService(serviceId);
    const meta = await this.store.serviceMeta(id);
    const global = await this.store.setting<string[]>("coordinators", []);
    return [...new Set([...(meta?.coordinators ?? []), ...global])];
  }

  async holidays(): Promise<string[]> {
    return this.store.setting<string[]>("holidays", []);
  }

  // --- conflicts and reports -------------------------------------------------------------

  /** The window conflicts are checked over: from now, `days` ahead (default 28). */
  window(days = this.windowDays): { from: Date; to: Date } {
    const from = this.now();
    return { from, to: new Date(from.getTime() + days * DAY_MS) };
  }

  async conflicts(opts: { days?: number; from?: Date; to?: Date } = {}): Promise<Conflict[]> {
    const w = this.window(opts.days);
    const from = opts.from ?? w.from;
    const to = opts.to ?? w.to;
    checkWindow(from, to);
    return detectConflicts(await this.store.loadSchedules(), await this.store.listAbsences({ from, to }), from, to);
  }

  async fairness(from: Date, to: Date): Promise<FairnessRow[]> {
    checkWindow(from, to);
    return fairnessReport(await this.store.loadSchedules(), await this.store.listAbsences({ from, to }), await this.holidays(), from, to);
  }

  // --- overrides -------------------------------------------------------------------------

  async listOverrides(filter: { serviceId?: string; from?: Date; to?: Date } = {}): Promise<StoredOverride[]> {
    const serviceIds = filter.serviceId ? [(await this.findService(filter.serviceId)).id] : undefined;
    return this.store.listOverrides({ serviceIds, from: filter.from, to: filter.to });
  }

  /** Adds one override (someone covers a slot). Refused with the conflicts it would cause unless forced. */
  async addOverride(o: NewOverride, opts: SaveOptions & { origin?: OverrideOrigin } = {}): Promise<{ id: number; warnings: Conflict[] }> {
    const r = await this.addOverrides([o], opts);
    return { id: r.ids[0]!, warnings: r.warnings };
  }

  /** Adds overrides all together or not at all, after checking the conflicts they introduce. */
  async addOverrides(list: NewOverride[], opts: SaveOptions & { origin?: OverrideOrigin } = {}): Promise<{ ids: number[]; warnings: Conflict[] }> {
    const schedules = await this.store.loadSchedules();
    const checked: NewOverride[] = [];
    for (const o of list) {
      const s = schedules.find((x) => x.id === o.serviceId);
      if (!s) throw new UnknownServiceError(o.serviceId, schedules);
      const levels = levelsOf(s).map((l) => l.level);
      if (!levels.includes(o.level)) throw new ScheduleRuleError(`'${o.level}' is not a level of ${s.name}; its levels are ${levels.join(", ")}.`);
      if (!matrixUserId.safeParse(o.userId).success) throw new ScheduleRuleError(`'${o.userId}' is not a Matrix user id; write it like @alice:example.org.`);
      if (!(o.endsAt > o.startsAt)) throw new ScheduleRuleError("The override must end after it starts.");
      if (o.reason && o.reason.length > 200) throw new ScheduleRuleError("Keep the reason short (200 characters at most), and leave patient details out of it.");
      checked.push(o);
    }
    const warnings = await this.introducedConflicts(
      schedules,
      (s) => ({ ...s, overrides: [...s.overrides, ...checked.filter((o) => o.serviceId === s.id)] }),
      [],
      span(checked),
    );
    if (warnings.length && !opts.force) throw new ScheduleConflictError(warnings);
    const ids = await this.store.addOverrides(checked, opts.origin ?? "admin");
    return { ids, warnings };
  }

  async removeOverride(id: number): Promise<void> {
    if (!(await this.store.removeOverride(id))) throw new ScheduleNotFoundError(`There is no override ${id}. List them with 'override list'.`);
  }

  async importOverridesCsv(csvText: string, opts: SaveOptions = {}): Promise<{ ids: number[]; warnings: Conflict[] }> {
    const schedules = await this.store.loadSchedules();
    const services = schedules.map((s) => ({ id: s.id, name: s.name, timezone: s.timezone, levels: levelsOf(s).map((l) => l.level) }));
    return this.addOverrides(parseOverridesCsv(csvText, services), opts);
  }

  // --- absences --------------------------------------------------------------------------

  listAbsences(filter: { userId?: string; from?: Date; to?: Date } = {}): Promise<StoredAbsence[]> {
    return this.store.listAbsences(filter);
  }

  async addAbsence(a: Absence, opts: SaveOptions = {}): Promise<{ id: number; warnings: Conflict[] }> {
    const r = await this.addAbsences([a], opts);
    return { id: r.ids[0]!, warnings: r.warnings };
  }

  /** Adds absence blocks; refused with the gaps and conflicts they cause unless forced. */
  async addAbsences(list: Absence[], opts: SaveOptions = {}): Promise<{ ids: number[]; warnings: Conflict[] }> {
    for (const a of list) {
      if (!matrixUserId.safeParse(a.userId).success) throw new ScheduleRuleError(`'${a.userId}' is not a Matrix user id; write it like @alice:example.org.`);
      if (!(a.endsAt > a.startsAt)) throw new ScheduleRuleError("The absence must end after it starts.");
      if (a.label && a.label.length > 60) throw new ScheduleRuleError('Keep the label short, such as "leave" or "course" (60 characters at most).');
    }
    const schedules = await this.store.loadSchedules();
    const warnings = await this.introducedConflicts(schedules, (s) => s, list, span(list));
    if (warnings.length && !opts.force) throw new ScheduleConflictError(warnings);
    const ids = await this.store.addAbsences(list, "admin");
    return { ids, warnings };
  }

  async removeAbsence(id: number): Promise<void> {
    if (!(await this.store.removeAbsence(id))) throw new ScheduleNotFoundError(`There is no absence ${id}. List them with 'absence list'.`);
  }

  /** Absence CSV times are local to `timezone`, by default the first service's zone. */
  async importAbsencesCsv(csvText: string, opts: SaveOptions & { timezone?: string } = {}): Promise<{ ids: number[]; warnings: Conflict[] }> {
    if (opts.timezone && !isValidTimeZone(opts.timezone)) throw new ScheduleRuleError(`'${opts.timezone}' is not a time zone; use one such as Europe/London.`);
    return this.addAbsences(parseAbsencesCsv(csvText, opts.timezone ?? (await this.defaultTimezone())), opts);
  }

  /** The zone for times that belong to no service (absences): the first service's, else UTC. */
  async defaultTimezone(): Promise<string> {
    return (await this.store.loadSchedules())[0]?.timezone ?? "UTC";
  }

  /** Conflicts that a change (to schedules and/or absences) adds over the span it touches. */
  private async introducedConflicts(
    schedules: ServiceSchedule[],
    change: (s: ServiceSchedule) => ServiceSchedule,
    addedAbsences: Absence[],
    window: { from: Date; to: Date },
  ): Promise<Conflict[]> {
    const absences = await this.store.listAbsences({ from: window.from, to: window.to });
    const before = detectConflicts(schedules, absences, window.from, window.to);
    const after = detectConflicts(schedules.map(change), [...absences, ...addedAbsences], window.from, window.to);
    return newConflicts(before, after);
  }

  // --- calendar export -------------------------------------------------------------------

  /** One clinician's shifts across every service over [from, to), as iCalendar text. */
  async icalForUser(userId: string, from: Date, to: Date): Promise<string> {
    const shifts = await this.shiftsFor(userId, from, to);
    return calendarFor(`On call: ${userId}`, shifts);
  }

  /** Every level of one service over [from, to), as iCalendar text; gaps are left out. */
  async icalForService(serviceId: string, from: Date, to: Date): Promise<string> {
    checkWindow(from, to);
    const s = await this.schedule(serviceId);
    const shifts: CalendarShift[] = timeline(s, await this.store.listAbsences({ from, to }), from, to)
      .filter((iv) => iv.userId)
      .map((iv) => ({ serviceId: s.id, serviceName: s.name, level: iv.level, userId: iv.userId!, from: iv.from, until: iv.until }));
    return calendarFor(`On call: ${s.name}`, shifts);
  }
}

function span(items: { startsAt: Date; endsAt: Date }[]): { from: Date; to: Date } {
  if (items.length === 0) return { from: new Date(0), to: new Date(1) };
  return {
    from: new Date(Math.min(...items.map((i) => i.startsAt.getTime()))),
    to: new Date(Math.max(...items.map((i) => i.endsAt.getTime()))),
  };
}

function checkWindow(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new ScheduleRuleError("The period needs a valid start and end.");
  if (!(to > from)) throw new ScheduleRuleError("The period must end after it starts.");
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) throw new ScheduleRuleError(`The period is too long: ${MAX_WINDOW_DAYS} days at most.`);
}
