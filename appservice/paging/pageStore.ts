import type { Db } from "../db/connect.js";
import { affectedRows } from "../db/connect.js";
import type { PageStatus, Urgency } from "../shared/events/index.js";

export const OPEN_STATUSES: PageStatus[] = ["triggered", "notified", "escalated"];

export interface Page {
  id: string;
  number: number;
  serviceId: string;
  kind: "page" | "broadcast";
  urgency: Urgency;
  status: PageStatus;
  requester: string;
  originRoomId: string | null;
  originEventId: string | null;
  roomId: string | null;
  step: number;
  exhausted: boolean;
  targets: string[];
  notified: string[];
  deadlineAt: Date | null;
  ackedBy: string | null;
  ackVia: "reaction" | "command" | "sms" | null;
  ackedAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
}

export interface NotificationRow {
  pageId: string;
  step: number;
  userId: string;
  channel: "matrix" | "sms";
  status: string;
  externalId: string | null;
}

const DELIVERY_ORDER = ["pending", "accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed"];
/** How far along a delivery status is; final states rank highest. Unknown ones rank as "sent". */
function deliveryRank(status: string): number {
  const i = DELIVERY_ORDER.indexOf(status);
  return i < 0 ? DELIVERY_ORDER.indexOf("sent") : Math.min(i, DELIVERY_ORDER.indexOf("delivered"));
}

const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
const date = (v: unknown): Date | null => (v ? new Date(v as string) : null);

function toPage(r: Record<string, unknown>): Page {
  return {
    id: r.id as string,
    number: Number(r.number),
    serviceId: r.service_id as string,
    kind: r.kind as Page["kind"],
    urgency: r.urgency as Urgency,
    status: r.status as PageStatus,
    requester: r.requester as string,
    originRoomId: (r.origin_room_id as string) ?? null,
    originEventId: (r.origin_event_id as string) ?? null,
    roomId: (r.room_id as string) ?? null,
    step: Number(r.step),
    exhausted: Boolean(r.exhausted),
    targets: json<string[]>(r.targets),
    notified: json<string[]>(r.notified),
    deadlineAt: date(r.deadline_at),
    ackedBy: (r.acked_by as string) ?? null,
    ackVia: (r.ack_via as Page["ackVia"]) ?? null,
    ackedAt: date(r.acked_at),
    resolvedBy: (r.resolved_by as string) ?? null,
    resolvedAt: date(r.resolved_at),
    createdAt: new Date(r.created_at as string),
  };
}

/**
 * The page port. Every status change is a guarded UPDATE (`WHERE status IN ... AND step = ...`),
 * so an acknowledgement racing an escalation, or two acknowledgements, leave one winner.
 */
const PG_INT_MAX = 2_147_483_647;

export class PageStore {
  constructor(readonly db: Db) {}

  async create(p: {
    id: string;
    serviceId: string;
    kind: Page["kind"];
    urgency: Urgency;
    requester: string;
    originRoomId: string | null;
    originEventId: string | null;
    step: number;
    targets: string[];
  }, trx: Db = this.db): Promise<Page> {
    const [row] = await trx("pages")
      .insert({
        id: p.id,
        service_id: p.serviceId,
        kind: p.kind,
        urgency: p.urgency,
        status: "triggered",
        requester: p.requester,
        origin_room_id: p.originRoomId,
        origin_event_id: p.originEventId,
        step: p.step,
        targets: JSON.stringify(p.targets),
        notified: JSON.stringify(p.targets),
      })
      .returning("*");
    return toPage(row);
  }

  async get(id: string): Promise<Page | null> {
    const row = await this.db("pages").where({ id }).first();
    return row ? toPage(row) : null;
  }

  async byNumber(number: number): Promise<Page | null> {
    // A number past the column's range (typed, or in an SMS reply) names no page; asking would fail.
    if (!Number.isSafeInteger(number) || number < 1 || number > PG_INT_MAX) return null;
    const row = await this.db("pages").where({ number }).first();
    return row ? toPage(row) : null;
  }

  async byOriginEvent(eventId: string): Promise<Page | null> {
    const row = await this.db("pages").where({ origin_event_id: eventId }).first();
    return row ? toPage(row) : null;
  }

  async openInRoom(roomId: string): Promise<Page[]> {
    return (await this.db("pages").where({ room_id: roomId }).whereIn("status", OPEN_STATUSES).orderBy("number")).map(toPage);
  }

  async ackedInRoom(roomId: string): Promise<Page[]> {
    return (await this.db("pages").where({ room_id: roomId, status: "acknowledged" }).orderBy("number")).map(toPage);
  }

  async open(): Promise<Page[]> {
    return (await this.db("pages").whereIn("status", OPEN_STATUSES).orderBy("number")).map(toPage);
  }

  async openForService(serviceId: string): Promise<Page[]> {
    return (await this.db("pages").where({ service_id: serviceId }).whereIn("status", OPEN_STATUSES).orderBy("number")).map(toPage);
  }

  async byMessage(eventId: string): Promise<Page | null> {
    const n = await this.db("page_notifications").where({ channel: "matrix", external_id: eventId }).first();
    return n ? this.get(n.page_id) : null;
  }

