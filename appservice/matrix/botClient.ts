import "fake-indexeddb/auto";
import { hkdfSync } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as sdk from "matrix-js-sdk";
import type { Logger } from "../logging.js";
import { BOT_PREFIX, type ClientEvent } from "../shared/events/index.js";
import type { BotDeviceStore } from "./botDeviceStore.js";
import { IdbSnapshotter } from "./idbSnapshot.js";
import { quietGlobalSdkLogger, sdkLogger } from "./sdkLogger.js";

export interface BotIdentity {
  /** Short name, e.g. "oncall"; the Matrix user is @rounds_<name>. */
  name: string;
  displayName: string;
}

export interface BotClientOptions {
  identity: BotIdentity;
  homeserverUrl: string;
  serverName: string;
  asToken: string;
  dataDir: string;
  storePassphrase: string;
  devices: BotDeviceStore;
  log: Logger;
  /** Events kept in memory per room (ROUNDS_BOT_TIMELINE_EVENTS). */
  timelineEvents?: number;
}

quietGlobalSdkLogger("warn");

const DEFAULT_TIMELINE_EVENTS = 100;

const MUST_FLUSH_FIRST = [
  /\/sync\?.*since=/,
  /\/rooms\/[^/]+\/send\/m\.room\.encrypted\//,
  /\/sendToDevice\//,
  /\/keys\/(upload|signatures\/upload|device_signing\/upload)/,
];

/**
 * Writes that Synapse rate-limits per sender: messages and state, room creation, joins, invites,
 * profile changes. `rate_limited: false` in the registration exempts only requests made with
 * the as_token, and a device token is held to a clinician's 0.2 messages/s; so the bot makes
 * these as its appservice, masquerading as its own user. Ciphertext is encrypted by the device
 * before it is sent, so recipients see the same sender device either way.
 */
const RATE_LIMITED_WRITE =
  /\/_matrix\/client\/(?:v3|r0)\/(?:rooms\/[^/]+\/(?:(?:send|state|redact)\/|(?:invite|join|leave|kick|ban|unban)(?:\?|$))|join\/|createRoom(?:\?|$)|profile\/)/;
const SEND_TXN = /(\/rooms\/[^/]+\/(?:send\/[^/]+|redact\/[^/]+)\/)([^/?]+)/;

/**
 * Synapse caches /sync answers for a while (sync_response_cache_duration, 2 min by default)
 * keyed on user, device, filter, since and timeout, not on the query's other parameters. A bot
 * restarted within that time on the same device would get its previous initial sync back: the
 * rooms it had then, not the rooms it is in now. Timeout does not change an initial sync (it
 * answers at once), so a unique one makes the answer fresh.
 */
function bustInitialSyncCache(input: string | URL | Request, url: string): string | URL | Request {
  if (!/\/sync\?/.test(url) || /[?&]since=/.test(url)) return input;
  return url.replace(/([?&])timeout=\d+/, `$1timeout=${1 + (Date.now() % 1_000_000)}`);
}

/** A failure worth retrying later, e.g. a room key that has not arrived yet. */
export class RetryableError extends Error {}

/**
 * One bot's end-to-end encrypted Matrix client: an appservice user with its own device, running
 * matrix-js-sdk with rust crypto whose store survives restarts.
 */
