import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/connect.js";
import type { OnCallService } from "./oncallService.js";

const DAY_MS = 86_400_000;
const hash = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Private calendar feeds: a clinician subscribes their own calendar app to a secret URL and sees
 * their shifts, kept current. The feed holds shift times and service names only; the secret is
 * stored hashed, and issuing a new one revokes the old.
 */
export class CalendarFeeds {
  constructor(
    private readonly db: Db,
    private readonly oncall: OnCallService,
    private readonly opts: { pastDays: number; futureDays: number } = { pastDays: 14, futureDays: 120 },
  ) {}

  /** A new secret for the user's feed; any earlier one stops working. */
  async issue(userId: string): Promise<string> {
    const token = randomBytes(24).toString("base64url");
    await this.db.transaction(async (trx) => {
      await trx("calendar_feeds").where({ user_id: userId }).delete();
      await trx("calendar_feeds").insert({ token_hash: hash(token), user_id: userId });
    });
    return token;
  }

  async revoke(userId: string): Promise<boolean> {
    const row = await this.db("calendar_feeds").where({ user_id: userId }).first();
    if (!row) return false;
    await this.db("calendar_feeds").where({ user_id: userId }).delete();
    return true;
  }

  /** The feed's iCalendar text, or null for a token that is not (or no longer) valid. */
  async feed(token: string, now = new Date()): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(token)) return null;
    const row = await this.db("calendar_feeds").where({ token_hash: hash(token) }).first();
    if (!row) return null;
    return this.oncall.icalForUser(row.user_id, new Date(now.getTime() - this.opts.pastDays * DAY_MS), new Date(now.getTime() + this.opts.futureDays * DAY_MS));
  }
}
