/**
 * The port through which domain services act in Matrix: encrypted rooms, invites, messages and
 * Rounds state. Messages are encrypted by the implementation; state is never encrypted, so
 * callers put workflow metadata only in it.
 */
export interface RoomMessage {
  body: string;
  /** Users to mention: their clients notify them (and highlight) on decrypting the message. */
  mentions?: string[];
  /** A notice does not notify; bot chatter and step logs. A page is never a notice. */
  notice?: boolean;
  /** Relates this message to an earlier one (m.reference), e.g. each step to the page. */
  references?: string;
}

export interface OpenRoomOptions {
  name?: string;
  members: string[];
  direct?: boolean;
  /** State the room is created with (one request instead of one per event); unencrypted, so no PHI. */
  initialState?: { type: string; stateKey: string; content: Record<string, unknown> }[];
}

export interface RoomWriter {
  /**
   * The encrypted room for `key` (e.g. one requester/on-call pair), created on first use with
   * these members invited and reused afterwards; members missing from a reused room are invited.
   */
  openRoom(key: string, opts: OpenRoomOptions): Promise<string>;
  /** The room kept for `key`, if there is one: never creates it. */
  findRoom(key: string): Promise<string | null>;
  invite(roomId: string, userIds: string[]): Promise<void>;
  /** Stops reusing the room for `key` (it has more members now); the next openRoom creates a new one. */
  retire(key: string, roomId: string): Promise<void>;
  /** `txnKey` names what is being sent; the same key sends the same event once. Returns its event id. */
  send(roomId: string, message: RoomMessage, txnKey: string): Promise<string>;
  /** The body of a message the bot sent earlier, decrypted, or null if it cannot be read. */
  readMessage(roomId: string, eventId: string): Promise<string | null>;
  setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void>;
  /** Sends a custom room event (encrypted), e.g. a relayed structured request. Same key, same event. */
  sendEvent(roomId: string, type: string, content: Record<string, unknown>, txnKey: string): Promise<string>;
  /**
   * Encrypts `bytes` as an attachment (AES-CTR, as the spec's EncryptedFile), uploads the
   * ciphertext and posts it as an m.file message in the (encrypted) room. Same key, same event.
   */
  sendFile(roomId: string, file: { name: string; mimetype: string; bytes: Uint8Array; body?: string }, txnKey: string): Promise<string>;
  /** Posts an already-encrypted attachment again (e.g. a relayed request's files), by its EncryptedFile. */
  resendFile(roomId: string, file: { name: string; mimetype: string; size: number; file: Record<string, unknown> }, txnKey: string): Promise<string>;
  /**
   * The id of the room's m.room.create event. Widgets can always find it in the room's state, so
   * an event that refers to it (m.reference) can be fetched through the homeserver's relations
   * even after it fell out of the client's in-memory timeline.
   */
  roomCreateEventId(roomId: string): Promise<string>;
  /** Any event in a room the bot is in, decrypted; null if it cannot be read. */
  readEvent(roomId: string, eventId: string): Promise<{ type: string; sender: string; content: Record<string, unknown>; encrypted: boolean } | null>;
  /** The user's membership in the room as the bot sees it ("join", "invite", ...), or null. */
  membership(roomId: string, userId: string): Promise<string | null>;
  /** Who is joined to the room, from the server's state; empty for a room the bot is not in. */
  joinedMembers(roomId: string): Promise<string[]>;
  /** Installs (or updates) a widget in the room and pins it at the top (Element's layout). */
  installWidget(roomId: string, widget: RoomWidget): Promise<void>;
  /** The state events that install a widget, to create a room with it already pinned. */
  widgetState(widget: RoomWidget): { type: string; stateKey: string; content: Record<string, unknown> }[];
}

export interface RoomWidget {
  /** Stable per room and purpose, e.g. "rounds-consult". */
  id: string;
  name: string;
  /** Absolute URL; may use Element's $matrix_* template variables. */
  url: string;
  /** Widget-specific data (no PHI: it is unencrypted state). */
  data?: Record<string, unknown>;
  /** Height of the pinned container, in percent of the room view. */
  heightPercent?: number;
}
