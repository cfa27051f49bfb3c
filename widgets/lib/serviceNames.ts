import { useEffect, useState } from "preact/hooks";
import type { ConsultApi } from "./consultApi.js";
import { knownZone } from "./zone.js";

type ServiceInfo = { name: string; timezone: string };
const loaded = new WeakMap<object, Promise<ReadonlyMap<string, ServiceInfo>>>();

/** What a widget shows of a service it knows only by id. */
export interface Services {
  /** "cardiology" → "Cardiology"; the id itself until loaded, or if the read failed. */
  name(id: string): string;
  /** The service's time zone (IANA), for its times; undefined (the device's) until loaded, or if the runtime does not know it. */
  zone(id: string): string | undefined;
}

/**
 * The services' names and time zones, read once per API client: consults name their service by
 * id, and a clinician reads the name and the service's local time.
 */
export function useServices(api: Pick<ConsultApi, "services">): Services {
  const [known, setKnown] = useState<ReadonlyMap<string, ServiceInfo> | null>(null);
  useEffect(() => {
    let current = true;
    let p = loaded.get(api);
    if (!p) {
      p = api.services().then(
        (r) => new Map(r.services.map((s) => [s.id, { name: s.name, timezone: s.timezone }])),
        () => new Map<string, ServiceInfo>(),
      );
      loaded.set(api, p);
    }
    void p.then((m) => current && setKnown(m));
    return () => {
      current = false;
    };
  }, [api]);
  return { name: (id) => known?.get(id)?.name ?? id, zone: (id) => knownZone(known?.get(id)?.timezone) };
}
