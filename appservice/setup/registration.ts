import { AppServiceRegistration } from "matrix-appservice-bridge";
import { stringify } from "yaml";
import { BOT_PREFIX } from "../shared/events/index.js";
import { writeFileAtomic } from "../shared/writeFileAtomic.js";

export interface RegistrationInput {
  url: string;
  serverName: string;
  asToken: string;
  hsToken: string;
}

export const SENDER_LOCALPART = "rounds_bot";

/** Builds the appservice registration: the bots live in @rounds_*. */
export function buildRegistration(input: RegistrationInput): Record<string, unknown> {
  const reg = new AppServiceRegistration(input.url);
  reg.setId("rounds");
  reg.setHomeserverToken(input.hsToken);
  reg.setAppServiceToken(input.asToken);
  reg.setSenderLocalpart(SENDER_LOCALPART);
  const domain = input.serverName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  reg.addRegexPattern("users", `${BOT_PREFIX}.*:${domain}`, true);
  reg.setRateLimited(false);
  // Typing and receipts let bots see read state; the class has no setter for this yet.
  return { ...reg.getOutput(), receive_ephemeral: true, "de.sorunome.msc2409.push_ephemeral": true };
}

export function writeRegistration(file: string, input: RegistrationInput): void {
  writeFileAtomic(file, stringify(buildRegistration(input)), 0o600);
}
