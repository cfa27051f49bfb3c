import type { AlertPriority, AlertStatus } from "./events/alertTerms.js";

/** The alerts widget API's routes and views, without the request validators (in alertApi.ts). */

export const AlertRoute = {
  mine: "/v1/alerts/mine",
  alert: "/v1/alerts/alerts/:number",
  ack: "/v1/alerts/alerts/:number/ack",
  snooze: "/v1/alerts/alerts/:number/snooze",
  falsePositive: "/v1/alerts/alerts/:number/false-positive",
  quietHours: "/v1/alerts/quiet-hours",
  rules: "/v1/alerts/rules",
} as const;

/** An alert as the widgets see it through the API: ids, status, priority, the rule and times. The value and the patient are only in its encrypted message. */
export interface AlertView {
  number: number;
  id: string;
  rule_id: string;
  priority: AlertPriority;
  status: AlertStatus;
  repeats: number;
  corrections: number;
  first_ts: number;
  last_ts: number;
  snoozed_until_ts: number | null;
  acknowledged_by: string | null;
  acknowledged_ts: number | null;
  false_positive: boolean;
  /** Raised as a page (critical alerts ride paging): its number. */
  page_number: number | null;
  /** It reached the viewer as a page, in the page's room; their alerts room may act on it too. */
  via_page: boolean;
  /** Where it reached the viewer: the room and its encrypted message there (null while held for a digest). */
  room_id: string | null;
  message_event_id: string | null;
  read_ts: number | null;
}

export interface AlertTrailStep {
  step: string;
  ts: number;
  actor: string | null;
  /** A reference only: an event id, a page number, an inbound message id. */
  ref: string | null;
}

export interface MyAlertsResponse {
  alerts: AlertView[];
  /** How long a snooze may be, in minutes. */
  max_snooze_minutes: number;
  /** Whether the viewer coordinates a service alerts route to: they see the rules and analytics view. */
  coordinator: boolean;
}

export interface AlertResponse {
  alert: AlertView;
  trail: AlertTrailStep[];
}

export interface QuietHours {
  from: string;
  to: string;
  zone: string;
}

export interface QuietHoursResponse {
  quiet: QuietHours | null;
  default_zone: string;
}

/** One rule as the coordinators' view shows it: what it watches and when it fires, in words. No patient data. */
export interface RuleSummary {
  id: string;
  kind: "lab" | "news2" | "interaction" | "overdue";
  name: string;
  fires: string;
}

/** One rule's effectiveness over a period: for the CLI, the admin API and the coordinators' view. */
export interface RuleReport {
  rule: string;
  fired: number;
  acknowledged: number;
  ackSecondsP50: number | null;
  ackSecondsP90: number | null;
  /** Raised as pages (critical alerts), so escalated along the service's policy while unanswered. */
  paged: number;
  falsePositives: number;
  falsePositiveRate: number | null;
  autoCleared: number;
  /** For a lab rule with many false positives: a limit the evidence points to, with that evidence. A suggestion, for a person to weigh. */
  suggestion: { text: string; evidence: string } | null;
}

export interface AlertRulesResponse {
  version: number;
  rules: RuleSummary[];
  since: string;
  report: RuleReport[];
}
