import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { MAX_PEOPLE_PER_LOOKUP, PeopleRoute } from "../../appservice/shared/peopleApiTerms.js";
import type { PeopleResponse, PeopleSearchResponse, PersonView } from "../../appservice/shared/peopleApi.js";
import type { ApiSession } from "./apiSession.js";

/** The people calls of the Rounds widget API; components take this interface, so tests can fake it. */
export interface PeopleApi {
  people(userIds: string[]): Promise<PeopleResponse>;
  search(term: string, limit?: number): Promise<PeopleSearchResponse>;
}

export function httpPeopleApi(session: ApiSession): PeopleApi {
  return {
    people: (ids) => session.request("GET", `${PeopleRoute.people}?user_id=${ids.map(encodeURIComponent).join(",")}`),
    search: (term, limit = 10) => session.request("GET", `${PeopleRoute.search}?q=${encodeURIComponent(term)}&limit=${limit}`),
  };
}

const serverOf = (userId: string) => userId.slice(userId.indexOf(":") + 1);
const localpartOf = (userId: string) => userId.slice(1, userId.includes(":") ? userId.indexOf(":") : undefined);

/**
 * A person in words: "Lena Okafor, Cardiology on call". The server is added for someone of
 * another homeserver (a partner clinic), where the name alone could mislead. Without a known name,
 * the id itself, which at least is unambiguous.
 */
export function personLabel(userId: string, person: PersonView | undefined, ownServer: string | null): string {
  const remote = ownServer !== null && serverOf(userId) !== ownServer;
  if (!person) return userId;
  const name = person.display_name ?? localpartOf(userId);
  const roles = person.on_call.map((r) => `${r.service_name} on call`);
  return [`${name}${remote ? ` (${serverOf(userId)})` : ""}`, ...roles].join(", ");
}

/**
 * The people a widget has shown, fetched in batches: components ask for ids as they render, and
 * one call a tick fetches the new ones. A failed lookup leaves the ids shown as they are.
 */
export class PeopleCache {
  private readonly known = new Map<string, PersonView>();
  private readonly pending = new Set<string>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private flush: Promise<void> | null = null;

  constructor(
    readonly api: PeopleApi,
    /** The viewer's homeserver: people of another one show their server. */
    readonly ownServer: string | null,
    /** The client's own user-directory search, where Element grants it (MSC3973). */
    private readonly clientSearch?: (term: string, limit: number) => Promise<{ userId: string; displayName?: string | undefined }[]>,
  ) {}

  /**
   * People matching a term: through the client's directory search where granted (what the user
   * could find in Element), else Rounds' staff directory; either way with their on-call roles.
   */
  async search(term: string, limit = 10): Promise<PersonView[]> {
    if (!this.clientSearch) {
      const found = (await this.api.search(term, limit)).people;
      this.remember(found);
      return found;
    }
    const found = await this.clientSearch(term, limit);
    await this.ensure(found.map((r) => r.userId));
    return found.map((r) => this.known.get(r.userId) ?? { user_id: r.userId, display_name: r.displayName ?? null, on_call: [] });
  }

  get(userId: string): PersonView | undefined {
    return this.known.get(userId);
  }

  label(userId: string): string {
    return personLabel(userId, this.known.get(userId), this.ownServer);
  }

  /** Fetches the ids not asked for yet; resolves once they are known (or the lookup failed). */
  ensure(userIds: readonly string[]): Promise<void> {
    for (const u of userIds) if (!this.asked.has(u) && u.startsWith("@")) this.pending.add(u);
    if (this.pending.size === 0) return this.flush ?? Promise.resolve();
    this.flush ??= Promise.resolve().then(async () => {
      const ids = [...this.pending];
      this.pending.clear();
      this.flush = null;
      for (const u of ids) this.asked.add(u);
      try {
        for (let i = 0; i < ids.length; i += MAX_PEOPLE_PER_LOOKUP) this.remember((await this.api.people(ids.slice(i, i + MAX_PEOPLE_PER_LOOKUP))).people);
      } catch (err) {
        console.warn(`Rounds: could not look up names (${(err as Error).message})`);
      }
    });
    return this.flush;
  }

  /** People the widget learned otherwise (a directory search). */
  remember(people: readonly PersonView[]): void {
    for (const p of people) {
      this.known.set(p.user_id, p);
      this.asked.add(p.user_id);
    }
    if (people.length) for (const l of this.listeners) l();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const PeopleContext = createContext<PeopleCache | null>(null);

/** The directory, and a re-render whenever it learns someone. */
export function usePeople(userIds: readonly (string | null | undefined)[] = []): PeopleCache | null {
  const people = useContext(PeopleContext);
  const [, setVersion] = useState(0);
  const key = userIds.filter(Boolean).join(" ");
  useEffect(() => people?.subscribe(() => setVersion((v) => v + 1)), [people]);
  useEffect(() => {
    if (people && key) void people.ensure(key.split(" "));
  }, [people, key]);
  return people;
}

/** The label of one person, outside a component's JSX (a status line, an aria-label). */
export function usePersonLabel(userId: string): string {
  const people = usePeople([userId]);
  return people ? people.label(userId) : userId;
}

/** A person in words, with the Matrix id on hover for whoever needs to tell two people apart. */
export function Person({ id }: { id: string }) {
  const label = usePersonLabel(id);
  return (
    <span class="person" title={label === id ? undefined : id}>
      {label}
    </span>
  );
}

/** Several people in words, "A, B" (or joined as asked). */
export function People({ ids, joiner = ", " }: { ids: readonly string[]; joiner?: string }) {
  return (
    <>
      {ids.map((id, i) => (
        <span key={id}>
          {i > 0 && joiner}
          <Person id={id} />
        </span>
      ))}
    </>
  );
}
