import { createHash } from "node:crypto";
import type { BotClient } from "./botClient.js";
import type { Db } from "../db/connect.js";
import type { Notifier } from "../ports/notifier.js";
import type { OpenRoomOptions, RoomMessage, RoomWidget, RoomWriter } from "../ports/roomWriter.js";
import type { AtRest } from "../shared/atRest.js";
import { encryptAttachment } from "../shared/attachmentCrypto.js";
import { WidgetStateType } from "../shared/events/index.js";

function txnIdFor(txnKey: string): string {
  return `rounds-${createHash("sha256").update(txnKey).digest("base64url").slice(0, 32)}`;
}

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
    /** Seals what is kept between an upload and its message: the file's key would open the file. */
    private readonly atRest: AtRest,
    /** Every registered workflow's state types: only the bots may write them in the rooms created here. */
    private readonly botOnlyStateTypes: readonly string[],
  ) {}

  async openRoom(key: string, opts: OpenRoomOptions): Promise<string> {
    // Concurrent pages between the same pair share one creation.
    const pending = this.opening.get(key);
    if (pending) return pending.then(async (roomId) => (await this.invite(roomId, opts.members), roomId));
    const p = this.findOrCreate(key, opts).finally(() => this.opening.delete(key));
    this.opening.set(key, p);
    return p;
  }

  private async findOrCreate(key: string, opts: OpenRoomOptions): Promise<string> {
    const row = await this.db("bot_rooms").where({ purpose_key: key }).first();
    if (row && this.bot.isJoined(row.room_id)) {
      await this.bot.invite(row.room_id, opts.members);
      return row.room_id as string;
    }
    const roomId = await this.bot.createEncryptedRoom({
      name: opts.name,
      invite: opts.members,
      direct: opts.direct ?? false,
      initialState: opts.initialState ?? [],
      // Widgets too: a clinician must not be able to swap the pinned widget for another page.
      botOnlyStateTypes: [...this.botOnlyStateTypes, ...Object.values(WidgetStateType)],
    });
    await this.db("bot_rooms").insert({ purpose_key: key, room_id: roomId }).onConflict("purpose_key").merge();
    return roomId;
  }

  async findRoom(key: string): Promise<string | null> {
    const row = (await this.db("bot_rooms").where({ purpose_key: key }).first("room_id")) as { room_id: string } | undefined;
    return row?.room_id ?? null;
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
    return this.bot.sendMessage(roomId, content, txnIdFor(txnKey), { mustEncrypt: true });
  }

  sendEvent(roomId: string, type: string, content: Record<string, unknown>, txnKey: string): Promise<string> {
    return this.bot.sendRoomEvent(roomId, type, content, txnIdFor(txnKey));
  }

  async sendFile(roomId: string, file: { name: string; mimetype: string; bytes: Uint8Array; body?: string }, txnKey: string): Promise<string> {
    // A retried send must not upload again under a new key: remember the upload per txn key.
    const uploaded = await this.db("bot_uploads").where({ txn_key: txnIdFor(txnKey) }).first();
    let encrypted: Record<string, unknown>;
    if (uploaded) encrypted = JSON.parse(this.atRest.open(uploaded.file_json));
    else {
      const { ciphertext, info } = await encryptAttachment(file.bytes);
      const url = await this.bot.upload(ciphertext, "attachment");
      encrypted = { ...info, url };
      await this.db("bot_uploads").insert({ txn_key: txnIdFor(txnKey), file_json: this.atRest.seal(JSON.stringify(encrypted)) }).onConflict("txn_key").ignore();
    }
    const eventId = await this.resendFile(roomId, { name: file.name, mimetype: file.mimetype, size: file.bytes.byteLength, file: encrypted, body: file.body }, txnKey);
    await this.db("bot_uploads").where({ txn_key: txnIdFor(txnKey) }).delete();
    return eventId;
  }

  resendFile(roomId: string, file: { name: string; mimetype: string; size: number; file: Record<string, unknown>; body?: string }, txnKey: string): Promise<string> {
    const msgtype = file.mimetype.startsWith("image/") ? "m.image" : "m.file";
    const content = { msgtype, body: file.body ?? file.name, filename: file.name, info: { mimetype: file.mimetype, size: file.size }, file: file.file };
    return this.bot.sendMessage(roomId, content, txnIdFor(`file:${txnKey}`), { mustEncrypt: true });
  }

  readEvent(roomId: string, eventId: string): Promise<{ type: string; sender: string; content: Record<string, unknown>; encrypted: boolean } | null> {
    return this.bot.readEvent(roomId, eventId);
  }

  roomCreateEventId(roomId: string): Promise<string> {
    return this.bot.createEventId(roomId);
  }

  membership(roomId: string, userId: string): Promise<string | null> {
    return this.bot.membership(roomId, userId);
  }

  joinedMembers(roomId: string): Promise<string[]> {
    return this.bot.joinedMembers(roomId);
  }

  userExists(userId: string): Promise<boolean> {
    return this.bot.userExists(userId);
  }

  async installWidget(roomId: string, widget: RoomWidget): Promise<void> {
    for (const e of this.widgetState(widget)) await this.bot.setState(roomId, e.type, e.stateKey, e.content);
  }

  widgetState(widget: RoomWidget): { type: string; stateKey: string; content: Record<string, unknown> }[] {
    return [
      {
        type: WidgetStateType.Widget,
        stateKey: widget.id,
        content: { id: widget.id, type: "m.custom", name: widget.name, url: widget.url, data: widget.data ?? {}, creatorUserId: this.bot.userId, waitForIframeLoad: true },
      },
      // Pinned at the top of the room, as Element's layout state describes.
      {
        type: WidgetStateType.Layout,
        stateKey: "",
        content: { widgets: { [widget.id]: { container: "top", index: 0, width: 100, height: widget.heightPercent ?? 40 } } },
      },
    ];
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
