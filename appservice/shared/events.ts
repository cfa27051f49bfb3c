import { z } from "zod";

/**
 * Every Rounds event type, with its validator, in one place. The appservice, the bots and the
 * widgets import from here. State events are never encrypted, so the state schemas admit
 * workflow metadata only: ids, status, Matrix user ids, timestamps, service names.
 */
export const NAMESPACE = "health.rounds";

export const StateType = {
  Consult: `${NAMESPACE}.consult`,
  Handoff: `${NAMESPACE}.handoff`,
  Page: `${NAMESPACE}.page`,
  Alert: `${NAMESPACE}.alert`,
  OnCall: `${NAMESPACE}.oncall`,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

export const URGENCIES = ["emergent", "urgent", "routine"] as const;
export type Urgency = (typeof URGENCIES)[number];

export const matrixUserId = z.string().regex(/^@[a-z0-9._=\-/+]+:[a-zA-Z0-9.-]+(:\d+)?$/, "must be a Matrix user id");
export const roomId = z.string().regex(/^![^:]+(:.+)?$/, "must be a Matrix room id");

/** The envelope every event delivered to the appservice must have; unknown fields are kept. */
export const ClientEventSchema = z.looseObject({
  event_id: z.string().regex(/^\$/, "must be an event id"),
  room_id: roomId,
  sender: matrixUserId,
  type: z.string().min(1),
  origin_server_ts: z.number().int().nonnegative(),
  content: z.record(z.string(), z.unknown()),
  state_key: z.string().optional(),
  unsigned: z.record(z.string(), z.unknown()).optional(),
});
export type ClientEvent = z.infer<typeof ClientEventSchema>;

export const TransactionBodySchema = z.object({
  events: z.array(z.unknown()).default([]),
  ephemeral: z.array(z.unknown()).optional(),
  "de.sorunome.msc2409.ephemeral": z.array(z.unknown()).optional(),
});

export const TextMessageContentSchema = z.looseObject({
  msgtype: z.enum(["m.text", "m.notice", "m.emote"]),
  body: z.string(),
});

export const MemberContentSchema = z.looseObject({
  membership: z.enum(["invite", "join", "leave", "ban", "knock"]),
  is_direct: z.boolean().optional(),
});

export const PAGE_STATUSES = ["triggered", "notified", "escalated", "acknowledged", "resolved"] as const;
export type PageStatus = (typeof PAGE_STATUSES)[number];

/**
 * `health.rounds.page` state, state_key = page id. Unencrypted, so: ids, status, urgency,
 * service, Matrix user ids, times and delivery states only. The request text stays in the
 * encrypted timeline.
 */
export const PageStateSchema = z.looseObject({
  id: z.string().min(1),
  number: z.number().int().positive(),
  kind: z.enum(["page", "broadcast"]),
  service: z.string().min(1),
  urgency: z.enum(URGENCIES),
  status: z.enum(PAGE_STATUSES),
  step: z.number().int().nonnegative(),
  level: z.string(),
  requester: matrixUserId,
  targets: z.array(matrixUserId),
  notified: z.array(matrixUserId),
  exhausted: z.boolean(),
  created_ts: z.number().int(),
  deadline_ts: z.number().int().nullable(),
  acknowledged_by: matrixUserId.nullable(),
  acknowledged_via: z.enum(["reaction", "command", "sms"]).nullable(),
  acknowledged_ts: z.number().int().nullable(),
  resolved_ts: z.number().int().nullable(),
  /** Per notified user, the latest state of each channel, e.g. { sms: "delivered" }. */
  delivery: z.record(matrixUserId, z.record(z.string(), z.string())),
});
export type PageState = z.infer<typeof PageStateSchema>;

/** A reaction (m.annotation); ✅ on a page acknowledges it. */
export const ReactionContentSchema = z.looseObject({
  "m.relates_to": z.looseObject({ rel_type: z.literal("m.annotation"), event_id: z.string(), key: z.string() }),
});