  async setRoom(id: string, roomId: string): Promise<void> {
    await this.db("pages").where({ id }).update({ room_id: roomId, updated_at: new Date() });
  }

  /** triggered → notified, once, with the deadline of the first step. */
  async markNotified(id: string, deadlineAt: Date | null, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("pages").where({ id, status: "triggered" }).update({ status: "notified", deadline_at: deadlineAt, updated_at: new Date() }),
      ) === 1
    );
  }

  /** Moves an open page from `fromStep` to the next step; false if it was acknowledged or moved meanwhile. */
  async advance(id: string, fromStep: number, next: { step: number; targets: string[]; notified: string[]; deadlineAt: Date | null }): Promise<boolean> {
    return (
      affectedRows(
        await this.db("pages")
          .where({ id, step: fromStep })
          .whereIn("status", ["notified", "escalated"])
          .update({
            status: "escalated",
            step: next.step,
            targets: JSON.stringify(next.targets),
            notified: JSON.stringify(next.notified),
            deadline_at: next.deadlineAt,
            updated_at: new Date(),
          }),
      ) === 1
    );
  }

  async markExhausted(id: string, atStep: number): Promise<boolean> {
    return (
      affectedRows(
        await this.db("pages")
          .where({ id, step: atStep, exhausted: false })
          .whereIn("status", OPEN_STATUSES)
          .update({ exhausted: true, deadline_at: null, updated_at: new Date() }),
      ) === 1
    );
  }

  /** Adds people to the current step (shift hand-over) while the page is open. */
  async addTargets(id: string, step: number, targets: string[], notified: string[]): Promise<boolean> {
    return (
      affectedRows(
        await this.db("pages")
          .where({ id, step })
          .whereIn("status", OPEN_STATUSES)
          .update({ targets: JSON.stringify(targets), notified: JSON.stringify(notified), updated_at: new Date() }),
      ) === 1
    );
  }

  async acknowledge(id: string, by: string, via: NonNullable<Page["ackVia"]>, at: Date, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("pages")
          .where({ id })
          .whereIn("status", OPEN_STATUSES)
          .update({ status: "acknowledged", acked_by: by, ack_via: via, acked_at: at, deadline_at: null, updated_at: at }),
      ) === 1
    );
  }

  async resolve(id: string, by: string, at: Date, trx: Db = this.db): Promise<boolean> {
    return (
      affectedRows(
        await trx("pages")
          .where({ id })
          .whereIn("status", [...OPEN_STATUSES, "acknowledged"])
          .update({ status: "resolved", resolved_by: by, resolved_at: at, deadline_at: null, updated_at: at }),
      ) === 1
    );
  }

  /** Records that a notification is going out; false if this step already notified this person on this channel. */
  async claimNotification(pageId: string, step: number, userId: string, channel: NotificationRow["channel"]): Promise<boolean> {
    const rows = await this.db("page_notifications")
      .insert({ page_id: pageId, step, user_id: userId, channel, status: "pending" })
      .onConflict(["page_id", "step", "user_id", "channel"])
      .ignore()
      .returning("id");
    return rows.length === 1;
  }

  /** Gives a claim back after a send that can be retried (e.g. the SMS provider was down). */
  async releaseNotification(pageId: string, step: number, userId: string, channel: NotificationRow["channel"]): Promise<void> {
    await this.db("page_notifications").where({ page_id: pageId, step, user_id: userId, channel, status: "pending" }).delete();
  }

  async notification(pageId: string, step: number, userId: string, channel: NotificationRow["channel"]): Promise<NotificationRow | null> {
    const r = await this.db("page_notifications").where({ page_id: pageId, step, user_id: userId, channel }).first();
    return r ? { pageId: r.page_id, step: r.step, userId: r.user_id, channel: r.channel, status: r.status, externalId: r.external_id } : null;
  }

  async setNotification(pageId: string, step: number, userId: string, channel: NotificationRow["channel"], status: string, externalId?: string): Promise<void> {
    await this.db("page_notifications")
      .where({ page_id: pageId, step, user_id: userId, channel })
      .update({ status, ...(externalId ? { external_id: externalId } : {}), updated_at: new Date() });
  }

  /** A delivery callback: returns the page it belongs to, or null for an unknown message. */
  async updateByExternalId(externalId: string, status: string): Promise<string | null> {
    const row = await this.db("page_notifications").where({ external_id: externalId }).first();
    if (!row) return null;
    // Callbacks can arrive out of order: a late "sent" must not overwrite "delivered".
    if (deliveryRank(status) >= deliveryRank(row.status)) {
      await this.db("page_notifications").where({ id: row.id }).update({ status, updated_at: new Date() });
    }
    return row.page_id as string;
  }

  async notifications(pageId: string): Promise<NotificationRow[]> {
    const rows = await this.db("page_notifications").where({ page_id: pageId }).orderBy("id");
    return rows.map((r) => ({ pageId: r.page_id, step: r.step, userId: r.user_id, channel: r.channel, status: r.status, externalId: r.external_id }));
  }
}
