import type { z } from "zod";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import type { TestClinician } from "./clinician.js";
import { waitUntil } from "./waitUntil.js";

/** A widget API session as a widget holds one: made from the clinician's real OpenID token. */
export interface WidgetCaller {
  token: string;
  call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
}

export async function widgetSession(roundsUrl: string, who: TestClinician): Promise<WidgetCaller> {
  const openId = await who.client.getOpenIdToken();
  const res = await fetch(`${roundsUrl}${WIDGET_API_PREFIX}/v1/exchange_openid`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ openIdToken: openId.access_token, matrixServer: openId.matrix_server_name }),
  });
  const json = (await res.json()) as { token?: string; error?: string };
  if (!res.ok || !json.token) throw new Error(`OpenID exchange failed: ${res.status} ${json.error}`);
  const token = json.token;
  return {
    token,
    async call(method, path, body) {
      const r = await fetch(`${roundsUrl}${WIDGET_API_PREFIX}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    },
  };
}

/** Waits until `who` sees a state event of `type` in the room that parses with `schema` and matches. */
export function waitForWorkflowState<S extends z.ZodType>(who: TestClinician, roomId: string, type: string, schema: S, match: (s: z.infer<S>) => boolean, what: string, timeoutMs?: number): Promise<z.infer<S>> {
  return waitUntil(
    async () => {
      for (const ev of who.client.getRoom(roomId)?.currentState.getStateEvents(type) ?? []) {
        const parsed = schema.safeParse(ev.getContent());
        if (parsed.success && match(parsed.data)) return parsed.data;
      }
      return null;
    },
    what,
    timeoutMs,
  );
}
