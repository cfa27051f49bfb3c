import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";
import type { ConsultOutcome, ConsultStatus, Urgency } from "../shared/events/index.js";
import type { BillingSuggestion } from "./billing.js";
import type { TimingRow } from "../shared/responseTimes.js";

export const ACTIVE_STATUSES: ConsultStatus[] = ["requested", "accepted", "in_progress"];
export const TERMINAL_STATUSES: ConsultStatus[] = ["declined", "completed", "cancelled"];
export type AcceptVia = "widget" | "command" | "reaction";

/** A consult as the database holds it: workflow facts only, never clinical text. */
export interface Consult {
  id: string;
  number: number;
  serviceId: string;
  urgency: Urgency;
  status: ConsultStatus;
  requester: string;
  preferred: string | null;
  careTeam: string[];
  candidates: string[];
  declinedBy: string[];
  step: number;
  exhausted: boolean;
  sourceRoomId: string;
  sourceEventId: string;
  roomId: string | null;
  requestEventId: string | null;
  requestMessageEventId: string | null;
  deliveredStep: number | null;
  consultant: string | null;
  acceptedVia: AcceptVia | null;
  acceptBy: Date | null;
  acceptedAt: Date | null;
  expectedMinutes: number | null;
  respondBy: Date | null;
  overdue: boolean;
  startedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  declinedAt: Date | null;
  reportEventId: string | null;
  billing: BillingSuggestion | null;
  rating: number | null;
  outcome: ConsultOutcome | null;
  createdAt: Date;
}

const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
const date = (v: unknown): Date | null => (v ? new Date(v as string) : null);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toConsult(r: Record<string, unknown>): Consult {
  return {
    id: r.id as string,
    number: Number(r.number),
    serviceId: r.service_id as string,
    urgency: r.urgency as Urgency,
    status: r.status as ConsultStatus,
    requester: r.requester as string,
    preferred: str(r.preferred),
    careTeam: json<string[]>(r.care_team),
    candidates: json<string[]>(r.candidates),
    declinedBy: json<string[]>(r.declined_by),
    step: Number(r.step),
    exhausted: Boolean(r.exhausted),
    sourceRoomId: r.source_room_id as string,
    sourceEventId: r.source_event_id as string,
    roomId: str(r.room_id),
    requestEventId: str(r.request_event_id),
    requestMessageEventId: str(r.request_message_event_id),
    deliveredStep: r.delivered_step === null || r.delivered_step === undefined ? null : Number(r.delivered_step),
    consultant: str(r.consultant),
    acceptedVia: str(r.accepted_via) as AcceptVia | null,
    acceptBy: date(r.accept_by),
    acceptedAt: date(r.accepted_at),
    expectedMinutes: r.expected_response_minutes === null || r.expected_response_minutes === undefined ? null : Number(r.expected_response_minutes),
    respondBy: date(r.respond_by),
    overdue: Boolean(r.overdue),
    startedAt: date(r.started_at),
    completedAt: date(r.completed_at),
    cancelledAt: date(r.cancelled_at),
    declinedAt: date(r.declined_at),
    reportEventId: str(r.report_event_id),
    billing: r.billing_code ? { code: r.billing_code as string, description: (r.billing_description as string) ?? "", rationale: (r.billing_rationale as string) ?? "" } : null,
    rating: r.rating === null || r.rating === undefined ? null : Number(r.rating),
    outcome: str(r.outcome) as ConsultOutcome | null,
    createdAt: new Date(r.created_at as string),
  };
}

const contains = (column: string) => `${column} @> ?::jsonb`;

/**
 * The consult port. Every transition is a guarded UPDATE (`WHERE status = ... AND step = ...`),
 * so a racing accept, decline, cancel or timer leaves exactly one winner.
 */
export class ConsultStore {
  constructor(readonly db: Db) {}

