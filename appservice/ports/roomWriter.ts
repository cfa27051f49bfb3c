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

export interface RoomWriter {
  /**
   * The encrypted room for `key` (e.g. one requester/on-call pair), created on first use with
   * these members invited and reused afterwards; members missing from a reused room are invited.
   */
  openRoom(key: string, opts: { name?: string; members: string[]; direct?: boolean }): Promise<string>;
  invite(roomId: string, userIds: string[]): Promise<void>;
  /** Stops reusing the room for `key` (it has more members now); the next openRoom creates a new one. */
  retire(key: string, roomId: string): Promise<void>;
  /** `txnKey` names what is being sent; the same key sends the same event once. Returns its event id. */
  send(roomId: string, message: RoomMessage, txnKey: string): Promise<string>;
  /** The body of a message the bot sent earlier, decrypted, or null if it cannot be read. */
  readMessage(roomId: string, eventId: string): Promise<string | null>;
  setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void>;
}
