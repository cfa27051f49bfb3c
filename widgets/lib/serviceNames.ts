import { useEffect, useState } from "preact/hooks";
import type { ConsultApi } from "./consultApi.js";

const loaded = new WeakMap<object, Promise<ReadonlyMap<string, { name: string; timezone: string }>>>();

/**
 * The services' names by id ("cardiology" → "Cardiology"), read once per API client: consults
 * name their service by id, and a clinician reads the name. Until loaded, or if the read fails,
 * the id is shown.
 */
export function useServiceNames(api: Pick<ConsultApi, "services">): (id: string) => string {
  const services = useServices(api);
  return (id) => services?.get(id)?.name ?? id;
}

/** The services by id, with their names and time zones; null until loaded. */
export function useServices(api: Pick<ConsultApi, "services">): ReadonlyMap<string, { name: string; timezone: string }> | null {
  const [names, setNames] = useState<ReadonlyMap<string, { name: string; timezone: string }> | null>(null);
  useEffect(() => {
    let current = true;
    let p = loaded.get(api);
    if (!p) {
      p = api.services().then(
        (r) => new Map(r.services.map((s) => [s.id, { name: s.name, timezone: s.timezone }])),
        () => new Map<string, { name: string; timezone: string }>(),
      );
      loaded.set(api, p);
    }
    void p.then((m) => current && setNames(m));
    return () => {
      current = false;
    };
  }, [api]);
  return names;
}
