import { createHash } from "node:crypto";
import type { Db } from "../db/connect.js";

export interface WidgetSession {
  userId: string;
  token: string;
  expiresTs: number;
}

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Widget API sessions in the database, so they survive a restart. The token itself is never
 * stored: only its SHA-256, as for calendar links. Shaped as the provisioning API's store.
 */
export class WidgetSessionStore {
  constructor(private readonly db: Db) {}

  async getSessionForToken(token: string): Promise<WidgetSession | null> {
    const row = await this.db("widget_sessions").where({ token_hash: hash(token) }).first();
    return row ? { userId: row.user_id, token, expiresTs: new Date(row.expires_at).getTime() } : null;
  }

  async createSession(s: WidgetSession): Promise<void> {
    // Expired sessions go when new ones come: the table stays the size of the active users.
    await this.db("widget_sessions").where("expires_at", "<", new Date()).delete();
    await this.db("widget_sessions").insert({ token_hash: hash(s.token), user_id: s.userId, expires_at: new Date(s.expiresTs) });
  }

  async deleteSession(token: string): Promise<void> {
    await this.db("widget_sessions").where({ token_hash: hash(token) }).delete();
  }

  async deleteAllSessions(userId: string): Promise<void> {
    await this.db("widget_sessions").where({ user_id: userId }).delete();
  }
}
