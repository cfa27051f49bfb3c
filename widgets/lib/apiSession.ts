import type { IOpenIDCredentials } from "matrix-widget-api";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import { ApiError, fetchJson, type Fetcher } from "./apiFetch.js";

/**
 * The widget's session with the Rounds API: an OpenID token from Element, exchanged for a bearer
 * token that names the verified Matrix user. Same origin as the widget, so plain relative URLs.
 */
export class ApiSession {
  private token: string | null = null;
  private signingIn: Promise<string> | null = null;

  constructor(
    private readonly openId: () => Promise<IOpenIDCredentials>,
    private readonly fetcher: Fetcher = (url, init) => fetch(url, init),
  ) {}

  /** Exchanges a fresh OpenID token; returns the verified user id. */
  signIn(): Promise<string> {
    this.signingIn ??= this.exchange().finally(() => (this.signingIn = null));
    return this.signingIn;
  }

  private async exchange(): Promise<string> {
    const creds = await this.openId();
    if (!creds.access_token || !creds.matrix_server_name) {
      throw new ApiError(0, "M_FORBIDDEN", "Element did not give this widget an identity token. Reload the widget and allow it to verify your identity.");
    }
    const res = await fetchJson<{ token: string; userId: string }>(this.fetcher, "POST", `${WIDGET_API_PREFIX}/v1/exchange_openid`, {
      body: { openIdToken: creds.access_token, matrixServer: creds.matrix_server_name },
    });
    this.token = res.token;
    return res.userId;
  }

  /** A call under the session; an expired session is renewed once through a new OpenID token. */
  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    if (!this.token) await this.signIn();
    try {
      return await fetchJson<T>(this.fetcher, method, WIDGET_API_PREFIX + path, { token: this.token!, body });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      await this.signIn();
      return fetchJson<T>(this.fetcher, method, WIDGET_API_PREFIX + path, { token: this.token!, body });
    }
  }
}
