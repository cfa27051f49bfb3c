import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { registerUser } from "./setup/adminApi.js";
import { devSecrets, devSettings } from "./setup/devEnvironment.js";

/**
 * The coordinator's CLI: `npm run rounds -- <command>`. It talks to the running stack: the
 * homeserver's admin API for accounts and the Rounds admin API for schedules.
 */
const USAGE = `Usage: npm run rounds -- <command>

  user create <localpart> --password <pw> [--name <display name>] [--admin]
      Create an account on the dev homeserver (e.g. alice -> @alice:rounds.local).
  schedule import <file.yaml>
      Validate and import services, rotations and shifts (all or nothing).
  oncall <service> [--at <ISO date-time>]
      Show who is on call for a service.
  dead-letters list
      Events the appservice gave up on, with the error (no content).
  dead-letters replay <event id>
      Put a dead letter back in the inbox to be processed again.

Talks to the stack started by 'npm start'. Override with ROUNDS_HOMESERVER_URL,
ROUNDS_APPSERVICE_URL, ROUNDS_ADMIN_TOKEN and ROUNDS_REGISTRATION_SHARED_SECRET.`;

class UsageError extends Error {}

/** Explicit environment first; the secrets `npm start` generated only for what is not given. */
function settings() {
  const env = process.env;
  const s = devSettings();
  const needDev = !env.ROUNDS_ADMIN_TOKEN || !env.ROUNDS_REGISTRATION_SHARED_SECRET;
  const secrets = needDev ? devSecrets() : null;
  return {
    homeserverUrl: env.ROUNDS_HOMESERVER_URL ?? `http://127.0.0.1:${s.synapsePort}`,
    appserviceUrl: env.ROUNDS_APPSERVICE_URL ?? `http://127.0.0.1:${s.appservicePort}`,
    adminToken: env.ROUNDS_ADMIN_TOKEN ?? secrets!.adminToken,
    sharedSecret: env.ROUNDS_REGISTRATION_SHARED_SECRET ?? secrets!.registrationSharedSecret,
  };
}

async function admin(path: string, init: RequestInit = {}): Promise<unknown> {
  const s = settings();
  let res: Response;
  try {
    res = await fetch(`${s.appserviceUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${s.adminToken}`, ...(init.headers ?? {}) },
    });
  } catch {
    throw new Error(`Rounds is not reachable at ${s.appserviceUrl}. Start it with 'npm start' first.`);
  }
  const body = (await res.json()) as { error?: string; problems?: string[] };
  if (!res.ok) throw new Error(body.problems ? `${body.problems.length} problem(s):\n  - ${body.problems.join("\n  - ")}` : (body.error ?? `HTTP ${res.status}`));
  return body;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      password: { type: "string" },
      name: { type: "string" },
      admin: { type: "boolean", default: false },
      at: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd) return console.log(USAGE);

  if (cmd === "user" && sub === "create") {
    if (!arg || !/^[a-z0-9._=\-/]+$/.test(arg)) throw new UsageError("user create needs a localpart of lower-case letters, digits or ._=-/");
    if (!values.password || values.password.length < 8) throw new UsageError("user create needs --password of at least 8 characters");
    const s = settings();
    const u = await registerUser(s.homeserverUrl, s.sharedSecret, {
      localpart: arg,
      password: values.password,
      displayname: values.name,
      admin: values.admin,
    }).catch((e: Error) => {
      if (/fetch failed/.test(e.message)) throw new Error(`the homeserver is not reachable at ${s.homeserverUrl}. Start it with 'npm start' first.`);
      throw e;
    });
    return console.log(`Created ${u.userId}. Sign in to Element with homeserver ${s.homeserverUrl}.`);
  }
  if (cmd === "schedule" && sub === "import") {
    if (!arg) throw new UsageError("schedule import needs a file: npm run rounds -- schedule import <file.yaml>");
    let text: string;
    try {
      text = readFileSync(arg, "utf8");
    } catch {
      throw new UsageError(`cannot read '${arg}'`);
    }
    const r = (await admin("/_rounds/admin/v1/schedule", { method: "POST", body: text, headers: { "content-type": "application/yaml" } })) as {
      services: string[];
      clinicians: number;
    };
    return console.log(`Imported ${r.services.length} service(s): ${r.services.join(", ")}; ${r.clinicians} clinician name(s).`);
  }
  if (cmd === "oncall" && sub) {
    const q = values.at ? `?at=${encodeURIComponent(values.at)}` : "";
    const r = (await admin(`/_rounds/admin/v1/oncall/${encodeURIComponent(sub)}${q}`)) as {
      service: { name: string; timezone: string };
      levels: { level: string; displayName: string; userId: string; until: string }[];
    };
    console.log(`${r.service.name} (${r.service.timezone}):`);
    if (r.levels.length === 0) console.log("  nobody: the schedule has a gap");
    for (const l of r.levels) console.log(`  ${l.level}: ${l.displayName} (${l.userId}) until ${l.until}`);
    return;
  }
  if (cmd === "dead-letters" && sub === "list") {
    const r = (await admin("/_rounds/admin/v1/dead-letters")) as {
      deadLetters: { eventId: string; roomId: string; type: string; attempts: number; error: string; failedAt: string }[];
    };
    if (r.deadLetters.length === 0) return console.log("No dead letters.");
    for (const d of r.deadLetters) console.log(`${d.failedAt}  ${d.eventId}  ${d.type} in ${d.roomId}, ${d.attempts} attempts: ${d.error}`);
    return;
  }
  if (cmd === "dead-letters" && sub === "replay") {
    if (!arg) throw new UsageError("dead-letters replay needs the event id from 'dead-letters list'");
    await admin(`/_rounds/admin/v1/dead-letters/${encodeURIComponent(arg)}/replay`, { method: "POST" });
    return console.log(`Put ${arg} back in the inbox.`);
  }
  throw new UsageError(`unknown command '${positionals.join(" ")}'`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
  else console.error(`Error: ${err.message}`);
  process.exit(1);
});
