/**
 * The widget API's people calls: who a Matrix id is, in words, and a search of the staff
 * directory. PHI-free: names, on-call roles and servers only. Every widget shows people through
 * these (widgets/lib/people.tsx), so a clinician reads "Lena Okafor, cardiology on call", not an id.
 */
import { z } from "zod";
import { matrixUserId } from "./events/index.js";
import { MAX_PEOPLE_PER_LOOKUP } from "./peopleApiTerms.js";
export * from "./peopleApiTerms.js";



export const PeopleQuery = z.object({
  user_id: z.preprocess(
    (v) => (typeof v === "string" ? v.split(",") : v),
    z.array(matrixUserId).min(1, "name at least one user_id").max(MAX_PEOPLE_PER_LOOKUP, `name at most ${MAX_PEOPLE_PER_LOOKUP} user_ids`),
  ),
});

export const PeopleSearchQuery = z.object({
  q: z.string().trim().min(2, "type at least 2 characters to search").max(100, "search with at most 100 characters"),
  limit: z.coerce.number().int().min(1).max(20).default(10),
});

export interface OnCallRole {
  service: string;
  service_name: string;
  /** The escalation level's name in that service's schedule, e.g. "primary". */
  level: string;
}

export interface PersonView {
  user_id: string;
  /** The name the person set on their account, or null if the homeserver gives none. */
  display_name: string | null;
  /** Where they are on call right now. */
  on_call: OnCallRole[];
}

export interface PeopleResponse {
  people: PersonView[];
}

export interface PeopleSearchResponse {
  people: PersonView[];
  /** More people matched than were returned. */
  limited: boolean;
}
