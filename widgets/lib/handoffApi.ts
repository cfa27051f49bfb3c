import type { z } from "zod";
import { HandoffRoute } from "../../appservice/shared/handoffApiTerms.js";
import type { CancelHandoffBody, ChecklistBody, HandoffEventBody, HandoffMetricsResponse, HandoffResponse, HandoffRoomBody, IncidentBody, IncidentResponse, MyHandoffsResponse, OrderBody, SignOffBody, StartHandoffBody, UnitPeopleResponse, UnitsResponse } from "../../appservice/shared/handoffApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import type { ApiSession } from "./apiSession.js";

export type { IncidentResponse };

/** The handoff calls of the Rounds widget API. Components take this interface, so tests can fake it. */
export interface HandoffApi {
  units(): Promise<UnitsResponse>;
  unitPeople(unit: string): Promise<UnitPeopleResponse>;
  start(body: z.input<typeof StartHandoffBody>): Promise<HandoffResponse>;
  handoff(id: string, roomId: string): Promise<HandoffResponse>;
  items(id: string, body: z.input<typeof HandoffEventBody>): Promise<HandoffResponse>;
  removeItem(id: string, entryId: string, body: z.input<typeof HandoffRoomBody>): Promise<HandoffResponse>;
  order(id: string, body: z.input<typeof OrderBody>): Promise<HandoffResponse>;
  readBacks(id: string, body: z.input<typeof HandoffEventBody>): Promise<HandoffResponse>;
  questions(id: string, body: z.input<typeof HandoffEventBody>): Promise<HandoffResponse>;
  answers(id: string, body: z.input<typeof HandoffEventBody>): Promise<HandoffResponse>;
  checklist(id: string, body: z.input<typeof ChecklistBody>): Promise<HandoffResponse>;
  signOff(id: string, body: z.input<typeof SignOffBody>): Promise<HandoffResponse>;
  cancel(id: string, body: z.input<typeof CancelHandoffBody>): Promise<HandoffResponse>;
  incidents(id: string, body: z.input<typeof IncidentBody>): Promise<IncidentResponse>;
  mine(): Promise<MyHandoffsResponse>;
  metrics(): Promise<HandoffMetricsResponse>;
}

export function httpHandoffApi(session: ApiSession): HandoffApi {
  const get = <T>(path: string) => session.request<T>("GET", path);
  const post = <T>(path: string, body: unknown) => session.request<T>("POST", path, body);
  const act = (route: string) => (id: string, body: unknown) => post<HandoffResponse>(routePath(route, { id }), body);
  return {
    units: () => get(HandoffRoute.units),
    unitPeople: (unit) => get(routePath(HandoffRoute.unitPeople, { unit })),
    start: (body) => post(HandoffRoute.start, body),
    // A read names its room too: the server checks the caller is joined to it.
    handoff: (id, roomId) => get(`${routePath(HandoffRoute.handoff, { id })}?room_id=${encodeURIComponent(roomId)}`),
    items: act(HandoffRoute.items),
    removeItem: (id, entry, body) => post(routePath(HandoffRoute.removeItem, { id, entry }), body),
    order: act(HandoffRoute.order),
    readBacks: act(HandoffRoute.readBacks),
    questions: act(HandoffRoute.questions),
    answers: act(HandoffRoute.answers),
    checklist: act(HandoffRoute.checklist),
    signOff: act(HandoffRoute.signOff),
    cancel: act(HandoffRoute.cancel),
    incidents: (id, body) => post(routePath(HandoffRoute.incidents, { id }), body),
    mine: () => get(HandoffRoute.mine),
    metrics: () => get(HandoffRoute.metrics),
  };
}
