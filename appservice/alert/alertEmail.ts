import nodemailer, { type Transporter } from "nodemailer";
import type { Db } from "../db/connect.js";
import type { Logger } from "../logging.js";
import type { AlertPriority } from "../shared/events/index.js";

/** An address as a clinician gives it: plain, one @, a dotted domain; nothing that could smuggle headers. */
export const EMAIL_ADDRESS = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;

/** Timer: one person's failed alert email, tried again (ref: the alert, step: "<user>|<when armed>"). */
export const TIMER_ALERT_EMAIL = "alert.email";
export const EMAIL_RETRY_MS = 2 * 60_000;

const WORDS: Record<AlertPriority, string> = { critical: "A critical result", urgent: "An urgent result", informational: "A result" };

/**
 * Email as one more way to reach a clinician: it says only that a result is waiting in Rounds
 * and which alert number, never the patient or the value, because email leaves the hospital's
 * encryption. Each clinician chooses their address with `!email`; each alert is mailed to each
 * person at most once.
 */
export class AlertEmail {
  private readonly transport: Transporter;

  constructor(
    private readonly deps: {
      db: Db;
      smtpUrl: string;
      from: string;
      /** Arms a retry of one person's email (a durable timer); without it a failed email is only logged. */
      retryLater?: (alertId: string, userId: string) => Promise<void>;
      log: Logger;
    },
  ) {
    this.transport = nodemailer.createTransport(deps.smtpUrl);
  }

  async setAddress(userId: string, email: string | null): Promise<void> {
    if (email === null) {
      await this.deps.db("alert_contacts").where({ user_id: userId }).delete();
      return;
    }
    await this.deps.db("alert_contacts").insert({ user_id: userId, email, updated_at: new Date() }).onConflict("user_id").merge(["email", "updated_at"]);
  }

  async addressOf(userId: string): Promise<string | null> {
    const row = (await this.deps.db("alert_contacts").where({ user_id: userId }).first("email")) as { email: string } | undefined;
    return row?.email ?? null;
  }

  /** Mails each of `users` who gave an address, once per alert. */
  async tell(alert: { id: string; number: number; priority: AlertPriority }, users: readonly string[]): Promise<void> {
    for (const userId of users) {
      const to = await this.addressOf(userId);
      if (!to) continue;
      const claimed = await this.deps.db("alert_emails").insert({ alert_id: alert.id, user_id: userId, sent_at: new Date() }).onConflict(["alert_id", "user_id"]).ignore().returning("alert_id");
      if (!claimed.length) continue;
      try {
        await this.transport.sendMail({
          from: this.deps.from,
          to,
          subject: `Rounds: ${WORDS[alert.priority].toLowerCase()} is waiting (alert #${alert.number})`,
          text: `${WORDS[alert.priority]} is waiting for you in Rounds: alert #${alert.number}.\n\nOpen the Rounds app to read and acknowledge it. This email carries no patient details.\n`,
        });
        this.deps.log.info({ alert: alert.id, number: alert.number, user: userId }, "alert emailed");
      } catch (err) {
        // Unclaimed, and tried again later while the alert is open; the address stays out of the log.
        await this.deps.db("alert_emails").where({ alert_id: alert.id, user_id: userId }).delete();
        this.deps.log.warn({ alert: alert.id, user: userId, err: err instanceof Error ? err.name : "error" }, "alert email failed; retrying later");
        await this.deps.retryLater?.(alert.id, userId);
      }
    }
  }

  close(): void {
    this.transport.close();
  }
}