  /** Inserts the consult, or returns null if one already exists for the same source event. */
  async create(
    c: {
      id: string;
      serviceId: string;
      urgency: Urgency;
      requester: string;
      preferred: string | null;
      careTeam: string[];
      candidates: string[];
      sourceRoomId: string;
      sourceEventId: string;
      acceptBy: Date;
      at: Date;
    },
    trx: Db = this.db,
  ): Promise<Consult | null> {
    const rows = await trx("consults")
      .insert({
        id: c.id,
        service_id: c.serviceId,
        urgency: c.urgency,
        status: "requested",
        requester: c.requester,
        preferred: c.preferred,
        care_team: JSON.stringify(c.careTeam),
        candidates: JSON.stringify(c.candidates),
        declined_by: JSON.stringify([]),
        step: 0,
        source_room_id: c.sourceRoomId,
        source_event_id: c.sourceEventId,
        accept_by: c.acceptBy,
        created_at: c.at,
        updated_at: c.at,
      })
      .onConflict(["source_room_id", "source_event_id"])
      .ignore()
      .returning("*");
    return rows[0] ? toConsult(rows[0]) : null;
  }

  async get(id: string): Promise<Consult | null> {
    const row = await this.db("consults").where({ id }).first();
    return row ? toConsult(row) : null;
  }

  async byNumber(number: number): Promise<Consult | null> {
    if (!Number.isSafeInteger(number) || number < 1) return null;
    const row = await this.db("consults").where({ number }).first();
    return row ? toConsult(row) : null;
  }

  async bySource(roomId: string, eventId: string): Promise<Consult | null> {
    const row = await this.db("consults").where({ source_room_id: roomId, source_event_id: eventId }).first();
    return row ? toConsult(row) : null;
  }

  async inRoom(roomId: string): Promise<Consult | null> {
    const row = await this.db("consults").where({ room_id: roomId }).first();
    return row ? toConsult(row) : null;
  }

  /** The consult whose request (or re-quote of it) is this message. */
  async byPrompt(eventId: string): Promise<Consult | null> {
    const p = await this.db("consult_prompts").where({ event_id: eventId }).first();
    return p ? this.get(p.consult_id as string) : null;
  }

  async setRoom(id: string, roomId: string): Promise<void> {
    await this.db("consults").where({ id }).whereNull("room_id").update({ room_id: roomId });
  }

  async setRequestEvent(id: string, eventId: string): Promise<void> {
    await this.db("consults").where({ id }).update({ request_event_id: eventId });
  }

