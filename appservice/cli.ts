import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { registerUser } from "./setup/synapseAdmin.js";
import { devSecrets, devSettings } from "./setup/devEnvironment.js";
import { EXAMPLE_FILES, readUsersNamedIn } from "./setup/exampleUsers.js";
import type { CliCommand } from "./workflow.js";
import { cliCommands, WORKFLOWS } from "./workflows.js";

/**
 * The coordinator's CLI: `npm run rounds -- <command>`. It talks to the running stack: the
 * homeserver's admin API for accounts and the Rounds admin API for schedules.
 */
const usage = (WORKFLOW_USAGE: string) => `Usage: npm run rounds -- <command>

  user create <localpart> --password <pw> [--name <display name>] [--admin]
      Create an account on the dev homeserver (e.g. alice -> @alice:rounds.local).
  user create-examples [<file.yaml> ...]
      Create every account the example schedule and unit name (or the given schedule or
      unit files), each with a generated password printed once; existing ones are skipped.
  schedule import <file.yaml> [--force]
      Validate and import services, layers, overrides and absences (all or nothing).
      Conflicts in the next 28 days refuse the import; --force saves it anyway.
  schedule check <file.yaml>
      Dry run: report problems and conflicts without saving.
  override add <service> <level> <user> <start> <end> [--reason <text>] [--force]
      Someone covers a slot. Times local to the service, e.g. 2026-12-24T18:00.
  override list [--service <id>] | override remove <id> | override import <file.csv> [--force]
      CSV header: service,level,user,start,end[,reason]
  absence add <user> <start> <end> [--label <word>] [--force]
      Leave or course; a bare date is a whole day, the end date is inclusive.
  absence list [--user <id>] | absence remove <id> | absence import <file.csv> [--force]
      CSV header: user,start,end[,label]
  conflicts [--days N]
      Double-bookings, gaps and people scheduled while away, over the next N days (28).
  fairness [--from <date>] [--to <date>]
      On-call, night, weekend and holiday hours per person (default: the last 28 days).
  ical user <userId> [--from --to] [--out <file.ics>]
  ical service <id> [--from --to] [--out <file.ics>]
      Calendar export (default: the next 28 days).
  oncall <service> [--at <ISO date-time>]
      Show who is on call for a service.
${WORKFLOW_USAGE}  dead-letters list
      Events the appservice gave up on, with the error (no content).
  dead-letters replay <event id>
      Put a dead letter back in the inbox to be processed again.

Talks to the stack started by 'npm start'. Override with ROUNDS_HOMESERVER_URL,
ROUNDS_APPSERVICE_URL, ROUNDS_ADMIN_TOKEN and ROUNDS_REGISTRATION_SHARED_SECRET.`;

class UsageError extends Error {}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`cannot read '${path}'`);
  }
}

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
  if (res.ok && res.headers.get("content-type")?.startsWith("text/calendar")) return res.text();
  const body = (await res.json()) as { error?: string; problems?: string[]; conflicts?: { message: string }[] };
  if (!res.ok) {
    if (body.problems) throw new Error(`${body.problems.length} problem(s):\n  - ${body.problems.join("\n  - ")}`);
    if (body.conflicts) throw new Error(`${body.conflicts.length} conflict(s), nothing saved:\n  - ${body.conflicts.map((c) => c.message).join("\n  - ")}\nFix them, or add --force to save anyway.`);
    throw new Error(body.error ?? `HTTP ${res.status}`);
  }
  return body;
}