export class BotClient {
  readonly userId: string;
  readonly localpart: string;
  deviceId = "";
  private client: sdk.MatrixClient | null = null;
  private snapshotter: IdbSnapshotter | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: BotClientOptions) {
    this.localpart = `${BOT_PREFIX.slice(1)}${opts.identity.name}`;
    this.userId = `@${this.localpart}:${opts.serverName}`;
    this.log = opts.log.child({ bot: opts.identity.name });
  }

  get matrix(): sdk.MatrixClient {
    if (!this.client) throw new Error(`bot ${this.localpart} is not started`);
    return this.client;
  }

  private async asRequest(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.opts.homeserverUrl}/_matrix/client/v3${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.opts.asToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async start(): Promise<void> {
    const phases: Record<string, number> = {};
    let mark = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      phases[name] = Math.round(now - mark);
      mark = now;
    };
    const reg = await this.asRequest("/register", {
      type: "m.login.application_service",
      username: this.localpart,
      inhibit_login: true,
    });
    if (reg.status !== 200 && reg.json.errcode !== "M_USER_IN_USE") {
      throw new Error(`could not register ${this.userId}: ${String(reg.json.errcode)} ${String(reg.json.error ?? "")}`);
    }

    const botDir = join(this.opts.dataDir, "bots", this.localpart);
    const snapshotFile = join(botDir, "crypto-store.bin");
    // Reuse the device only when its crypto store survived; a device without its keys is useless.
    const knownDevice = existsSync(snapshotFile) ? await this.opts.devices.get(this.userId) : null;
    const login = await this.asRequest("/login", {
      type: "m.login.application_service",
      identifier: { type: "m.id.user", user: this.localpart },
      ...(knownDevice ? { device_id: knownDevice } : {}),
      initial_device_display_name: `Rounds ${this.opts.identity.name} bot`,
    });
    if (login.status !== 200) throw new Error(`bot login failed for ${this.userId}: ${String(login.json.errcode)}`);
    this.deviceId = String(login.json.device_id);
    phase("login");
    await this.opts.devices.set(this.userId, this.deviceId);

    const prefix = `rounds-${this.localpart}-${this.deviceId}`;
    this.snapshotter = new IdbSnapshotter(prefix, snapshotFile, (err) =>
      this.log.error({ err }, "bot: could not snapshot the crypto store"),
    );
    const restored = await this.snapshotter.restore();
    phase("restore");

    const client = sdk.createClient({
      baseUrl: this.opts.homeserverUrl,
      userId: this.userId,
      deviceId: this.deviceId,
      accessToken: String(login.json.access_token),
      logger: sdkLogger(this.log),
      fetchFn: (input, init) => this.fetchAfterFlush(input, init),
      cryptoCallbacks: {
        getSecretStorageKey: async ({ keys }) => {
          const keyId = Object.keys(keys)[0];
          return keyId ? [keyId, this.secretStorageKey()] : null;
        },
      },
    });
    await client.initRustCrypto({ cryptoDatabasePrefix: prefix, storagePassword: this.opts.storePassphrase });
    this.client = client;
    phase("crypto");
    const prepared = new Promise<void>((resolve, reject) => {
      const onSync = (state: sdk.SyncState) => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
          client.off(sdk.ClientEvent.Sync, onSync);
          resolve();
        } else if (state === sdk.SyncState.Error) {
          reject(new Error(`bot ${this.userId} could not sync`));
        }
      };
      client.on(sdk.ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
    await prepared;
    phase("sync");
    for (const roomId of (await client.getJoinedRooms()).joined_rooms) this.joinedRooms.add(roomId);
    this.startInfo = { restored, phases, mark };
    this.log.debug({ clientRooms: client.getRooms().length, joinedRooms: this.joinedRooms.size }, "bot: first sync done");
  }

  private startInfo: { restored: boolean; phases: Record<string, number>; mark: number } | null = null;

  /**
   * Profile and cross-signing, after `start`: the client can already send, so overdue timers
   * need not wait for this (it is a check on a restart, and uploads keys on the first start).
   */
  async ensureIdentity(): Promise<void> {
    await this.ensureProfile();
    await this.ensureCrossSigning();
    await this.snapshotter!.writeNow();
    const info = this.startInfo!;
    info.phases.identity = Math.round(performance.now() - info.mark);
    this.log.info({ userId: this.userId, deviceId: this.deviceId, restoredStore: info.restored, phasesMs: info.phases }, "bot: started");
  }

  /**
   * Requests that publish what the crypto store just changed must wait until that change is on
   * disk, or a kill -9 could leave the store behind what the world has seen:
   * - /sync with `since` acknowledges the previous batch, and the homeserver then deletes its
   *   to-device messages (room keys) for good;
   * - /send of ciphertext and /sendToDevice reveal a ratchet step (a megolm message index or an
   *   olm message) that a stale store would reuse;
   * - /keys/upload publishes one-time keys whose private halves must survive.
   */
  private async fetchAfterFlush(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (MUST_FLUSH_FIRST.some((re) => re.test(url))) await this.snapshotter?.flushed();
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method !== "GET" && RATE_LIMITED_WRITE.test(url)) return fetch(this.asAppservice(url), { ...init, headers: this.asAppserviceHeaders(init?.headers) });
    return fetch(bustInitialSyncCache(input, url), init);
  }

  /**
   * The event this client already sent under the txn id, if it still holds it. matrix-js-sdk
   * refuses a second send with a txn id it knows, so a retry in the same process (the state write
   * after it failed) is answered from here; one it never finished sending is dropped to be sent again.
   */
  private sentBefore(roomId: string, txn: string): string | null {
    const local = this.matrix.getRoom(roomId)?.getEventForTxnId(txn);
    if (!local) return null;
    const id = local.getId();
    if ((local.status === null || local.status === sdk.EventStatus.SENT) && id && !id.startsWith("~")) return id;
    if (local.status === sdk.EventStatus.NOT_SENT) this.matrix.cancelPendingEvent(local);
    return null;
  }

  /**
   * Synapse's in-memory cache of appservice txn ids is keyed per appservice, not per user, so
   * every txn id the bot sends carries its name: two bots replying to one event in one room stay
   * two events. Given to matrix-js-sdk already named, so its local echo matches the remote echo.
   */
  private ownTxnId(key: string): string {
    return key.startsWith(`${this.localpart}.`) ? key : `${this.localpart}.${key}`;
  }

  /**
   * The same request, as the appservice acting for this bot and its device. With the device,
   * Synapse records the txn id durably (a retry after a Synapse restart is still one event) and
   * returns it in the remote echo to this device, as for a request made with the device token.
   */
  private asAppservice(url: string): string {
    const u = new URL(url.replace(SEND_TXN, (_m, path: string, txn: string) => `${path}${encodeURIComponent(this.ownTxnId(decodeURIComponent(txn)))}`));
    u.searchParams.set("user_id", this.userId);
    if (this.deviceId) u.searchParams.set("device_id", this.deviceId);
    return u.href;
  }

  private asAppserviceHeaders(headers: RequestInit["headers"]): Headers {
    const h = new Headers(headers);
    h.set("authorization", `Bearer ${this.opts.asToken}`);
    return h;
  }

  private async ensureProfile(): Promise<void> {
    const profile = await this.matrix.getProfileInfo(this.userId).catch(() => ({ displayname: undefined }));
    if (profile.displayname !== this.opts.identity.displayName) {
      await this.matrix.setDisplayName(this.opts.identity.displayName);
    }
  }

  /** The bot's secret-storage key, derived from the store passphrase so any of its devices can rebuild it. */
  private secretStorageKey(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(hkdfSync("sha256", this.opts.storePassphrase, this.userId, "rounds secret storage v1", 32));
  }

  /**
   * Signs the bot's device with the bot's cross-signing identity, so clients show the device as
   * the bot's own. The identity's private keys are kept in server-side secret storage under a
   * key derived from our passphrase: a replacement device (lost data dir) takes over the same
   * identity instead of resetting it, which clients would flag as a changed identity.
   */
  private async ensureCrossSigning(): Promise<void> {
    const crypto = this.matrix.getCrypto()!;
    try {
      if (!(await crypto.isCrossSigningReady())) {
        // Imports the identity from secret storage if there is one; creates it only for a new account.
        await crypto.bootstrapCrossSigning({
          authUploadDeviceSigningKeys: async (makeRequest) => {
            await makeRequest(null);
          },
        });
        this.log.info({ userId: this.userId }, "bot: device signed by the bot's cross-signing identity");
      }
      await crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => ({ privateKey: this.secretStorageKey() }) });
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        "bot: cross-signing not available (the account has an identity this device cannot import); the device stays unsigned",
      );
    }
  }

  /**
   * Rooms we are joined to, from the server (GET /joined_rooms at start) and kept current by our
   * own membership events, rather than from the client's sync state, which may lag.
   */
  private readonly joinedRooms = new Set<string>();
  private readonly createEvents = new Map<string, { id: string; sender: string }>();

  isJoined(roomId: string): boolean {
    return this.joinedRooms.has(roomId);
  }

  noteMembership(roomId: string, membership: string): void {
    if (membership === "join") this.joinedRooms.add(roomId);
    else if (membership === "leave" || membership === "ban") this.joinedRooms.delete(roomId);
  }

  async join(roomId: string): Promise<void> {
    await this.matrix.joinRoom(roomId);
    this.joinedRooms.add(roomId);
  }

  /** Decrypts an event from the inbox; a missing room key is waited for briefly, then retried later. */
  async decrypt(raw: ClientEvent): Promise<{ type: string; content: Record<string, unknown> }> {
    if (raw.type !== "m.room.encrypted") return { type: raw.type, content: raw.content };
    const attempt = async () => {
      const ev = new sdk.MatrixEvent(raw as unknown as sdk.IEvent);
      await this.matrix.decryptEventIfNeeded(ev);
      return ev;
    };
    let ev = await attempt();
    if (ev.isDecryptionFailure()) {
      await this.nextSync(2000); // the key is usually in the next batch of to-device messages
      ev = await attempt();
    }
    if (ev.isDecryptionFailure()) throw new RetryableError(`cannot decrypt yet: ${ev.decryptionFailureReason ?? "unknown reason"}`);
    return { type: ev.getType(), content: ev.getContent() };
  }

  private nextSync(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.matrix.off(sdk.ClientEvent.Sync, done);
        this.matrix.off(sdk.ClientEvent.ReceivedToDeviceMessage, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.matrix.on(sdk.ClientEvent.Sync, done);
      this.matrix.on(sdk.ClientEvent.ReceivedToDeviceMessage, done);
    });
  }

  /**
   * Replies with an m.notice. A reply to an encrypted message is only ever sent encrypted. The
   * txn id is derived from the event answered, so a retried reply after a crash is deduplicated
   * by the homeserver.
   */
  async replyNotice(inReplyTo: ClientEvent, body: string): Promise<void> {
    await this.sendMessage(
      inReplyTo.room_id,
      { msgtype: sdk.MsgType.Notice, body, "m.relates_to": { "m.in_reply_to": { event_id: inReplyTo.event_id } } },
      `rounds-reply-${Buffer.from(inReplyTo.event_id).toString("base64url")}`,
      { mustEncrypt: inReplyTo.type === "m.room.encrypted" },
    );
  }

  /**
   * Sends a room message. In a room that must be encrypted, it waits for sync to confirm the
   * room's encryption rather than risk sending plaintext. Same txnId, same event: callers derive
   * it from what they are sending, so a retry after a crash does not send twice.
   */
  async sendMessage(roomId: string, content: Record<string, unknown>, txnId: string, opts: { mustEncrypt: boolean }): Promise<string> {
    for (let i = 0; ; i++) {
      const room = this.matrix.getRoom(roomId);
      if (room && ((await this.ensureRoomEncryptor(roomId)) || !opts.mustEncrypt)) break;
      this.log.debug({ roomId, knownRoom: Boolean(room), attempt: i }, "bot: waiting for the room's encryption state before sending");
      if (i >= 5) throw new RetryableError("room state not synced yet; refusing to send unencrypted");
      await this.nextSync(2000);
    }
    this.trimTimeline(roomId);
    const txn = this.ownTxnId(txnId);
    const already = this.sentBefore(roomId, txn);
    if (already) return already;
    try {
      const res = await this.matrix.sendEvent(roomId, sdk.EventType.RoomMessage, content as never, txn);
      return res.event_id;
    } catch (err) {
      // Drop the failed local echo, or the retry would be refused as a duplicate txn id.
      const echo = this.matrix
        .getRoom(roomId)
        ?.getLiveTimeline()
        .getEvents()
        .find((e) => e.getTxnId() === txn && e.status !== null && e.status !== sdk.EventStatus.SENT);
      if (echo) this.matrix.cancelPendingEvent(echo);
      throw err;
    }
  }

  /**
   * Creates an encrypted private room with the bot as its only admin: every Rounds state type
   * needs power 100, so only the bot can write workflow state. Returns once the client has
   * synced the room, so the first message can be encrypted for the invitees.
   */
  async createEncryptedRoom(opts: {
    name?: string;
    invite: string[];
    direct: boolean;
    botOnlyStateTypes: string[];
    initialState?: { type: string; stateKey: string; content: Record<string, unknown> }[];
  }): Promise<string> {
    // From room version 12 the creator holds unlimited power and must not be listed in `users`.
    const version = await this.defaultRoomVersion();
    const creatorImplicit = Number.parseInt(version, 10) >= 12;
    const { room_id: roomId } = await this.matrix.createRoom({
      preset: sdk.Preset.PrivateChat,
      visibility: sdk.Visibility.Private,
      ...(opts.name ? { name: opts.name } : {}),
      invite: opts.invite,
      is_direct: opts.direct,
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        // Invitees read the messages sent before they join (a page arrives before the tap).
        { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "invited" } },
        ...(opts.initialState ?? []).map((e) => ({ type: e.type, state_key: e.stateKey, content: e.content })),
      ],
      power_level_content_override: {
        users: creatorImplicit ? {} : { [this.userId]: 100 },
        users_default: 0,
        events: Object.fromEntries(opts.botOnlyStateTypes.map((t) => [t, 100])),
        state_default: 50,
        invite: 50,
      },
    });
    this.joinedRooms.add(roomId);
    await this.waitForMembers(roomId, opts.invite);
    return roomId;
  }

  private roomVersion: string | null = null;

  private async defaultRoomVersion(): Promise<string> {
    if (!this.roomVersion) {
      const caps = await this.matrix.getCapabilities();
      this.roomVersion = String(caps["m.room_versions"]?.default ?? "10");
    }
    return this.roomVersion;
  }

  /** Invites users who are not yet in or invited to the room, and waits until sync shows them. */
  async invite(roomId: string, userIds: string[]): Promise<void> {
    const room = this.matrix.getRoom(roomId);
    // After a restart, sync lazy-loads members: a member who has not spoken since is not in
    // the room's state yet, and would look missing.
    await room?.loadMembersIfNeeded();
    const missing = userIds.filter((u) => !["join", "invite"].includes(room?.getMember(u)?.membership ?? ""));
    for (const u of missing) {
      try {
        await this.matrix.invite(roomId, u);
      } catch (err) {
        // Already in the room (our view was stale) is fine; anything else is a real failure.
        if (!/already in the room|is already joined/i.test((err as Error).message)) throw err;
      }
    }
    if (missing.length) await this.waitForMembers(roomId, missing);
  }

  /** Waits until our client's room state lists the users as invited or joined, so room keys reach them. */
  private async waitForMembers(roomId: string, userIds: string[]): Promise<void> {
    for (let i = 0; ; i++) {
      const room = this.matrix.getRoom(roomId);
      const ready =
        room &&
        (await this.matrix.getCrypto()!.isEncryptionEnabledInRoom(roomId)) &&
        userIds.every((u) => ["join", "invite"].includes(room.getMember(u)?.membership ?? ""));
      if (ready) return;
      if (i >= 20) throw new RetryableError(`room ${roomId} has not synced its members yet`);
      await this.nextSync(1000);
    }
  }

  /** Reads and decrypts one message (the bot holds the keys of what it sent); null if unreadable. */
  async readMessage(roomId: string, eventId: string): Promise<string | null> {
    try {
      const raw = await this.matrix.fetchRoomEvent(roomId, eventId);
      const ev = new sdk.MatrixEvent(raw);
      await this.matrix.decryptEventIfNeeded(ev);
      if (ev.isDecryptionFailure()) return null;
      const body = ev.getContent().body;
      return typeof body === "string" ? body : null;
    } catch {
      return null;
    }
  }

  /** Reads and decrypts any event of a room the bot is in; null if it cannot be read (no key, gone, not in the room). */
  async readEvent(roomId: string, eventId: string): Promise<{ type: string; sender: string; content: Record<string, unknown>; encrypted: boolean } | null> {
    try {
      const raw = await this.matrix.fetchRoomEvent(roomId, eventId);
      const ev = new sdk.MatrixEvent(raw);
      await this.matrix.decryptEventIfNeeded(ev);
      if (ev.isDecryptionFailure()) {
        // The sender's key may still be on its way as a to-device message.
        await this.nextSync(2000);
        await this.matrix.decryptEventIfNeeded(ev, { isRetry: true });
      }
      if (ev.isDecryptionFailure()) return null;
      return { type: ev.getType(), sender: ev.getSender() ?? "", content: ev.getContent(), encrypted: ev.isEncrypted() };
    } catch {
      return null;
    }
  }

  /** The room's create event (its id and who created the room), which never changes: asked of the server once per room. */
  private async createEvent(roomId: string): Promise<{ id: string; sender: string }> {
    const known = this.createEvents.get(roomId);
    if (known) return known;
    // Synapse's format=event answers with the whole event, id included (the content alone has none).
    const ev = await this.matrix.http.authedRequest<{ event_id?: unknown; sender?: unknown }>(sdk.Method.Get, `/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`, { format: "event" });
    if (typeof ev.event_id !== "string" || typeof ev.sender !== "string") throw new RetryableError(`the homeserver did not give the create event of ${roomId}`);
    const created = { id: ev.event_id, sender: ev.sender };
    this.createEvents.set(roomId, created);
    return created;
  }

  async createEventId(roomId: string): Promise<string> {
    return (await this.createEvent(roomId)).id;
  }

  /**
   * Whether another Rounds bot created the room: a page room the alerts bot was invited to as a
   * page's requester, say. Commands there are that bot's to answer.
   */
  async createdByAnotherBot(roomId: string): Promise<boolean> {
    const { sender } = await this.createEvent(roomId);
    return sender !== this.userId && sender.startsWith(BOT_PREFIX);
  }

  /** Who is joined to a room, from the server; empty for a room the bot is not in. */
  async joinedMembers(roomId: string): Promise<string[]> {
    try {
      return Object.keys((await this.matrix.getJoinedRoomMembers(roomId)).joined);
    } catch (err) {
      if (["M_NOT_FOUND", "M_FORBIDDEN"].includes((err as { errcode?: string }).errcode ?? "")) return [];
      throw err;
    }
  }

  /** A user's membership of a room, from the server's current state (not our possibly stale view). */
  async membership(roomId: string, userId: string): Promise<string | null> {
    try {
      const content = await this.matrix.getStateEvent(roomId, sdk.EventType.RoomMember, userId);
      return typeof content.membership === "string" ? content.membership : null;
    } catch (err) {
      // Not found, or a room the bot is not in: either way we cannot vouch for the membership.
      if (["M_NOT_FOUND", "M_FORBIDDEN"].includes((err as { errcode?: string }).errcode ?? "")) return null;
      throw err;
    }
  }

  /**
   * Whether the homeserver knows the user: a profile lookup, over federation for other servers.
   * A remote user whose profile is closed cannot be settled here: the invite will tell.
   */
  async userExists(userId: string): Promise<boolean> {
    return (await this.lookUp(userId)).found;
  }

  /** A user's display name, from their profile or, where that is closed to the bot, the staff directory. */
  async displayName(userId: string): Promise<string | null> {
    return (await this.lookUp(userId)).displayName;
  }

  /**
   * A user's profile. Synapse shows it only to people who share a room with them, so a refusal
   * (403) is settled by the staff directory, which lists every local user and the remote users
   * the server has seen; a remote user it has not seen is taken as given, since only their own
   * server could say.
   */
  private async lookUp(userId: string): Promise<{ found: boolean; displayName: string | null }> {
    try {
      const p = await this.matrix.getProfileInfo(userId);
      return { found: true, displayName: typeof p.displayname === "string" && p.displayname.trim() ? p.displayname.trim() : null };
    } catch (err) {
      const errcode = (err as { errcode?: string }).errcode ?? "";
      // Synapse answers 404 for unknown users; a user with no profile at all is rare enough to refuse.
      if (["M_NOT_FOUND", "M_UNKNOWN", "M_INVALID_PARAM"].includes(errcode)) return { found: false, displayName: null };
      if (errcode !== "M_FORBIDDEN") throw err;
      const match = (await this.searchDirectory(userId, 10)).results.find((r) => r.userId === userId);
      const local = userId.endsWith(`:${this.opts.serverName}`);
      return { found: match !== undefined || !local, displayName: match?.displayName ?? null };
    }
  }

  /** The staff directory's matches for a term (search_all_users): ids and names only. */
  async searchDirectory(term: string, limit: number): Promise<{ results: { userId: string; displayName: string | null }[]; limited: boolean }> {
    const found = await this.matrix.searchUserDirectory({ term, limit });
    return { results: found.results.map((r) => ({ userId: r.user_id, displayName: r.display_name?.trim() || null })), limited: found.limited };
  }

  /** Sends any room event type; like sendMessage, never in plaintext where the room must be encrypted. */
  async sendRoomEvent(roomId: string, type: string, content: Record<string, unknown>, txnId: string): Promise<string> {
    if (!(await this.ensureRoomEncryptor(roomId))) throw new RetryableError("room encryption not set up yet; refusing to send unencrypted");
    const txn = this.ownTxnId(txnId);
    return this.sentBefore(roomId, txn) ?? (await this.matrix.sendEvent(roomId, type as never, content as never, txn)).event_id;
  }

  /** Uploads bytes (already encrypted by the caller) and returns the mxc:// URL. */
  async upload(bytes: Uint8Array, name: string): Promise<string> {
    const res = await this.matrix.uploadContent(new Blob([bytes as BlobPart], { type: "application/octet-stream" }), { name, type: "application/octet-stream", includeFilename: false });
    return res.content_uri;
  }

  async setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void> {
    await this.matrix.sendStateEvent(roomId, type as never, content as never, stateKey);
  }

  /**
   * The bot reads commands from the inbox, never from its client's timelines, which would
   * otherwise grow without bound in a long-running process; keep only the recent tail.
   */
  private trimTimeline(roomId: string): void {
    const room = this.matrix.getRoom(roomId);
    const timeline = room?.getLiveTimeline();
    if (!room || !timeline || timeline.getEvents().length <= (this.opts.timelineEvents ?? DEFAULT_TIMELINE_EVENTS)) return;
    // Not while an event of ours is still on its way out. A sent one is settled: its remote
    // echo carries no transaction id (the bot sends as the appservice, not as this device), so
    // matrix-js-sdk never clears its "sent" status, and waiting for that would never trim.
    if (timeline.getEvents().some((e) => e.status !== null && e.status !== sdk.EventStatus.SENT)) return;
    room.resetLiveTimeline(null, null);
    this.log.debug({ roomId }, "bot: trimmed the client's in-memory timeline");
  }

  /**
   * matrix-js-sdk sets up a room's encryptor when its sync processes the room's m.room.encryption
   * state; right after a restart that can still be pending when the inbox or a timer wants to
   * send. Feed it the state event ourselves (idempotent), from the server if the client has not
   * got it. Returns whether the room is encrypted and ready to encrypt.
   */
  private async ensureRoomEncryptor(roomId: string): Promise<boolean> {
    const crypto = this.matrix.getCrypto() as unknown as {
      onCryptoEvent?(room: sdk.Room, ev: sdk.MatrixEvent): Promise<void>;
      roomEncryptors?: Record<string, unknown>;
    };
    if (crypto.roomEncryptors?.[roomId]) return true;
    const room = this.matrix.getRoom(roomId);
    if (!room || !crypto.onCryptoEvent) return false;
    let ev = room.currentState.getStateEvents(sdk.EventType.RoomEncryption, "");
    if (!ev) {
      let content: Record<string, unknown>;
      try {
        content = await this.matrix.getStateEvent(roomId, sdk.EventType.RoomEncryption, "");
      } catch (err) {
        if ((err as { errcode?: string }).errcode === "M_NOT_FOUND") return false; // not an encrypted room
        throw err;
      }
      ev = new sdk.MatrixEvent({ type: sdk.EventType.RoomEncryption, state_key: "", room_id: roomId, content });
    }
    await crypto.onCryptoEvent(room, ev);
    return Boolean(crypto.roomEncryptors?.[roomId]) || (await this.matrix.getCrypto()!.isEncryptionEnabledInRoom(roomId));
  }

  async stop(): Promise<void> {
    this.client?.stopClient();
    await this.snapshotter?.close();
    this.client = null;
  }
}
