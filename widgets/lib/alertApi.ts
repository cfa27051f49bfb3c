import { AlertRoute } from "../../appservice/shared/alertApiTerms.js";
import type { AlertResponse, AlertRulesResponse, MyAlertsResponse, QuietHours, QuietHoursResponse } from "../../appservice/shared/alertApiTerms.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import type { ApiSession } from "./apiSession.js";

/** The alerts calls of the Rounds widget API. Components take this interface, so tests can fake it. */
export interface AlertApi {
  mine(): Promise<MyAlertsResponse>;
  alert(number: number, roomId: string): Promise<AlertResponse>;
  ack(number: number, roomId: string): Promise<AlertResponse>;
  snooze(number: number, roomId: string, minutes: number): Promise<AlertResponse>;
  falsePositive(number: number, roomId: string, reasonEventId: string): Promise<AlertResponse>;
  quietHours(): Promise<QuietHoursResponse>;
  setQuietHours(quiet: QuietHours | null): Promise<QuietHoursResponse>;
  rules(): Promise<AlertRulesResponse>;
}

export function httpAlertApi(session: ApiSession): AlertApi {
  const get = <T>(path: string) => session.request<T>("GET", path);
  const post = <T>(path: string, body: unknown) => session.request<T>("POST", path, body);
  const at = (route: string, number: number) => routePath(route, { number: String(number) });
  return {
    mine: () => get(AlertRoute.mine),
    // A read names its room too: the server checks the alert reached the caller there.
    alert: (n, roomId) => get(`${at(AlertRoute.alert, n)}?room_id=${encodeURIComponent(roomId)}`),
    ack: (n, roomId) => post(at(AlertRoute.ack, n), { room_id: roomId }),
    snooze: (n, roomId, minutes) => post(at(AlertRoute.snooze, n), { room_id: roomId, minutes }),
    falsePositive: (n, roomId, reasonEventId) => post(at(AlertRoute.falsePositive, n), { room_id: roomId, reason_event_id: reasonEventId }),
    quietHours: () => get(AlertRoute.quietHours),
    setQuietHours: (quiet) => post(AlertRoute.quietHours, { quiet }),
    rules: () => get(AlertRoute.rules),
  };
}
