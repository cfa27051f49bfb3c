import { ConsultError } from "../appservice/consult/consultErrors.js";
import { HandoffError } from "../appservice/handoff/handoffErrors.js";
import { UnknownServiceError } from "../appservice/oncall/oncallService.js";
import { ScheduleConflictError, ScheduleRuleError } from "../appservice/oncall/scheduleErrors.js";
import { ContactError } from "../appservice/paging/contactService.js";
import { PageError } from "../appservice/paging/pageService.js";
import { quote } from "../appservice/shared/quote.js";
import { CommandError } from "./commands.js";

/** An unknown service as a reply that lists the known ones, so the next try can succeed. */
export function unknownServiceReply(err: UnknownServiceError, what: string, query = err.query): CommandError {
  const known = err.known.map((s) => `${s.id} (${s.name})`).join(", ");
  return new CommandError(
    `${what}: unknown service`,
    known
      ? `I don't know a service called "${quote(query)}". Known services: ${known}.`
      : "No on-call services are set up yet. A coordinator can import a schedule with: npm run rounds -- schedule import <file.yaml>",
  );
}

/** A schedule change that would clash, as a reply listing the clashes. */
export function scheduleConflictReply(err: ScheduleConflictError): CommandError {
  return new CommandError("schedule conflict", `That would clash with the schedule, so nothing changed:\n${err.conflicts.map((c) => `- ${c.message}`).join("\n")}`);
}

/**
 * Any domain service's refusal as a plain-language reply, null for a real failure. A command
 * table answers these even when a command let one through unmapped: retrying a refusal only
 * repeats it, until the event is dead-lettered unanswered.
 */
export function serviceRefusal(err: unknown): CommandError | null {
  if (err instanceof CommandError) return err;
  if (err instanceof ConsultError || err instanceof HandoffError) return new CommandError(`${err.name}: ${err.code}`, err.humanMessage);
  if (err instanceof UnknownServiceError) return unknownServiceReply(err, "command");
  if (err instanceof ScheduleConflictError) return scheduleConflictReply(err);
  if (err instanceof ScheduleRuleError || err instanceof PageError || err instanceof ContactError) return new CommandError(err.name, err.message);
  return null;
}
