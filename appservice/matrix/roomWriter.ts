import { createHash } from "node:crypto";
import type { BotClient } from "../../bots/botClient.js";
import type { Db } from "../db/connect.js";
import type { Notifier } from "../ports/notifier.js";
import type { RoomMessage, RoomWriter } from "../ports/roomWriter.js";
import { StateType } from "../shared/events.js";

/**
 * The Matrix side of the room-writer and notifier ports, acting as one bot's E2EE client. Rooms
 * it opens are remembered in `bot_rooms` by purpose. It sits apart from the bots' inbox
 * adapters: domain services write through it, never through the command handlers.
 */
export class MatrixRoomWriter implements RoomWriter, Notifier {
  private readonly opening = new Map<string, Promise<string>>();

  constructor(
    private readonly bot: BotClient,
    private readonly db: Db,
  ) {}

  async openRoom(key: string, opts: { name?: string; members: string[]; direct?: boolean }): Promise<string> {
    // Concurrent pages between the same pair share one creation.
    const pending = this.opening.get(key);
    if (pending) return pending.then(async (roomId) => (await this.invite(roomId, opts.members), roomId));
    const p = this.findOrCreate(key, opts).finally(() => this.opening.delete(key));
    this.opening.set(key, p);
    return p;
  }

  private async findOrCreate(key: string, opts: { name?: string; members: string[]; direct?: boolean }): Promise<string> {
    const row = await this.db("bot_rooms").where({ purpose_key: key }).first();
    if (row && this.bot.isJoined(row.room_id)) {
      await this.bot.invite(row.room_id, opts.members);
      return row.room_id as string;
    }
    const roomId = await this.bot.createEncryptedRoom({
      name: opts.name,
      invite: opts.members,
      direct: opts.direct ?? false,
      botOnlyStateTypes: Object.values(StateType),
    });
    await this.db("bot_rooms").insert({ purpose_key: key, room_id: roomId }).onConflict("purpose_key").merge();
    return roomId;
  }

  async retire(key: string, roomId: string): Promise<void> {
    await this.db("bot_rooms").where({ purpose_key: key, room_id: roomId }).delete();
  }

  invite(roomId: string, userIds: string[]): Promise<void> {
    return this.bot.invite(roomId, userIds);
  }

  async send(roomId: string, message: RoomMessage, txnKey: string): Promise<string> {
    const mentions = message.mentions ?? [];
    const content: Record<string, unknown> = {
      msgtype: message.notice ? "m.notice" : "m.text",
      body: message.body,
      "m.mentions": { user_ids: mentions },
    };
    if (message.references) content["m.relates_to"] = { rel_type: "m.reference", event_id: message.references };
    const txnId = `rounds-${createHash("sha256").update(txnKey).digest("base64url").slice(0, 32)}`;
    return this.bot.sendMessage(roomId, content, txnId, { mustEncrypt: true });
  }

  readMessage(roomId: string, eventId: string): Promise<string | null> {
    return this.bot.readMessage(roomId, eventId);
  }

  setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void> {
    return this.bot.setState(roomId, type, stateKey, content);
  }

  /** The Notifier: an encrypted direct message from the bot. */
  async tellUser(userId: string, text: string, txnKey = `${userId}:${Date.now()}:${text}`): Promise<void> {
    // Each DM is keyed by its recipient; a retried call with the same key is one message.
    const roomId = await this.openRoom(`dm:${userId}`, { members: [userId], direct: true });
    await this.send(roomId, { body: text, mentions: [userId] }, `dm:${txnKey}`);
  }
}
