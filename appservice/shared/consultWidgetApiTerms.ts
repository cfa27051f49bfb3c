/** The consult widget API's routes and vocabularies, without the request validators (in consultWidgetApi.ts). */

/** The consult calls of the widget API (see widgetApiPaths.ts for what every call shares). */
export const WidgetRoute = {
  services: "/v1/consult/services",
  specialists: "/v1/consult/services/:service/specialists",
  createConsult: "/v1/consult/requests",
  consult: "/v1/consult/consults/:id",
  accept: "/v1/consult/consults/:id/accept",
  decline: "/v1/consult/consults/:id/decline",
  start: "/v1/consult/consults/:id/start",
  complete: "/v1/consult/consults/:id/complete",
  cancel: "/v1/consult/consults/:id/cancel",
  feedback: "/v1/consult/consults/:id/feedback",
  mine: "/v1/consult/mine",
  metrics: "/v1/consult/metrics",
} as const;

/** Billing inputs: workflow facts, not PHI, so they travel in the widget API call. */
export const CONSULT_TYPES = ["initial", "follow_up", "interprofessional"] as const;
export const CONSULT_SETTINGS = ["inpatient", "outpatient", "emergency", "telehealth"] as const;
export const CONSULT_COMPLEXITIES = ["straightforward", "low", "moderate", "high"] as const;
