import type { ApiErrorBody } from "../../appservice/shared/consultWidgetApi.js";

/** An error to show the user as is: the API's plain-language message, or ours when it never answered. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

function isErrorBody(body: unknown): body is ApiErrorBody {
  return typeof body === "object" && body !== null && typeof (body as ApiErrorBody).error === "string";
}

/** One JSON call. Non-2xx answers become an ApiError carrying the server's `error` text. */
export async function fetchJson<T>(fetcher: Fetcher, method: "GET" | "POST", url: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetcher(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  } catch {
    throw new ApiError(0, "M_NETWORK", "Could not reach the Rounds server. Check your connection and try again.");
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok && body !== undefined) return body as T;
  if (isErrorBody(body)) throw new ApiError(res.status, body.errcode ?? "M_UNKNOWN", body.error);
  throw new ApiError(res.status, "M_UNKNOWN", `The Rounds server did not answer properly (HTTP ${res.status}). Try again in a moment.`);
}
