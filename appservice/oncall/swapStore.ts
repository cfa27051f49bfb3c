import { affectedRows, type Db } from "../db/connect.js";

export type SwapStatus = "requested" | "accepted" | "declined" | "cancelled";

export interface SwapRequest {
  id: number;
  serviceId: string;
  level: string;
  requester: string;
  counterpart: string;
  from: Date;
  until: Date;
  /** A trade: the counterpart's slot the requester takes in return. */
  returnSlot: { level: string; from: Date; until: Date } | null;
  status: SwapStatus;
  declineReason: string | null;
  overrideIds: number[];
  createdAt: Date;
  decidedAt: Date | null;
}

export type NewSwap = Omit<SwapRequest, "id" | "status" | "declineReason" | "overrideIds" | "createdAt" | "decidedAt">;

const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;

function fromRow(r: Record<string, unknown>): SwapRequest {
  return {
    id: Number(r.id),
    serviceId: r.service_id as string,
    level: r.level as string,
    requester: r.requester as string,
    counterpart: r.counterpart as string,
    from: new Date(r.starts_at as string),
    until: new Date(r.ends_at as string),
    returnSlot: r.return_level
      ? { level: r.return_level as string, from: new Date(r.return_starts_at as string), until: new Date(r.return_ends_at as string) }
      : null,
    status: r.status as SwapStatus,
    declineReason: (r.decline_reason as string | null) ?? null,
    overrideIds: json<number[]>(r.override_ids) ?? [],
    createdAt: new Date(r.created_at as string),
    decidedAt: r.decided_at ? new Date(r.decided_at as string) : null,
  };
}

/** The database port for swap requests. Every decision is a guarded update from 'requested'. */
export class SwapStore {
  constructor(readonly db: Db) {}

  async create(s: NewSwap, trx: Db = this.db): Promise<SwapRequest> {
    const [row] = await trx("swap_requests")
      .insert({
        service_id: s.serviceId,
        level: s.level,
        requester: s.requester,
        counterpart: s.counterpart,
        starts_at: s.from,
        ends_at: s.until,
        return_level: s.returnSlot?.level ?? null,
        return_starts_at: s.returnSlot?.from ?? null,
        return_ends_at: s.returnSlot?.until ?? null,
      })
      .returning("*");
    return fromRow(row);
  }

  async get(id: number): Promise<SwapRequest | null> {
    const row = await this.db("swap_requests").where({ id }).first();
    return row ? fromRow(row) : null;
  }

  /** Open requests the user made or was asked, oldest first. */
  async listOpen(userId: string): Promise<SwapRequest[]> {
    const rows = await this.db("swap_requests")
      .where({ status: "requested" })
      .andWhere((q) => q.where({ requester: userId }).orWhere({ counterpart: userId }))
      .orderBy("id");
    return rows.map(fromRow);
  }

  /** Moves a request from 'from' to 'to'; false when someone else decided it first. */
  async transition(id: number, from: SwapStatus, to: SwapStatus, fields: { declineReason?: string | null; overrideIds?: number[] } = {}, trx: Db = this.db): Promise<boolean> {
    const update: Record<string, unknown> = { status: to, decided_at: to === "requested" ? null : new Date() };
    if (fields.declineReason !== undefined) update.decline_reason = fields.declineReason;
    if (fields.overrideIds) update.override_ids = JSON.stringify(fields.overrideIds);
    return affectedRows(await trx("swap_requests").where({ id, status: from }).update(update)) === 1;
  }

  async setOverrideIds(id: number, overrideIds: number[]): Promise<void> {
    await this.db("swap_requests").where({ id }).update({ override_ids: JSON.stringify(overrideIds) });
  }
}
