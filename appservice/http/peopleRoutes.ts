import type { PeopleDirectory } from "../oncall/peopleDirectory.js";
import { PeopleQuery, PeopleRoute, PeopleSearchQuery, type PeopleResponse, type PeopleSearchResponse } from "../shared/peopleApi.js";
import { parse, type WidgetRoutes } from "./widgetApi.js";

/**
 * Who people are, for every widget: names and on-call roles, never anything about a patient.
 * Any signed-in widget may ask, as any clinician can ask the on-call bot who is on call.
 */
export function peopleRoutes(directory: PeopleDirectory): WidgetRoutes {
  return (route) => {
    route("get", PeopleRoute.people, async (_userId, req): Promise<PeopleResponse> => {
      const q = parse(PeopleQuery, req.query);
      return { people: await directory.lookup(q.user_id) };
    });
    route("get", PeopleRoute.search, async (_userId, req): Promise<PeopleSearchResponse> => {
      const q = parse(PeopleSearchQuery, req.query);
      return directory.search(q.q, q.limit);
    });
  };
}
