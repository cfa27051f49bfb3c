import type { UnknownServiceError } from "../appservice/oncall/oncallService.js";
import { CommandError } from "./commands.js";

/** An unknown service as a reply that lists the known ones, so the next try can succeed. */
export function unknownServiceReply(err: UnknownServiceError, what: string, query = err.query): CommandError {
  const known = err.known.map((s) => `${s.id} (${s.name})`).join(", ");
  return new CommandError(
    `${what}: unknown service`,
    known
      ? `I don't know a service called "${query}". Known services: ${known}.`
      : "No on-call services are set up yet. A coordinator can import a schedule with: npm run rounds -- schedule import <file.yaml>",
  );
}
