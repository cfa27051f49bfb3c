import { DateTime } from "luxon";
import type { ConsultRequestContent, Urgency } from "../shared/events/index.js";
import type { Consult } from "./consultStore.js";

/**
 * The words Rounds says about consults. Room messages are encrypted and may carry the clinical
 * request; direct messages to coordinators can show on a lock screen, so they carry the number,
 * service and urgency only.
 */

/** A service as the messages name it, with the zone its times are given in. */
export interface ServiceLabel {
  serviceName: string;
  timezone: string;
}

export function urgencyBadge(u: Urgency): string {
  return u === "emergent" ? "🚨 EMERGENT" : u === "urgent" ? "❗ URGENT" : "ROUTINE";
}

export function humanMinutes(m: number): string {
  // Deployments (and tests) may give accept windows in seconds, i.e. fractions of a minute.
  if (!Number.isInteger(m)) return m < 60 ? `${Math.round(m * 60)} s` : `${Math.round(m)} min`;
  if (m < 60) return `${m} min`;
  if (m % 1440 === 0) return m === 1440 ? "1 day" : `${m / 1440} days`;
  if (m % 60 === 0) return `${m / 60} h`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function localTime(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toFormat("yyyy-LL-dd HH:mm ZZZZ");
}

function howToAct(c: Consult, who: string, acceptMinutes: number): string[] {
  return [
    `${who}: to accept, react ✅ to this message, send !consult accept ${c.number} [minutes], or use the Consult widget. To decline, send !consult decline ${c.number} <reason>.`,
    `Please answer within ${humanMinutes(acceptMinutes)}; after that the consult goes to the next specialist on call.`,
  ];
}

/** The readable request that rings the first candidate. `content` is null if it could not be recovered. */
export function requestMessage(c: Consult, s: ServiceLabel, content: ConsultRequestContent | null, acceptMinutes: number): string {
  const who = c.candidates[0]!;
  const lines = [`${urgencyBadge(c.urgency)} consult #${c.number} for ${s.serviceName} from ${c.requester}`];
  if (c.preferred && c.preferred !== who) lines.push(`${c.preferred} is not available now (off shift or absent); routed to the on-call: ${who}.`);
  lines.push(`Urgency: ${c.urgency}`, `Service: ${s.serviceName}`, `Requester: ${c.requester}`);
  if (c.careTeam.length) lines.push(`Care team: ${c.careTeam.join(", ")}`);
  if (content) {
    lines.push(`Patient: ${content.patient_ref}`, `Question: ${content.question}`);
    if (content.history?.trim()) lines.push(`History: ${content.history.trim()}`);
    const files = content.attachments?.length ?? 0;
    if (files) lines.push(`Attachments: ${files} (posted above)`);
  } else {
    lines.push(`The request details could not be relayed. ${c.requester}: please post the patient reference and question here.`);
  }
  return [...lines, ...howToAct(c, who, acceptMinutes)].join("\n");
}

/** The re-quote for a candidate invited later: their devices have no key for the original message. */
export function escalationMessage(c: Consult, step: number, why: string, original: string | null, acceptMinutes: number): string {
  const who = c.candidates[step]!;
  const quoted = original
    ? ["The request, quoted for you:", ...original.split("\n").map((l) => `> ${l}`)]
    : [`The original request could not be read back. ${c.requester}: please repeat the patient reference and question here.`];
  return [`⬆️ Consult #${c.number} (${c.urgency}) now goes to ${who}: ${why}.`, ...quoted, ...howToAct(c, who, acceptMinutes)].join("\n");
}

export function exhaustedRoomMessage(c: Consult, coordinators: string[]): string {
  const told = coordinators.length ? `I have told the coordinators (${coordinators.join(", ")}).` : "No coordinator is set for this service.";
  return `⚠️ Nobody has accepted consult #${c.number} yet, and every available specialist has been asked (${c.candidates.join(", ")}). ${told} ${c.requester}: call the service directly if this cannot wait. Those already asked can still accept.`;
}

export function exhaustedDm(c: Consult, s: ServiceLabel): string {
  return `Consult #${c.number} (${c.urgency}) for ${s.serviceName}: nobody has accepted it after every available specialist was asked. Please find someone to take it.`;
}

export function declinedAllRoomMessage(c: Consult, by: string, coordinators: string[]): string {
  const told = coordinators.length ? `I have told the coordinators (${coordinators.join(", ")}).` : "No coordinator is set for this service.";
  return `❌ Consult #${c.number} is declined: ${by} declined and nobody else is available now. ${told} ${c.requester}: request again later or call the service directly.`;
}

export function declinedAllDm(c: Consult, s: ServiceLabel): string {
  return `Consult #${c.number} (${c.urgency}) for ${s.serviceName} was declined and nobody else is available to take it.`;
}

export function acceptedMessage(c: Consult, s: ServiceLabel): string {
  const via = c.acceptedVia === "reaction" ? " with ✅" : c.acceptedVia === "widget" ? " in the widget" : "";
  return `✅ ${c.consultant} accepted consult #${c.number}${via}. ${c.requester}: expect a response within ${humanMinutes(c.expectedMinutes!)} (by ${localTime(c.respondBy!, s.timezone)}).`;
}

export function overdueRoomMessage(c: Consult, s: ServiceLabel, coordinators: string[]): string {
  const told = coordinators.length ? " I have told the coordinators." : "";
  return [
    `⏰ Consult #${c.number} is overdue: the response was expected by ${localTime(c.respondBy!, s.timezone)}.`,
    `${c.consultant}: please respond now, or say here if you cannot.`,
    `${c.requester}: the consultant has been reminded.${told}`,
  ].join("\n");
}

export function overdueDm(c: Consult, s: ServiceLabel): string {
  return `Consult #${c.number} (${c.urgency}) for ${s.serviceName} is overdue: the consultant has not responded within the expected time.`;
}

export function nobodyAvailableDm(serviceName: string, urgency: Urgency): string {
  return `A ${urgency} consult for ${serviceName} could not be routed: nobody is on call or available for it now. Please check the schedule.`;
}
