import { z } from "zod";
import { HANDOFF_MODES, HANDOFF_TEMPLATES, matrixUserId, roomId } from "../shared/events/index.js";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time like 07:00");
/**
 * A unit's handoff settings (no PHI: names, times and Matrix ids). The charge role is either the
 * on-call of a schedule service (and level) or a list of users.
 */
export const HandoffUnitSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "must be lower-case letters, digits, - or _ (e.g. 4west)"),
    name: z.string().trim().min(1).max(80),
    template: z.enum(HANDOFF_TEMPLATES).default("sbar"),
    /** The unit's own room, where `!handoff start` is typed and the handoff widget is pinned. */
    room_id: roomId.optional(),
    timezone: z.string().min(1).default("UTC"),
    /** Shift changes, local time: scheduled handoffs start here. */
    shift_times: z.array(hhmm).max(6).default([]),
    mode: z.enum(HANDOFF_MODES).default("face_to_face"),
    /** Where face-to-face handoffs happen, e.g. "4 West staff room" (never a patient's bed). */
    location: z.string().trim().max(100).optional(),
    /** Who hands over to whom at a shift change: the on-call of this schedule service (and level). */
    roster: z.object({ service: z.string().min(1), level: z.string().min(1).optional() }).optional(),
    checklist: z.array(z.string().trim().min(1).max(200)).max(30).default([]),
    deadline_minutes: z.number().positive().max(24 * 60).optional(),
    escalate_after_minutes: z.number().positive().max(24 * 60).optional(),
    charge: z
      .object({ service: z.string().min(1).optional(), level: z.string().min(1).optional(), users: z.array(matrixUserId).max(20).optional() })
      .refine((c) => c.service || (c.users && c.users.length > 0), "name an on-call service or at least one user for the charge role")
      .optional(),
    /** Told (with a link only) when an incident is reported from one of the unit's handoffs. */
    incident_reviewers: z.array(matrixUserId).max(20).default([]),
  })
  .strict();
export type HandoffUnit = z.infer<typeof HandoffUnitSchema>;
