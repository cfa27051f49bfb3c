/** The people calls' routes and limits, without the query validators (in peopleApi.ts). */

export const PeopleRoute = {
  people: "/v1/people",
  search: "/v1/people/search",
} as const;

/** At most this many ids per lookup: a screen shows a handful of people. */
export const MAX_PEOPLE_PER_LOOKUP = 50;
