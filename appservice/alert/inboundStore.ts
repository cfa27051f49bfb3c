import type { Db } from "../db/connect.js";
import type { AtRest } from "../shared/atRest.js";

export interface InboundMessage {
  source: string;
  /** What makes a retry the same message: MSH-10, or the FHIR resource's id and version. */
  key: string;
  kind: "hl7v2" | "fhir";
  /** ORU^R01, ADT^A08, Observation … (no patient data). */
  type: string;
  /** The message as received. PHI: stored sealed. */
  payload: string;
}

export interface StoredInbound {
  id: number;
  source: string;
  key: string;
  kind: InboundMessage["kind"];
  type: string;
  receivedAt: Date;
  payload: string;
}

/** HL7 v2 text with MSH-7 blanked: an engine may stamp a new send time on a resend of the same message. */
function withoutSendTime(text: string): string {
  const [msh = "", ...rest] = text.split(/\r\n|\r|\n/);
  const sep = msh.charAt(3);
  if (!msh.startsWith("MSH") || !sep) return text;
  const fields = msh.split(sep);
  if (fields.length > 6) fields[6] = "";
  return [fields.join(sep), ...rest].join("\r");
}

/** A message under a key (MSH-10, FHIR id and version) already used for different content. */
export class ReusedKeyError extends Error {
  constructor(readonly key: string) {
    super("this message id was already used for a different message");
  }
}

/** A message whose processing failed this often waits for a person instead of being retried. */
export const MAX_INBOUND_ATTEMPTS = 5;

/** Purpose of the at-rest key for inbound messages (each purpose derives its own key). */
export const INBOUND_AT_REST_PURPOSE = "alert messages";

/**
 * The ledger of inbound messages. `record` commits before the caller acknowledges, and a retry
 * of a recorded message is reported as a duplicate, not stored again: at-least-once from the
 * sender becomes once here.
 */
export class InboundStore {
  constructor(
    private readonly db: Db,
    private readonly atRest: AtRest,
    /** Told of each message offered: new ones wake whoever processes them; both are counted. */
    private readonly onRecorded: (m: InboundMessage, duplicate: boolean) => void = () => undefined,
  ) {}

  async record(m: InboundMessage, now = new Date()): Promise<{ id: number; duplicate: boolean }> {
    const digest = this.atRest.digest(m.kind === "hl7v2" ? withoutSendTime(m.payload) : m.payload);
    const inserted = await this.db("alert_inbound")
      .insert({ source: m.source, message_key: m.key, kind: m.kind, message_type: m.type, received_at: now, sealed_payload: this.atRest.seal(m.payload), content_digest: digest })
      .onConflict(["source", "message_key"])
      .ignore()
      .returning("id");
    if (inserted.length) {
      this.onRecorded(m, false);
      return { id: Number((inserted[0] as { id: number | string }).id), duplicate: false };
    }
    const row = (await this.db("alert_inbound").where({ source: m.source, message_key: m.key }).first("id", "content_digest")) as { id: number | string; content_digest: string };
    // A resend is the same message; another message under a used key would be silently lost.
    if (row.content_digest !== digest) throw new ReusedKeyError(m.key);
    this.onRecorded(m, true);
    return { id: Number(row.id), duplicate: true };
  }

  /** Several messages that arrived together (a FHIR Bundle): all recorded, or none. */
  async recordAll(ms: readonly InboundMessage[], now = new Date()): Promise<Array<{ id: number; duplicate: boolean }>> {
    const out = await this.db.transaction(async (trx) => {
      const results: Array<{ id: number; duplicate: boolean }> = [];
      for (const m of ms) results.push(await new InboundStore(trx, this.atRest).record(m, now));
      return results;
    });
    // Told only once the whole Bundle is committed.
    out.forEach((r, i) => this.onRecorded(ms[i]!, r.duplicate));
    return out;
  }

  /** Recorded messages not yet turned into alerts, oldest first, opened. */
  async unprocessed(limit = 100): Promise<StoredInbound[]> {
    const rows = (await this.db("alert_inbound").whereNull("processed_at").where("attempts", "<", MAX_INBOUND_ATTEMPTS).orderBy("id").limit(limit)) as Array<{
      id: number | string;
      source: string;
      message_key: string;
      kind: InboundMessage["kind"];
      message_type: string;
      received_at: Date | string;
      sealed_payload: string;
    }>;
    return rows.map((r) => ({ id: Number(r.id), source: r.source, key: r.message_key, kind: r.kind, type: r.message_type, receivedAt: new Date(r.received_at), payload: this.atRest.open(r.sealed_payload) }));
  }

  /** One more failed attempt at processing; returns how many there have been. */
  async failed(id: number): Promise<number> {
    await this.db("alert_inbound").where({ id }).increment("attempts", 1);
    const row = (await this.db("alert_inbound").where({ id }).first("attempts")) as { attempts: number };
    return row.attempts;
  }

  /** Messages that failed too often: still sealed, waiting for a person (metrics and health report them). */
  async stuck(): Promise<number> {
    const [row] = (await this.db("alert_inbound").whereNull("processed_at").where("attempts", ">=", MAX_INBOUND_ATTEMPTS).count({ n: "*" })) as Array<{ n: number | string }>;
    return Number(row!.n);
  }

  /** Done with a message: its payload is dropped, its ids and times stay for the trail. */
  async markProcessed(id: number, now = new Date()): Promise<void> {
    await this.db("alert_inbound").where({ id }).whereNull("processed_at").update({ processed_at: now, sealed_payload: null });
  }

  async count(source?: string): Promise<number> {
    const q = this.db("alert_inbound");
    if (source) void q.where({ source });
    const [row] = (await q.count({ n: "*" })) as Array<{ n: number | string }>;
    return Number(row!.n);
  }
}
