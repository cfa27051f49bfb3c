import { resolveOnCall, type LevelAssignment } from "./schedule.js";
import type { OnCallStore } from "./oncallStore.js";
import { parseScheduleFile } from "./scheduleFile.js";

export class UnknownServiceError extends Error {
  constructor(
    readonly query: string,
    readonly known: { id: string; name: string }[],
  ) {
    super(`unknown service '${query}'`);
    this.name = "UnknownServiceError";
  }
}

export interface OnCallAnswer {
  service: { id: string; name: string; timezone: string };
  at: Date;
  levels: (LevelAssignment & { displayName: string })[];
}

/** The on-call domain service: every question about who is on call goes through here. */
export class OnCallService {
  constructor(private readonly store: OnCallStore) {}

  /** Validates the whole file first (ScheduleFileError lists every problem); imports all or nothing. */
  async importSchedule(yamlText: string): Promise<{ services: string[]; clinicians: number }> {
    const data = parseScheduleFile(yamlText);
    await this.store.importSchedule(data);
    return { services: data.services.map((s) => s.id), clinicians: data.clinicians.length };
  }

  listServices(): Promise<{ id: string; name: string }[]> {
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

  async whoIsOnCall(serviceQuery: string, at: Date = new Date()): Promise<OnCallAnswer> {
    const { id } = await this.findService(serviceQuery);
    const schedule = await this.store.loadSchedule(id);
    if (!schedule) throw new UnknownServiceError(serviceQuery, await this.store.listServices());
    const levels = resolveOnCall(schedule, at);
    const names = await this.store.displayNames(levels.map((l) => l.userId));
    return {
      service: { id: schedule.id, name: schedule.name, timezone: schedule.timezone },
      at,
      levels: levels.map((l) => ({ ...l, displayName: names.get(l.userId) ?? l.userId })),
    };
  }
}
