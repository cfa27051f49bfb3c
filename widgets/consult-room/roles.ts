import type { ConsultState } from "../../appservice/shared/events/index.js";

/** What the viewer may do with the consult; the server checks the same rules again. */
export interface ConsultRoles {
  requester: boolean;
  /** Asked now and has not declined: may accept or decline. */
  candidate: boolean;
  consultant: boolean;
}

export function rolesOf(consult: ConsultState, viewer: string): ConsultRoles {
  return {
    requester: consult.requester === viewer,
    candidate: consult.status === "requested" && consult.candidates.at(-1) === viewer && !consult.declined_by.includes(viewer),
    consultant: consult.consultant === viewer,
  };
}

export function isOpen(consult: ConsultState): boolean {
  return consult.status === "requested" || consult.status === "accepted" || consult.status === "in_progress";
}