/** The core commands' options; each workflow command declares its own. */
const CORE_OPTIONS = {
  password: { type: "string" },
  name: { type: "string" },
  admin: { type: "boolean", default: false },
  at: { type: "string" },
  force: { type: "boolean", default: false },
  reason: { type: "string" },
  label: { type: "string" },
  service: { type: "string" },
  user: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  days: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The workflows' lines of the usage, indented like the core's. */
function workflowUsage(commands: CliCommand[]): string {
  return commands.map((c) => `${c.usage.replace(/^/gm, "  ")}\n`).join("");
}

/** The workflow's command the words name: the one with the most words that match. */
function findCommand(commands: CliCommand[], positionals: string[]): CliCommand | undefined {
  return commands.filter((c) => c.words.every((w, i) => positionals[i] === w)).sort((a, b) => b.words.length - a.words.length)[0];
}

async function main(argv: string[], workflowCommands: CliCommand[], USAGE: string): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      // The workflows' own options; typed as nothing here, as only their commands read them.
      ...(Object.assign({}, ...workflowCommands.map((c) => c.options ?? {})) as object),
      ...CORE_OPTIONS,
    },
  });
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd || cmd === "help") return console.log(USAGE);
  const workflowCommand = findCommand(workflowCommands, positionals);
  if (workflowCommand) {
    const usageError = (message: string) => new UsageError(message);
    return workflowCommand.run({ args: positionals.slice(workflowCommand.words.length), options: values as Record<string, string | boolean | undefined>, admin, readText, usageError });
  }

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
  if (cmd === "user" && sub === "create-examples") return createNamedUsers(positionals.length > 2 ? positionals.slice(2) : EXAMPLE_FILES);
  const force = values.force ? "?force=1" : "";
  const warn = (r: { warnings?: { message: string }[] }) => {
    for (const w of r.warnings ?? []) console.log(`  warning: ${w.message}`);
  };
  const post = (path: string, body: string, type: string) => admin(path, { method: "POST", body, headers: { "content-type": type } });
  const rest = positionals.slice(2);

  if (cmd === "schedule" && (sub === "import" || sub === "check")) {
    if (!arg) throw new UsageError(`schedule ${sub} needs a file: npm run rounds -- schedule ${sub} <file.yaml>`);
    const text = readText(arg);
    if (sub === "check") {
      const r = (await post("/_rounds/admin/v1/schedule/check", text, "application/yaml")) as { services: string[]; conflicts: { message: string }[]; unknownUsers?: string[]; uncheckedUsers?: string[] };
      if (r.conflicts.length === 0) console.log(`The file is valid (${r.services.join(", ")}) and has no conflicts in the next 28 days.`);
      else {
        console.log(`The file is valid (${r.services.join(", ")}) but has ${r.conflicts.length} conflict(s):`);
        for (const c of r.conflicts) console.log(`  - ${c.message}`);
      }
      return warnUnknownUsers(r);
    }
    const r = (await post(`/_rounds/admin/v1/schedule${force}`, text, "application/yaml")) as { services: string[]; clinicians: number; warnings: { message: string }[]; unknownUsers?: string[]; uncheckedUsers?: string[] };
    console.log(`Imported ${r.services.length} service(s): ${r.services.join(", ")}; ${r.clinicians} clinician name(s).`);
    warn(r);
    return warnUnknownUsers(r);
  }
  if (cmd === "override" || cmd === "absence") {
    const path = `/_rounds/admin/v1/${cmd}s`;
    if (sub === "add") {
      const body =
        cmd === "override"
          ? (() => {
              const [service, level, user, start, end] = rest;
              if (!end) throw new UsageError("override add needs <service> <level> <user> <start> <end>");
              return { service, level, user, start, end, reason: values.reason };
            })()
          : (() => {
              const [user, start, end] = rest;
              if (!end) throw new UsageError("absence add needs <user> <start> <end>");
              return { user, start, end, label: values.label };
            })();
      const r = (await post(`${path}${force}`, JSON.stringify(body), "application/json")) as { id: number; warnings: { message: string }[] };
      console.log(`Added ${cmd} ${r.id}.`);
      return warn(r);
    }
    if (sub === "list") {
      const q = cmd === "override" ? (values.service ? `?service=${encodeURIComponent(values.service)}` : "") : values.user ? `?user=${encodeURIComponent(values.user)}` : "";
      const r = (await admin(`${path}${q}`)) as Record<string, { id: number; serviceId?: string; level?: string; userId: string; startsAt: string; endsAt: string; reason?: string; label?: string }[]>;
      const rows = r[`${cmd}s`]!;
      if (rows.length === 0) return console.log(`No ${cmd}s.`);
      for (const o of rows) {
        const what = o.serviceId ? `${o.serviceId} ${o.level} ` : "";
        const note = o.reason ?? o.label;
        console.log(`${o.id}  ${what}${o.userId}  ${o.startsAt} -> ${o.endsAt}${note ? `  (${note})` : ""}`);
      }
      return;
    }
    if (sub === "remove") {
      if (!arg) throw new UsageError(`${cmd} remove needs the id from '${cmd} list'`);
      await admin(`${path}/${encodeURIComponent(arg)}`, { method: "DELETE" });
      return console.log(`Removed ${cmd} ${arg}.`);
    }
    if (sub === "import") {
      if (!arg) throw new UsageError(`${cmd} import needs a CSV file`);
      const r = (await post(`${path}/import${force}`, readText(arg), "text/csv")) as { ids: number[]; warnings: { message: string }[] };
      console.log(`Imported ${r.ids.length} ${cmd}(s).`);
      return warn(r);
    }
  }
  if (cmd === "conflicts") {
    const q = values.days ? `?days=${encodeURIComponent(values.days)}` : "";
    const r = (await admin(`/_rounds/admin/v1/conflicts${q}`)) as { conflicts: { message: string }[] };
    if (r.conflicts.length === 0) return console.log(`No conflicts in the next ${values.days ?? 28} days.`);
    for (const c of r.conflicts) console.log(`- ${c.message}`);
    return;
  }
  if (cmd === "fairness") {
    const q = new URLSearchParams();
    if (values.from) q.set("from", values.from);
    if (values.to) q.set("to", values.to);
    const r = (await admin(`/_rounds/admin/v1/fairness?${q}`)) as {
      from: string;
      to: string;
      people: { userId: string; hours: number; nightHours: number; weekendHours: number; holidayHours: number; shifts: number }[];
    };
    console.log(`On-call load from ${r.from} to ${r.to} (hours):`);
    console.log("user\ttotal\tnight\tweekend\tholiday\tshifts");
    for (const p of r.people) console.log(`${p.userId}\t${p.hours}\t${p.nightHours}\t${p.weekendHours}\t${p.holidayHours}\t${p.shifts}`);
    return;
  }
  if (cmd === "ical" && (sub === "user" || sub === "service") && arg) {
    const q = new URLSearchParams();
    if (values.from) q.set("from", values.from);
    if (values.to) q.set("to", values.to);
    const ics = (await admin(`/_rounds/admin/v1/ical/${sub}/${encodeURIComponent(arg)}?${q}`)) as string;
    if (!values.out) return void process.stdout.write(ics);
    writeFileSync(values.out, ics);
    return console.log(`Wrote ${values.out}.`);
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

/** Users the homeserver does not know: the import stands, but their pages would reach nobody. */
function warnUnknownUsers(r: { unknownUsers?: string[]; uncheckedUsers?: string[] }): void {
  const unknown = r.unknownUsers ?? [];
  for (const u of unknown) console.log(`  warning: ${u} does not exist on the homeserver; pages and handoffs to them reach nobody`);
  if (unknown.length) console.log("  Create the accounts with 'npm run rounds -- user create <localpart> --password <pw>' (or 'user create-examples' for the example files).");
  if (r.uncheckedUsers?.length) console.log(`  note: the homeserver did not say whether ${r.uncheckedUsers.length} user(s) exist: ${r.uncheckedUsers.join(", ")}`);
}

/** Creates each account the files name on this homeserver; one that exists already is left alone. */
async function createNamedUsers(files: string[]): Promise<void> {
  const s = settings();
  const serverName = process.env.ROUNDS_SERVER_NAME ?? devSettings().serverName;
  const users = (() => {
    try {
      return readUsersNamedIn(files);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  })();
  let created = 0;
  for (const u of users) {
    const [, localpart, server] = /^@([^:]+):(.+)$/.exec(u.userId) ?? [];
    if (server !== serverName) {
      console.log(`Skipped ${u.userId}: not on this homeserver (${serverName}).`);
      continue;
    }
    const password = randomBytes(12).toString("base64url");
    try {
      await registerUser(s.homeserverUrl, s.sharedSecret, { localpart: localpart!, password, displayname: u.displayName });
    } catch (err) {
      const message = (err as Error).message;
      if (/M_USER_IN_USE/.test(message)) {
        console.log(`${u.userId} exists already; left as it is.`);
        continue;
      }
      if (/fetch failed/.test(message)) throw new Error(`the homeserver is not reachable at ${s.homeserverUrl}. Start it with 'npm start' first.`);
      throw err;
    }
    created++;
    console.log(`Created ${u.userId}${u.displayName ? ` (${u.displayName})` : ""}  password: ${password}`);
  }
  console.log(created ? `Created ${created} account(s). The passwords are shown only this once.` : "No accounts to create.");
}

const workflowCommands = await cliCommands(WORKFLOWS, Object.keys(CORE_OPTIONS));
const USAGE = usage(workflowUsage(workflowCommands));
main(process.argv.slice(2), workflowCommands, USAGE).catch((err: Error) => {
  if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
  else console.error(`Error: ${err.message}`);
  process.exit(1);
});