  /** Records the message that asked the candidate of `step`, and that the step is delivered. */
  async recordPrompt(id: string, step: number, eventId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx("consult_prompts").insert({ event_id: eventId, consult_id: id, step }).onConflict("event_id").ignore();
      if (step === 0) await trx("consults").where({ id }).update({ request_message_event_id: eventId });
      await trx("consults")
        .where({ id })
        .andWhere((q) => q.whereNull("delivered_step").orWhere("delivered_step", "<", step))
        .update({ delivered_step: step });
    });
  }

  /** Asks the next candidate; false if the consult was accepted, cancelled or moved on meanwhile. */
  async advance(id: string, fromStep: number, next: { candidates: string[]; acceptBy: Date; declinedBy?: string[] }, at: Date, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("consults")
          .where({ id, step: fromStep, status: "requested" })
          .update({
            step: fromStep + 1,
            candidates: JSON.stringify(next.candidates),
            accept_by: next.acceptBy,
            ...(next.declinedBy ? { declined_by: JSON.stringify(next.declinedBy) } : {}),
            updated_at: at,
          }),
      ) === 1
    );
  }

  /** Nobody is left to ask; earlier candidates may still accept. */
  async markExhausted(id: string, atStep: number, at: Date): Promise<boolean> {
    return (
      affectedRows(await this.db("consults").where({ id, step: atStep, status: "requested", exhausted: false }).update({ exhausted: true, accept_by: null, updated_at: at })) === 1
    );
  }

  /** The last candidate declined and nobody is left: the consult ends declined. */
  async markDeclined(id: string, atStep: number, declinedBy: string[], at: Date, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("consults")
          .where({ id, step: atStep, status: "requested" })
          .update({ status: "declined", declined_by: JSON.stringify(declinedBy), exhausted: true, accept_by: null, declined_at: at, updated_at: at }),
      ) === 1
    );
  }

  async accept(id: string, a: { consultant: string; via: AcceptVia; at: Date; expectedMinutes: number; respondBy: Date }, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("consults").where({ id, status: "requested" }).update({
          status: "accepted",
          consultant: a.consultant,
          accepted_via: a.via,
          accepted_at: a.at,
          expected_response_minutes: a.expectedMinutes,
          respond_by: a.respondBy,
          accept_by: null,
          updated_at: a.at,
        }),
      ) === 1
    );
  }

  async start(id: string, consultant: string, at: Date, trx: Db = this.db): Promise<boolean> {
    return affectedRows(await trx("consults").where({ id, status: "accepted", consultant }).update({ status: "in_progress", started_at: at, updated_at: at })) === 1;
  }

  async complete(id: string, c: { reportEventId: string; billing: BillingSuggestion; at: Date }, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("consults").where({ id, status: "in_progress" }).update({
          status: "completed",
          report_event_id: c.reportEventId,
          billing_code: c.billing.code,
          billing_description: c.billing.description,
          billing_rationale: c.billing.rationale,
          completed_at: c.at,
          updated_at: c.at,
        }),
      ) === 1
    );
  }

  async cancel(id: string, at: Date, trx: Db = this.db): Promise<boolean> {
    return affectedRows(await trx("consults").where({ id }).whereIn("status", ACTIVE_STATUSES).update({ status: "cancelled", cancelled_at: at, accept_by: null, updated_at: at })) === 1;
  }

  async markOverdue(id: string, at: Date): Promise<boolean> {
    return (
      affectedRows(await this.db("consults").where({ id, overdue: false }).whereIn("status", ["accepted", "in_progress"]).update({ overdue: true, updated_at: at })) === 1
    );
  }

  async setFeedback(id: string, f: { rating: number; outcome: ConsultOutcome; at: Date }): Promise<boolean> {
    return affectedRows(await this.db("consults").where({ id, status: "completed" }).update({ rating: f.rating, outcome: f.outcome, feedback_at: f.at, updated_at: f.at })) === 1;
  }

  /** Active consults the user is asked to answer: as consultant, or as a candidate who has not declined. */
  async incoming(userId: string): Promise<Consult[]> {
    const list = JSON.stringify([userId]);
    const rows = await this.db("consults")
      .whereIn("status", ACTIVE_STATUSES)
      .andWhere((q) =>
        q.where({ consultant: userId }).orWhere((r) => r.where({ status: "requested" }).whereRaw(contains("candidates"), [list]).whereNot((n) => n.whereRaw(contains("declined_by"), [list]))),
      )
      .orderBy("number", "desc");
    return rows.map(toConsult);
  }

  async outgoing(userId: string): Promise<Consult[]> {
    return (await this.db("consults").where({ requester: userId }).whereIn("status", ACTIVE_STATUSES).orderBy("number", "desc")).map(toConsult);
  }

  /** Ended consults the user took part in (requester, consultant, candidate or care team), newest first. */
  async archive(userId: string, limit: number): Promise<Consult[]> {
    const list = JSON.stringify([userId]);
    const rows = await this.db("consults")
      .whereIn("status", TERMINAL_STATUSES)
      .andWhere((q) =>
        q
          .where({ requester: userId })
          .orWhere({ consultant: userId })
          .orWhereRaw(contains("candidates"), [list])
          .orWhereRaw(contains("care_team"), [list]),
      )
      .orderBy("created_at", "desc")
      .orderBy("number", "desc")
      .limit(limit);
    return rows.map(toConsult);
  }

  async timings(since: Date): Promise<TimingRow[]> {
    const rows = await this.db("consults").where("created_at", ">=", since).select("service_id", "created_at", "accepted_at", "completed_at");
    return rows.map((r) => ({ serviceId: r.service_id, createdAt: new Date(r.created_at), acceptedAt: date(r.accepted_at), completedAt: date(r.completed_at) }));
  }
}
