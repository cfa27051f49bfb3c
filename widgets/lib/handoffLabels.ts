import type { HandoffMode, HandoffStatus, HandoffTemplate, ILLNESS_SEVERITIES, IncidentCategory } from "../../appservice/shared/events/index.js";

/** Plain words for the handoff workflow's values, shared by the session and dashboard widgets. */
export const HANDOFF_STATUS_LABEL: Record<HandoffStatus, string> = {
  started: "Started, no patient presented yet",
  presenting: "Presenting patients",
  signing: "Signing off",
  completed: "Completed",
  cancelled: "Cancelled",
};

export const TEMPLATE_LABEL: Record<HandoffTemplate, string> = { sbar: "SBAR", ipass: "I-PASS" };

export const MODE_LABEL: Record<HandoffMode, string> = { face_to_face: "Face to face", virtual: "Virtual" };

export const INCIDENT_LABEL: Record<IncidentCategory, string> = {
  omission: "Something was left out",
  wrong_information: "Wrong information was handed over",
  unclear: "Unclear or ambiguous information",
  delay: "The handoff was delayed",
  task_not_done: "A handed-over task was not done",
  other: "Something else",
};

export const SEVERITY_LABEL: Record<(typeof ILLNESS_SEVERITIES)[number], string> = {
  stable: "Stable",
  watcher: "Watcher",
  unstable: "Unstable",
};
