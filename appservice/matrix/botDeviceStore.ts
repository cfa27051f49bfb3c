import type { Db } from "../db/connect.js";

/** Remembers each bot's device id, so a restart logs back into the same device. */
export class BotDeviceStore {
  constructor(private readonly db: Db) {}

  async get(userId: string): Promise<string | null> {
    const row = await this.db("bot_devices").where({ user_id: userId }).first();
    return row?.device_id ?? null;
  }

  async set(userId: string, deviceId: string): Promise<void> {
    await this.db("bot_devices").insert({ user_id: userId, device_id: deviceId }).onConflict("user_id").merge();
  }
}
