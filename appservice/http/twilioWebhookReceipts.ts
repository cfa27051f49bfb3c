import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";

/** How long an unfinished handling blocks a replay: longer than any handling takes. */
const CLAIM_TIMEOUT_MS = 60_000;

/**
 * Which Twilio webhooks were already taken, by MessageSid, so a replayed or retried webhook
 * does nothing twice. The claim is the same statement that accepts the message: two
 * concurrent deliveries of one SID cannot both win it.
 */
export class TwilioWebhookReceipts {
  constructor(private readonly db: Db) {}

  /** True when this inbound message is ours to handle; false for a replay. */
  async claimInbound(messageSid: string, now = new Date()): Promise<boolean> {
    const inserted = await this.db("sms_inbound_messages").insert({ message_sid: messageSid, claimed_at: now }).onConflict("message_sid").ignore().returning("message_sid");
    if (inserted.length > 0) return true;
    // A handling that never finished (the process died): take it over once it is stale.
    const stale = await this.db("sms_inbound_messages")
      .where({ message_sid: messageSid })
      .whereNull("handled_at")
      .where("claimed_at", "<", new Date(now.getTime() - CLAIM_TIMEOUT_MS))
      .update({ claimed_at: now });
    return affectedRows(stale) > 0;
  }

  async inboundHandled(messageSid: string): Promise<void> {
    await this.db("sms_inbound_messages").where({ message_sid: messageSid }).update({ handled_at: new Date() });
  }

  /** A handling that failed gives its claim back, so Twilio's retry is handled. */
  async releaseInbound(messageSid: string): Promise<void> {
    await this.db("sms_inbound_messages").where({ message_sid: messageSid }).whereNull("handled_at").delete();
  }

  /** True the first time this status of this message arrives. */
  async claimStatus(messageSid: string, status: string): Promise<boolean> {
    const inserted = await this.db("sms_status_callbacks").insert({ message_sid: messageSid, status }).onConflict(["message_sid", "status"]).ignore().returning("message_sid");
    return inserted.length > 0;
  }

  async releaseStatus(messageSid: string, status: string): Promise<void> {
    await this.db("sms_status_callbacks").where({ message_sid: messageSid, status }).delete();
  }
}
