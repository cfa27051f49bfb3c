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
