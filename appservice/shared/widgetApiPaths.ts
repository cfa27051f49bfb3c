/**
 * The appservice's widget HTTP API, shared by the server (appservice/http/widgetApi.ts) and the
 * widgets. A widget exchanges its OpenID token at `POST {WIDGET_API_PREFIX}/v1/exchange_openid`
 * ({ openIdToken, matrixServer } → { token, userId }) and sends `Authorization: Bearer <token>`
 * on every other call. Every call that acts on a workflow object names the room it is made from,
 * and the caller must be joined to that room. Errors are `{ errcode, error }` with a
 * plain-language error. Each workflow's own calls are in its contract (consultWidgetApi.ts, …).
 */
export const WIDGET_API_PREFIX = "/_rounds/widget/api";
/** Where the built widgets are served, one folder per widget: `${WIDGET_PATH}/consult-room/`. */
export const WIDGET_PATH = "/_rounds/widgets";

export function routePath(route: string, params: Record<string, string> = {}): string {
  return route.replace(/:([a-z]+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ""));
}
