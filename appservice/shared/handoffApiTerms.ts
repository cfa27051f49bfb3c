/** The handoff widget API's routes and sign-off rule, without the request validators (in handoffApi.ts). */

/** The handoff calls of the widget API. */
export const HandoffRoute = {
  units: "/v1/handoff/units",
  unitPeople: "/v1/handoff/units/:unit/people",
  start: "/v1/handoff/handoffs",
  handoff: "/v1/handoff/handoffs/:id",
  items: "/v1/handoff/handoffs/:id/items",
  removeItem: "/v1/handoff/handoffs/:id/items/:entry/remove",
  order: "/v1/handoff/handoffs/:id/order",
  readBacks: "/v1/handoff/handoffs/:id/readbacks",
  questions: "/v1/handoff/handoffs/:id/questions",
  answers: "/v1/handoff/handoffs/:id/answers",
  checklist: "/v1/handoff/handoffs/:id/checklist",
  signOff: "/v1/handoff/handoffs/:id/signoff",
  cancel: "/v1/handoff/handoffs/:id/cancel",
  incidents: "/v1/handoff/handoffs/:id/incidents",
  mine: "/v1/handoff/mine",
  metrics: "/v1/handoff/metrics",
} as const;

/** What stands between a handoff and its sign-off (ids and numbers only). */
export interface Outstanding {
  /** Patients (their list numbers) without a read-back of their current version. */
  missing_read_back: number[];
  /** Open question numbers. */
  open_questions: number[];
  /** Unticked checklist labels. */
  checklist: string[];
}

/** Whether nothing stands between the handoff and a plain sign-off: the server's rule, which the widget shows. */
export function isClear(o: Outstanding): boolean {
  return !o.missing_read_back.length && !o.open_questions.length && !o.checklist.length;
}
