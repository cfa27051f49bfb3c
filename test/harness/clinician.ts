import "fake-indexeddb/auto";
import * as sdk from "matrix-js-sdk";
import { createLogger } from "../../appservice/logging.js";
import { quietGlobalSdkLogger, sdkLogger } from "../../appservice/matrix/sdkLogger.js";
import type { TestHomeserver } from "./homeserver.js";

const quiet = sdkLogger(createLogger("error"));
// Some matrix-js-sdk modules log through the global logger; keep test output readable.
quietGlobalSdkLogger("error");
let clientCounter = 0;

/** A clinician: a real matrix-js-sdk client with rust crypto (E2EE), as Element would be. */
export class TestClinician {
  private constructor(
    readonly client: sdk.MatrixClient,
    readonly userId: string,
  ) {}

  static async create(hs: TestHomeserver, localpart: string, displayname?: string): Promise<TestClinician> {
    const u = await hs.register(localpart, displayname);
    const client = sdk.createClient({
      baseUrl: hs.url,
      userId: u.userId,
      accessToken: u.accessToken,
      deviceId: u.deviceId,
      logger: quiet,
    });
    await client.initRustCrypto({ cryptoDatabasePrefix: `clinician-${process.pid}-${++clientCounter}`, useIndexedDB: false });
    const ready = new Promise<void>((resolve) => {
      const onSync = (state: sdk.SyncState) => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
          client.off(sdk.ClientEvent.Sync, onSync);
          resolve();
        }
      };
      client.on(sdk.ClientEvent.Sync, onSync);
    });
    // matrix-js-sdk uses this as the sync filter's timeline limit for every sync, not only the
    // first: with a small one, a burst of events (a consult completing) is a gappy sync that resets
    // the live timeline, and a widget reading the room no longer sees what came before. 20, as Element.
    await client.startClient({ initialSyncLimit: 20 });
    await ready;
    return new TestClinician(client, u.userId);
  }

  /** Joins every room this clinician is invited to, as a person would accept a DM. */
  acceptInvites(): void {
    this.client.on(sdk.RoomMemberEvent.Membership, (_ev, member) => {
      if (member.userId !== this.userId || member.membership !== "invite") return;
      // The join itself is what matters; a failure after it (e.g. the crypto's bookkeeping of a
      // pending key bundle) is reported, not left to crash the run.
      this.joinHonouringLimits(member.roomId).catch((err: Error) => process.stderr.write(`${this.userId}: joinRoom ${member.roomId}: ${err.message}\n`));
    });
  }

  /**
   * Joins as a person would under Synapse's production limits (10 joins, then one per 10 s): a
   * refused join is tried again when the server says it may be. A test clinician joins more rooms
   * in a minute than a clinician does in a shift, so the suite meets this limit and a ward does not.
   */
  private async joinHonouringLimits(roomId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.joinRoom(roomId);
        return;
      } catch (err) {
        const e = err as { errcode?: string; data?: { retry_after_ms?: number } };
        if (e.errcode !== "M_LIMIT_EXCEEDED" || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, (e.data?.retry_after_ms ?? 1000) + 50));
      }
    }
  }

  /** Creates an encrypted DM with `other` and waits until they have joined. */
  async openEncryptedDm(other: string, timeoutMs = 60_000): Promise<string> {
    const { room_id } = await this.client.createRoom({
      is_direct: true,
      preset: sdk.Preset.TrustedPrivateChat,
      invite: [other],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await this.waitFor(() => this.client.getRoom(room_id)?.getMember(other)?.membership === "join", timeoutMs, `${other} to join`);
    return room_id;
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (cond()) return resolve();
      const check = () => {
        if (!cond()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.client.off(sdk.RoomStateEvent.Members, check);
        this.client.off(sdk.ClientEvent.Sync, check);
      };
      this.client.on(sdk.RoomStateEvent.Members, check);
      this.client.on(sdk.ClientEvent.Sync, check);
    });
  }

  async send(roomId: string, body: string): Promise<string> {
    const { event_id } = await this.client.sendEvent(roomId, sdk.EventType.RoomMessage, { msgtype: sdk.MsgType.Text, body });
    return event_id;
  }

  /**
   * Resolves with the decrypted body of the next m.notice from `sender` in the room (events
   * already in the timeline count too, so a reply that raced ahead of the call is not missed).
   */
  waitForNotice(roomId: string, sender: string, opts: { after?: string; timeoutMs?: number } = {}): Promise<{ body: string; event: sdk.MatrixEvent }> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const seen = new Set<string>();
      const consider = async (ev: sdk.MatrixEvent) => {
        if (ev.getRoomId() !== roomId || ev.getSender() !== sender || seen.has(ev.getId()!)) return;
        await this.client.decryptEventIfNeeded(ev);
        if (ev.getType() !== "m.room.message" || ev.getContent().msgtype !== "m.notice") return;
        const replyTo = ev.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id;
        if (opts.after && replyTo !== opts.after) return;
        seen.add(ev.getId()!);
        cleanup();
        resolve({ body: String(ev.getContent().body), event: ev });
      };
      const onTimeline = (ev: sdk.MatrixEvent) => void consider(ev);
      const onDecrypted = (ev: sdk.MatrixEvent) => void consider(ev);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no notice from ${sender} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.client.off(sdk.RoomEvent.Timeline, onTimeline);
        this.client.off(sdk.MatrixEventEvent.Decrypted, onDecrypted);
      };
      this.client.on(sdk.RoomEvent.Timeline, onTimeline);
      this.client.on(sdk.MatrixEventEvent.Decrypted, onDecrypted);
      for (const ev of this.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? []) void consider(ev);
    });
  }

  /**
   * Resolves with the first decrypted room message (in any room, or `roomId`) whose body matches,
   * including messages already in the timeline.
   */
  waitForMessage(
    match: (body: string, ev: sdk.MatrixEvent) => boolean,
    opts: { roomId?: string; sender?: string; timeoutMs?: number; what?: string } = {},
  ): Promise<{ body: string; event: sdk.MatrixEvent; roomId: string }> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      let done = false;
      const consider = async (ev: sdk.MatrixEvent) => {
        if (done || (opts.roomId && ev.getRoomId() !== opts.roomId) || (opts.sender && ev.getSender() !== opts.sender)) return;
        await this.client.decryptEventIfNeeded(ev);
        if (done || ev.getType() !== "m.room.message") return;
        const body = String(ev.getContent().body ?? "");
        if (!match(body, ev)) return;
        done = true;
        cleanup();
        resolve({ body, event: ev, roomId: ev.getRoomId()! });
      };
      const onEvent = (ev: sdk.MatrixEvent) => void consider(ev);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.userId}: no message ${opts.what ?? "matching"} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.client.off(sdk.RoomEvent.Timeline, onEvent);
        this.client.off(sdk.MatrixEventEvent.Decrypted, onEvent);
      };
      this.client.on(sdk.RoomEvent.Timeline, onEvent);
      this.client.on(sdk.MatrixEventEvent.Decrypted, onEvent);
      const rooms = opts.roomId ? [this.client.getRoom(opts.roomId)] : this.client.getRooms();
      for (const room of rooms) for (const ev of room?.getLiveTimeline().getEvents() ?? []) void consider(ev);
    });
  }

  /** How many of `sender`'s notices in the room so far reply to `eventId`: a command answered once has one. */
  async noticesReplyingTo(roomId: string, sender: string, eventId: string): Promise<number> {
    let n = 0;
    for (const ev of this.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? []) {
      if (ev.getSender() !== sender) continue;
      await this.client.decryptEventIfNeeded(ev);
      if (ev.getContent().msgtype === "m.notice" && ev.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id === eventId) n++;
    }
    return n;
  }

  /** Decrypted bodies of the room's messages so far, oldest first. */
  async messages(roomId: string): Promise<string[]> {
    const events = this.client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
    const out: string[] = [];
    for (const ev of events) {
      await this.client.decryptEventIfNeeded(ev);
      if (ev.getType() === "m.room.message") out.push(String(ev.getContent().body ?? ""));
    }
    return out;
  }

  async react(roomId: string, eventId: string, key: string): Promise<string> {
    const { event_id } = await this.client.sendEvent(roomId, sdk.EventType.Reaction, {
      "m.relates_to": { rel_type: sdk.RelationType.Annotation, event_id: eventId, key },
    });
    return event_id;
  }

  /** The current content of a state event in a room, as this client has synced it. */
  state(roomId: string, type: string, stateKey: string): Record<string, unknown> | null {
    return this.client.getRoom(roomId)?.currentState.getStateEvents(type, stateKey)?.getContent() ?? null;
  }

  async botDeviceIds(botUserId: string): Promise<string[]> {
    const devices = await this.client.getCrypto()!.getUserDeviceInfo([botUserId], true);
    return [...(devices.get(botUserId)?.keys() ?? [])];
  }

  /** Whether the bot's device is signed by the bot's own cross-signing key, as Element shows it. */
  async isSignedByOwner(userId: string, deviceId: string): Promise<boolean> {
    await this.client.getCrypto()!.getUserDeviceInfo([userId], true);
    const status = await this.client.getCrypto()!.getDeviceVerificationStatus(userId, deviceId);
    return status?.signedByOwner ?? false;
  }

  stop(): void {
    this.client.stopClient();
  }
}
