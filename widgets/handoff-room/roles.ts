import type { HandoffState } from "../../appservice/shared/events/index.js";

/** What the viewer may do in the handoff; the server checks the same rules again. */
export interface HandoffRoles {
  /** Presents, edits, removes and orders the patients. */
  outgoing: boolean;
  /** Reads back and asks questions. */
  incoming: boolean;
  /** Either of the two: answers, checklist, sign-off, incidents, cancel. */
  participant: boolean;
}

export function rolesOf(handoff: HandoffState, viewer: string): HandoffRoles {
  const outgoing = handoff.outgoing === viewer;
  const incoming = handoff.incoming === viewer;
  return { outgoing, incoming, participant: outgoing || incoming };
}

export function isOpen(handoff: HandoffState): boolean {
  return handoff.status !== "completed" && handoff.status !== "cancelled";
}
