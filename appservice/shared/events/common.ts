import { z } from "zod";
export * from "./commonTerms.js";

/**
 * What every Rounds event shares: the namespace, Matrix ids, the envelope of delivered events,
 * and `roundsEvent`, which checks an event's type and content together.
 */



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


/** A reaction (m.annotation); ✅ on a page acknowledges it. */
export const ReactionContentSchema = z.looseObject({
  "m.relates_to": z.looseObject({ rel_type: z.literal("m.annotation"), event_id: z.string(), key: z.string() }),
});



/** One Rounds event: its type and content schema, validated together. */
export interface RoundsEvent<S extends z.ZodType> {
  type: string;
  schema: S;
  /** The content when `ev` is this event with valid content; null for anything else. */
  parse(ev: { type: string; content: unknown } | null | undefined): z.infer<S> | null;
}

export function roundsEvent<S extends z.ZodType>(type: string, schema: S): RoundsEvent<S> {
  return {
    type,
    schema,
    parse(ev) {
      if (!ev || ev.type !== type) return null;
      const r = schema.safeParse(ev.content);
      return r.success ? r.data : null;
    },
  };
}
