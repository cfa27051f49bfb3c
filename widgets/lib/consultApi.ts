import type { z } from "zod";
import { WidgetRoute } from "../../appservice/shared/consultWidgetApiTerms.js";
import type { AcceptBody, CancelBody, CompleteBody, ConsultResponse, CreateConsultBody, DeclineBody, FeedbackBody, MetricsResponse, MineResponse, RoomScopedBody, ServicesResponse, SpecialistsResponse } from "../../appservice/shared/consultWidgetApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import type { ApiSession } from "./apiSession.js";

/** The consult calls of the Rounds widget API. Components take this interface, so tests can fake it. */
export interface ConsultApi {
  services(): Promise<ServicesResponse>;
  specialists(service: string): Promise<SpecialistsResponse>;
  createConsult(body: z.input<typeof CreateConsultBody>): Promise<ConsultResponse>;
  consult(id: string, roomId: string): Promise<ConsultResponse>;
  accept(id: string, body: z.input<typeof AcceptBody>): Promise<ConsultResponse>;
  decline(id: string, body: z.input<typeof DeclineBody>): Promise<ConsultResponse>;
  start(id: string, body: z.input<typeof RoomScopedBody>): Promise<ConsultResponse>;
  complete(id: string, body: z.input<typeof CompleteBody>): Promise<ConsultResponse>;
  cancel(id: string, body: z.input<typeof CancelBody>): Promise<ConsultResponse>;
  feedback(id: string, body: z.input<typeof FeedbackBody>): Promise<ConsultResponse>;
  mine(): Promise<MineResponse>;
  metrics(): Promise<MetricsResponse>;
}

export function httpConsultApi(session: ApiSession): ConsultApi {
  const get = <T>(path: string) => session.request<T>("GET", path);
  const post = <T>(path: string, body: unknown) => session.request<T>("POST", path, body);
  const act = (route: string) => (id: string, body: unknown) => post<ConsultResponse>(routePath(route, { id }), body);
  return {
    services: () => get(WidgetRoute.services),
    specialists: (service) => get(routePath(WidgetRoute.specialists, { service })),
    createConsult: (body) => post(WidgetRoute.createConsult, body),
    // A read names its room too: the server checks the caller is joined to it.
    consult: (id, roomId) => get(`${routePath(WidgetRoute.consult, { id })}?room_id=${encodeURIComponent(roomId)}`),
    accept: act(WidgetRoute.accept),
    decline: act(WidgetRoute.decline),
    start: act(WidgetRoute.start),
    complete: act(WidgetRoute.complete),
    cancel: act(WidgetRoute.cancel),
    feedback: act(WidgetRoute.feedback),
    mine: () => get(WidgetRoute.mine),
    metrics: () => get(WidgetRoute.metrics),
  };
}
