import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import type { Logger } from "../logging.js";
import { ErrCode, sendError } from "./errors.js";
import { HomeserverRefused, type HomeserverResolver } from "./homeserverResolver.js";
import type { WidgetSessionStore } from "./widgetSessionStore.js";

export const WIDGET_TOKEN_PREFIX = "rw_";
const USERINFO_PATH = "/_matrix/federation/v1/openid/userinfo";

const NOT_VERIFIED = "Rounds could not verify this widget's OpenID token with its homeserver. Reload the widget; if it keeps failing, tell the Rounds administrators which homeserver you use.";

/**
 * POST exchange_openid: { openIdToken, matrixServer } → { token, userId }. The token is checked at
 * /_matrix/federation/v1/openid/userinfo of the server it names: our own homeserver directly,
 * any other through federation discovery with every hop checked (HomeserverResolver). It
 * replaces the provisioning library's own exchange, whose discovery connects before it checks.
 */
export function openIdExchange(deps: {
  sessions: WidgetSessionStore;
  resolver: HomeserverResolver;
  serverName: string;
  homeserverUrl: string;
  sessionSeconds: number;
  log: Logger;
}) {
  /** The userinfo answer's status and body, from whichever server the token came from. */
  const userinfo = async (server: string, token: string): Promise<{ status: number; body: string }> => {
    const query = `${USERINFO_PATH}?access_token=${encodeURIComponent(token)}`;
    if (server !== deps.serverName) return deps.resolver.get(server, query);
    const res = await fetch(new URL(query, deps.homeserverUrl), { signal: AbortSignal.timeout(10_000), redirect: "error" });
    return { status: res.status, body: await res.text() };
  };

  return async (req: Request, res: Response): Promise<void> => {
    const { matrixServer, openIdToken } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof matrixServer !== "string" || matrixServer === "") return sendError(res, ErrCode.BadJson, "matrixServer: give the server name of the widget's homeserver, as the OpenID token names it");
    if (typeof openIdToken !== "string" || openIdToken === "") return sendError(res, ErrCode.BadJson, "openIdToken: give the OpenID token the widget got from its client");
    let userId: string | null = null;
    try {
      const answer = await userinfo(matrixServer, openIdToken);
      const sub = answer.status === 200 ? (JSON.parse(answer.body) as { sub?: unknown }).sub : undefined;
      // The homeserver vouches only for its own users.
      if (typeof sub === "string" && /^@[^:]+:/.test(sub) && sub.slice(sub.indexOf(":") + 1) === matrixServer) userId = sub;
      else deps.log.info({ status: answer.status }, "widget api: OpenID token not accepted by its homeserver");
    } catch (err) {
      // The server name is the caller's input and may be anything: log why, not what.
      const why = err instanceof HomeserverRefused ? err.message : err instanceof Error ? err.name : typeof err;
      deps.log.info({ why }, "widget api: OpenID token could not be checked");
    }
    if (!userId) return sendError(res, ErrCode.Unauthorized, NOT_VERIFIED);
    const token = WIDGET_TOKEN_PREFIX + randomUUID().replace(/-/g, "");
    await deps.sessions.createSession({ userId, token, expiresTs: Date.now() + deps.sessionSeconds * 1000 });
    deps.log.info({ userId }, "widget api: session opened");
    res.json({ token, userId });
  };
}
