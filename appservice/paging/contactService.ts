import { DomainError, type DomainErrorCode } from "../shared/domainError.js";
import { matrixUserId, URGENCIES, type Urgency } from "../shared/events/index.js";
import { quote } from "../shared/quote.js";
import type { Contact, ContactStore, SmsRules } from "./contactStore.js";

/** A contact change that cannot be saved; the message says what to fix. Nothing was changed. */
export class ContactError extends DomainError {
  constructor(reason: DomainErrorCode, message: string) {
    super(reason, message, reason, "contact");
    this.name = "ContactError";
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_DELAY_S = 86_400;

/**
 * A clinician's phone number and SMS rules: every change, from chat or from IT's admin API, is
 * validated here. A number belongs to one clinician, or an SMS reply could acknowledge a page
 * in someone else's name.
 */
export class ContactService {
  constructor(private readonly store: ContactStore) {}

  get(userId: string): Promise<Contact> {
    return this.store.get(userId);
  }

  async update(userId: string, change: { phone?: string | null; smsAfter?: Record<string, unknown> }): Promise<Contact> {
    if (!matrixUserId.safeParse(userId).success) throw new ContactError("invalid_input", `'${quote(userId)}' is not a Matrix user id such as @alice:rounds.local`);
    if (change.phone !== undefined && change.phone !== null && !E164.test(change.phone)) {
      throw new ContactError("invalid_input", "The phone number must be in international format, e.g. +447700900123");
    }
    const smsAfter: Partial<SmsRules> = {};
    for (const [key, value] of Object.entries(change.smsAfter ?? {})) {
      if (!(URGENCIES as readonly string[]).includes(key)) throw new ContactError("invalid_input", `'${quote(key)}' is not an urgency; use ${URGENCIES.join(", ")}`);
      if (value !== null && (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_DELAY_S)) {
        throw new ContactError("invalid_input", `The SMS delay for ${key} must be whole seconds from 0 to ${MAX_DELAY_S}, or off`);
      }
      smsAfter[key as Urgency] = value as number | null;
    }
    if (change.phone) {
      const holder = await this.store.byPhone(change.phone);
      if (holder && holder.userId !== userId) {
        throw new ContactError("conflict", "That number is already on file for another clinician. Each number can belong to one person; ask IT to correct the other entry.");
      }
    }
    return this.store.set(userId, { phone: change.phone, smsAfter });
  }
}
