import type { Db } from "../db/connect.js";
import type { Urgency } from "../shared/events/index.js";

/** Seconds after the in-app notification to send an SMS, per urgency; null means never. */
export type SmsRules = Record<Urgency, number | null>;

export interface Contact {
  userId: string;
  phone: string | null;
  smsAfter: SmsRules;
}

/** Phone numbers and personal notification rules: kept in the database and nowhere else. */
export class ContactStore {
  constructor(
    private readonly db: Db,
    private readonly defaults: SmsRules,
  ) {}

  async get(userId: string): Promise<Contact> {
    const r = await this.db("clinician_contacts").where({ user_id: userId }).first();
    if (!r) return { userId, phone: null, smsAfter: { ...this.defaults } };
    const rules = (typeof r.sms_after === "string" ? JSON.parse(r.sms_after) : r.sms_after) as Partial<SmsRules>;
    return { userId, phone: r.phone ?? null, smsAfter: { ...this.defaults, ...rules } };
  }

  async byPhone(phone: string): Promise<Contact | null> {
    const r = await this.db("clinician_contacts").where({ phone }).first();
    return r ? this.get(r.user_id) : null;
  }

  async set(userId: string, change: { phone?: string | null; smsAfter?: Partial<SmsRules> }): Promise<Contact> {
    const current = await this.get(userId);
    const next = {
      phone: change.phone === undefined ? current.phone : change.phone,
      smsAfter: { ...current.smsAfter, ...(change.smsAfter ?? {}) },
    };
    await this.db("clinician_contacts")
      .insert({ user_id: userId, phone: next.phone, sms_after: JSON.stringify(next.smsAfter), updated_at: new Date() })
      .onConflict("user_id")
      .merge();
    return { userId, ...next };
  }
}
