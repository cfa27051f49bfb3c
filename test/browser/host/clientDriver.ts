// The Node half of the widget driver: answers the host page's driver calls with a real,
// logged-in matrix-js-sdk client, so widgets under test read and write through real E2EE.
import { Direction, MatrixError, type MatrixClient, type MatrixEvent, type StateEvents, type TimelineEvents } from "matrix-js-sdk";
import type { IRoomEvent } from "matrix-widget-api";
import { DRIVER_METHODS, type DriverApi, type DriverMethod, type DriverReply, type FileBytes } from "./protocol.js";

export interface ClientDriverOptions {
  /** Capabilities refused even when requested; everything else requested is approved. */
  deny: readonly string[];
  /** Whether the widget gets an OpenID token, as a user would allow or block it in Element. */
  openId: "allow" | "block";
}

/** The event as a widget sees it: decrypted type and content, or null if it cannot be decrypted. */
async function clearEvent(client: MatrixClient, ev: MatrixEvent): Promise<IRoomEvent | null> {
  await client.decryptEventIfNeeded(ev);
  if (ev.isDecryptionFailure() || ev.getType() === "m.room.encrypted") return null;
  return ev.getEffectiveEvent() as IRoomEvent;
}

export class ClientDriver implements DriverApi {
  /** Every capability asked for, across negotiation rounds, in the widget's order. */
  readonly requested: string[] = [];
  readonly approved: string[] = [];

  constructor(
    private readonly client: MatrixClient,
    private readonly viewedRoomId: string,
    private readonly options: ClientDriverOptions,
  ) {}

  /** Runs one call from the page; errors become replies, since a thrown error would lose its Matrix detail. */
  async call(method: string, args: unknown[]): Promise<DriverReply> {
    if (!DRIVER_METHODS.includes(method as DriverMethod)) return { ok: false, message: `unknown driver method ${method}` };
    const fn = this[method as DriverMethod] as (...a: unknown[]) => Promise<unknown>;
    try {
      return { ok: true, value: await fn.apply(this, args) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return e instanceof MatrixError ? { ok: false, message, matrixApiError: e.asWidgetApiErrorData() } : { ok: false, message };
    }
  }

  async validateCapabilities(requested: string[]): Promise<string[]> {
    const approved = requested.filter((c) => !this.options.deny.includes(c));
    this.requested.push(...requested);
    this.approved.push(...approved);
    return approved;
  }

  async sendEvent(eventType: string, content: unknown, stateKey: string | null, roomId: string | null) {
    const room = roomId ?? this.viewedRoomId;
    // Same split as Element's driver; sendEvent encrypts by itself in an encrypted room.
    const { event_id } =
      stateKey !== null
        ? await this.client.sendStateEvent(room, eventType as keyof StateEvents, content as StateEvents[keyof StateEvents], stateKey)
        : eventType === "m.room.redaction"
          ? await this.client.redactEvent(room, String((content as { redacts?: unknown }).redacts))
          : await this.client.sendEvent(room, eventType as keyof TimelineEvents, content as TimelineEvents[keyof TimelineEvents]);
    return { roomId: room, eventId: event_id };
  }

  /** Newest first, from the client's live timeline (what Element has in memory), decrypted. */
  async readRoomTimeline(
    roomId: string,
    eventType: string,
    msgtype: string | undefined,
    stateKey: string | undefined,
    limit: number,
    since: string | undefined,
  ): Promise<IRoomEvent[]> {
    const max = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
    const events = [...(this.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [])].reverse();
    const out: IRoomEvent[] = [];
    for (const ev of events) {
      if (out.length >= max || (since !== undefined && ev.getId() === since)) break;
      const clear = await clearEvent(this.client, ev);
      if (!clear || clear.type !== eventType) continue;
      if (msgtype !== undefined && (clear.content as { msgtype?: unknown }).msgtype !== msgtype) continue;
      if (stateKey !== undefined && clear.state_key !== stateKey) continue;
      out.push(clear);
    }
    return out;
  }

  async readRoomState(roomId: string, eventType: string, stateKey: string | undefined): Promise<IRoomEvent[]> {
    const state = this.client.getRoom(roomId)?.getLiveTimeline().getState(Direction.Forward);
    if (!state) return [];
    const events = stateKey === undefined ? state.getStateEvents(eventType) : [state.getStateEvents(eventType, stateKey)];
    return events.filter((e): e is MatrixEvent => e !== null).map((e) => e.getEffectiveEvent() as IRoomEvent);
  }

  async readEventRelations(
    eventId: string,
    roomId: string | undefined,
    relationType: string | undefined,
    eventType: string | undefined,
    from: string | undefined,
    to: string | undefined,
    limit: number | undefined,
    direction: "f" | "b" | undefined,
  ) {
    const dir = direction === "f" ? Direction.Forward : Direction.Backward;
    const result = await this.client.relations(roomId ?? this.viewedRoomId, eventId, relationType ?? null, eventType ?? null, { from, to, limit, dir });
    const chunk: IRoomEvent[] = [];
    for (const ev of result.events) {
      const clear = await clearEvent(this.client, ev);
      if (clear && (eventType === undefined || clear.type === eventType)) chunk.push(clear);
    }
    return { chunk, nextBatch: result.nextBatch ?? undefined, prevBatch: result.prevBatch ?? undefined };
  }

  async askOpenID() {
    return this.options.openId === "allow" ? await this.client.getOpenIdToken() : null;
  }

  async getMediaConfig() {
    return { ...(await this.client.getMediaConfig(true)) };
  }

  async uploadFile(file: FileBytes) {
    const bytes = Buffer.from(file.base64, "base64");
    const { content_uri } = await this.client.uploadContent(bytes, { type: file.type || "application/octet-stream" });
    return { contentUri: content_uri };
  }

  async downloadFile(contentUri: string): Promise<FileBytes> {
    const url = this.client.mxcUrlToHttp(contentUri, undefined, undefined, undefined, false, true, true);
    if (!url) throw new Error(`not an mxc URL: ${contentUri}`);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${this.client.getAccessToken()}` } });
    if (!res.ok) throw new Error(`download of ${contentUri} failed: HTTP ${res.status}`);
    return { base64: Buffer.from(await res.arrayBuffer()).toString("base64"), type: res.headers.get("content-type") ?? "" };
  }

  async searchUserDirectory(searchTerm: string, limit: number | undefined) {
    const { limited, results } = await this.client.searchUserDirectory({ term: searchTerm, limit });
    return { limited, results: results.map((r) => ({ userId: r.user_id, displayName: r.display_name, avatarUrl: r.avatar_url })) };
  }
}
