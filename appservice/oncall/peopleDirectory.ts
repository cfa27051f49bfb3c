import type { OnCallService } from "./oncallService.js";
import type { PersonView } from "../shared/peopleApi.js";

/** What the directory asks of the homeserver, through a bot. */
export interface PeopleSource {
  /** The user's display name, or null when they have none or the homeserver does not say. */
  displayName(userId: string): Promise<string | null>;
  /** The staff directory's matches for a term (search_all_users). */
  search(term: string, limit: number): Promise<{ results: { userId: string; displayName: string | null }[]; limited: boolean }>;
}

export interface PeopleDirectoryOptions {
  /** Users never listed: Rounds' own bots. */
  hidden: (userId: string) => boolean;
  /** How long a display name is reused before it is asked again. */
  nameTtlMs?: number;
  now?: () => number;
}

const NAME_TTL_MS = 5 * 60_000;

/**
 * Who a Matrix id is, in words: the display name from the homeserver and where the person is on
 * call now, from the schedules. Names are cached for a few minutes: a dashboard asks for the same
 * colleagues on every refresh, and a renamed account shows its new name soon enough.
 */
export class PeopleDirectory {
  private readonly names = new Map<string, { name: string | null; at: number }>();

  constructor(
    private readonly source: PeopleSource,
    private readonly oncall: OnCallService,
    private readonly options: PeopleDirectoryOptions,
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async nameOf(userId: string): Promise<string | null> {
    const known = this.names.get(userId);
    if (known && this.now() - known.at < (this.options.nameTtlMs ?? NAME_TTL_MS)) return known.name;
    const name = await this.source.displayName(userId);
    this.names.set(userId, { name, at: this.now() });
    return name;
  }

  private async withRoles(people: { userId: string; displayName: string | null }[]): Promise<PersonView[]> {
    const shifts = await this.oncall.onCallAt(people.map((p) => p.userId), new Date(this.now()));
    return people.map((p) => ({
      user_id: p.userId,
      display_name: p.displayName,
      on_call: (shifts.get(p.userId) ?? []).map((s) => ({ service: s.serviceId, service_name: s.serviceName, level: s.level })),
    }));
  }

  async lookup(userIds: readonly string[]): Promise<PersonView[]> {
    const unique = [...new Set(userIds)];
    return this.withRoles(await Promise.all(unique.map(async (userId) => ({ userId, displayName: await this.nameOf(userId) }))));
  }

  async search(term: string, limit: number): Promise<{ people: PersonView[]; limited: boolean }> {
    // One more than asked, so bots filtered out do not hide that there were more.
    const found = await this.source.search(term, limit + 1);
    const people = found.results.filter((r) => !this.options.hidden(r.userId));
    const shown = people.slice(0, limit);
    for (const p of shown) this.names.set(p.userId, { name: p.displayName, at: this.now() });
    return { people: await this.withRoles(shown), limited: found.limited || people.length > limit };
  }
}
