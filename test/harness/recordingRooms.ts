import type { Notifier } from "../../appservice/ports/notifier.js";
import type { OpenRoomOptions, RoomMessage, RoomWidget, RoomWriter } from "../../appservice/ports/roomWriter.js";

/**
 * In-memory RoomWriter for domain-service tests: records every write in order, keeps what was sent
 * (readable back like the bot's decrypted view), dedupes sends by their key as Matrix txn ids do,
 * and can fail a method once to simulate a crash part-way.
 */
export interface StoredEvent {
  roomId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  /** False for an event a client sent in clear; everything else counts as encrypted. */
  encrypted?: boolean;
}

/** The fake's stand-in for a widget's state in a room's initial state. */
export const FAKE_WIDGET_TYPE = "test.widget";

export class RecordingRooms implements RoomWriter {
  /** Every write, in order; reads are not recorded. */
  readonly calls: { method: string; roomId?: string; args: Record<string, unknown> }[] = [];
  readonly events = new Map<string, StoredEvent>();
  readonly state = new Map<string, Record<string, unknown>>();
  readonly members = new Map<string, Set<string>>();
  private readonly roomsByKey = new Map<string, string>();
  private readonly sentByKey = new Map<string, string>();
  private readonly failOnce = new Set<string>();
  private n = 0;

  /** `botUserId`: the sender of everything the service sends. */
  constructor(private readonly botUserId: string) {}

  failNext(method: keyof RoomWriter): void {
    this.failOnce.add(method);
  }

  private check(method: string): void {
    if (this.failOnce.delete(method)) throw new Error(`simulated crash in ${method}`);
  }

  private put(roomId: string, type: string, content: Record<string, unknown>, key: string, method: string): string {
    const known = this.sentByKey.get(key);
    if (known) return known;
    const eventId = `$ev${++this.n}`;
    this.events.set(eventId, { roomId, type, sender: this.botUserId, content: structuredClone(content) });
    this.sentByKey.set(key, eventId);
    this.calls.push({ method, roomId, args: { type, content: structuredClone(content), key, eventId } });
    return eventId;
  }

  async roomCreateEventId(roomId: string): Promise<string> {
    return `$create-${roomId}`;
  }

  /** An event someone else (a clinician's widget) sent, for the service to read back. Returns its id. */
  seedEvent(roomId: string, sender: string, type: string, content: Record<string, unknown>, eventId = `$widget${++this.n}`, encrypted = true): string {
    this.events.set(eventId, { roomId, type, sender, content: structuredClone(content), encrypted });
    return eventId;
  }

  /** Messages sent in a room, in order. */
  messages(roomId: string): { eventId: string; body: string; mentions: string[]; notice: boolean }[] {
    return [...this.events.entries()]
      .filter(([, e]) => e.roomId === roomId && e.type === "m.room.message" && (e.content.msgtype === "m.text" || e.content.msgtype === "m.notice"))
      .map(([eventId, e]) => ({
        eventId,
        body: e.content.body as string,
        mentions: ((e.content["m.mentions"] as { user_ids?: string[] } | undefined)?.user_ids ?? []) as string[],
        notice: e.content.msgtype === "m.notice",
      }));
  }

  /** Custom (encrypted) events the bot sent in a room, of one type. */
  sentEvents(roomId: string, type: string): { eventId: string; content: Record<string, unknown> }[] {
    return this.calls
      .filter((c) => c.roomId === roomId && c.method === "sendEvent" && c.args.type === type)
      .map((c) => ({ eventId: c.args.eventId as string, content: c.args.content as Record<string, unknown> }));
  }

  callsIn(roomId: string, method?: string): RecordingRooms["calls"] {
    return this.calls.filter((c) => c.roomId === roomId && (!method || c.method === method));
  }

