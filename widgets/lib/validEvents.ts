import type { z } from "zod";
import type { RoundsEvent } from "../../appservice/shared/events/index.js";

const warned = new Set<string>();

/**
 * The content of a room event as its Rounds definition validates it (type and content together),
 * or null. Invalid events are dropped, as everywhere in Rounds; only their ids are logged (no
 * PHI), once.
 */
export function validContent<S extends z.ZodType>(def: RoundsEvent<S>, ev: { type: string; event_id: string; content: unknown }): z.infer<S> | null {
  const content = def.parse(ev);
  if (content === null && !warned.has(ev.event_id)) {
    console.warn(`Rounds: ignoring an invalid event ${ev.event_id}`);
    warned.add(ev.event_id);
  }
  return content;
}
