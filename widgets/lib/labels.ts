import type { ConsultStatus, Urgency } from "../../appservice/shared/events/index.js";

export const STATUS_LABEL: Record<ConsultStatus, string> = {
  requested: "Waiting for a specialist to accept",
  accepted: "Accepted",
  declined: "Declined",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
};

export const URGENCY_LABEL: Record<Urgency, string> = { emergent: "Emergent", urgent: "Urgent", routine: "Routine" };