  async openRoom(key: string, opts: OpenRoomOptions): Promise<string> {
    this.check("openRoom");
    let roomId = this.roomsByKey.get(key);
    const created = !roomId;
    if (!roomId) {
      roomId = `!room${++this.n}:x.org`;
      this.roomsByKey.set(key, roomId);
      this.members.set(roomId, new Set());
    }
    for (const m of opts.members) this.members.get(roomId)!.add(m);
    this.calls.push({ method: "openRoom", roomId, args: { key, name: opts.name, members: opts.members } });
    // A new room gets its initial state: recorded as the widget installs and state writes it replaces.
    for (const e of created ? (opts.initialState ?? []) : []) {
      if (e.type === FAKE_WIDGET_TYPE) this.calls.push({ method: "installWidget", roomId, args: { ...e.content } });
      else {
        this.state.set(`${roomId}|${e.type}|${e.stateKey}`, structuredClone(e.content));
        this.calls.push({ method: "setState", roomId, args: { type: e.type, stateKey: e.stateKey, content: structuredClone(e.content) } });
      }
    }
    return roomId;
  }
  widgetState(widget: RoomWidget): { type: string; stateKey: string; content: Record<string, unknown> }[] {
    return [{ type: FAKE_WIDGET_TYPE, stateKey: widget.id, content: { ...widget } }];
  }
  async invite(roomId: string, userIds: string[]): Promise<void> {
    this.check("invite");
    for (const u of userIds) this.members.get(roomId)?.add(u);
    this.calls.push({ method: "invite", roomId, args: { userIds } });
  }
  async findRoom(key: string): Promise<string | null> {
    return this.roomsByKey.get(key) ?? null;
  }

  async retire(): Promise<void> {}
  async send(roomId: string, message: RoomMessage, txnKey: string): Promise<string> {
    this.check("send");
    const content = { msgtype: message.notice ? "m.notice" : "m.text", body: message.body, "m.mentions": { user_ids: message.mentions ?? [] } };
    return this.put(roomId, "m.room.message", content, txnKey, "send");
  }
  async readMessage(_roomId: string, eventId: string): Promise<string | null> {
    const body = this.events.get(eventId)?.content.body;
    return typeof body === "string" ? body : null;
  }
  async setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void> {
    this.check("setState");
    this.state.set(`${roomId}|${type}|${stateKey}`, structuredClone(content));
    this.calls.push({ method: "setState", roomId, args: { type, stateKey, content: structuredClone(content) } });
  }
  async sendEvent(roomId: string, type: string, content: Record<string, unknown>, txnKey: string): Promise<string> {
    this.check("sendEvent");
    return this.put(roomId, type, content, txnKey, "sendEvent");
  }
  async sendFile(roomId: string, file: { name: string; mimetype: string; bytes: Uint8Array; body?: string }, txnKey: string): Promise<string> {
    this.check("sendFile");
    return this.put(roomId, "m.room.message", { msgtype: "m.file", body: file.body ?? file.name, name: file.name, mimetype: file.mimetype, text: new TextDecoder().decode(file.bytes) }, txnKey, "sendFile");
  }
  async resendFile(roomId: string, file: { name: string; mimetype: string; size: number; file: Record<string, unknown> }, txnKey: string): Promise<string> {
    this.check("resendFile");
    return this.put(roomId, "m.room.message", { msgtype: "m.file", body: file.name, info: { mimetype: file.mimetype, size: file.size }, file: file.file }, txnKey, "resendFile");
  }
  async readEvent(roomId: string, eventId: string): Promise<{ type: string; sender: string; content: Record<string, unknown>; encrypted: boolean } | null> {
    const e = this.events.get(eventId);
    return e && e.roomId === roomId ? { type: e.type, sender: e.sender, content: structuredClone(e.content), encrypted: e.encrypted ?? true } : null;
  }
  async membership(roomId: string, userId: string): Promise<string | null> {
    return this.members.get(roomId)?.has(userId) ? "join" : null;
  }
  async joinedMembers(roomId: string): Promise<string[]> {
    return [...(this.members.get(roomId) ?? [])];
  }
  async installWidget(roomId: string, widget: RoomWidget): Promise<void> {
    this.check("installWidget");
    this.calls.push({ method: "installWidget", roomId, args: { ...widget } });
  }
}

/** Notifier that records direct messages, each key once (as the real one does). */
export class RecordingNotifier implements Notifier {
  readonly told: { userId: string; text: string; key?: string }[] = [];
  private failing = false;
  /** The next message fails, as a crash part-way would. */
  failNext(): void {
    this.failing = true;
  }
  async tellUser(userId: string, text: string, key?: string): Promise<void> {
    if (this.failing) {
      this.failing = false;
      throw new Error("simulated crash in tellUser");
    }
    if (key && this.told.some((t) => t.key === key)) return;
    this.told.push({ userId, text, key });
  }
}
