import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import type { HandoffMetricsResponse } from "./shared/handoffApi.js";
import { unknownKeys } from "./shared/unknownKeys.js";
import type { MetricsResponse, ResponseTimes } from "./shared/consultWidgetApi.js";
import { registerUser } from "./setup/synapseAdmin.js";
import { devSecrets, devSettings } from "./setup/devEnvironment.js";
import { EXAMPLE_FILES, readUsersNamedIn } from "./setup/exampleUsers.js";
import { HandoffUnitSchema } from "./handoff/handoffUnitSchema.js";

/**
 * The coordinator's CLI: `npm run rounds -- <command>`. It talks to the running stack: the
 * homeserver's admin API for accounts and the Rounds admin API for schedules.
 */
const USAGE = `Usage: npm run rounds -- <command>

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
  contact set <user> [--phone <+E.164>|--phone none] [--emergent <s|off>] [--urgent <s|off>] [--routine <s|off>]
      A clinician's SMS fallback: their mobile number and how many seconds after an
      unacknowledged page to text them, per urgency. Kept in the Rounds database only.
  contact show <user>
  pages
      Open pages: number, service, urgency, status, step and who is notified (no content).
  consults metrics [--since <date>]
      Consult response times per service: p50 and p90 time to accept and to complete
      (default: the last 30 days).
  handoffs unit set <file.yaml|file.json>
      Add or change a unit's handoff settings: template (sbar|ipass), checklist, shift
      times, mode, deadline, charge role, unit room (see docs/handoffs.md). Unknown keys
      are refused by name.
  handoffs units
      The units and their settings.
  handoffs metrics [--since <date>] [--unit <id>]
      Handoff quality per unit: duration, share read back, questions, overrides
      (default: the last 30 days).
  handoffs audit <number>
      Who presented, read back, asked, answered, signed off and overrode (references only).
  dead-letters list
      Events the appservice gave up on, with the error (no content).
  dead-letters replay <event id>
      Put a dead letter back in the inbox to be processed again.

Talks to the stack started by 'npm start'. Override with ROUNDS_HOMESERVER_URL,
ROUNDS_APPSERVICE_URL, ROUNDS_ADMIN_TOKEN and ROUNDS_REGISTRATION_SHARED_SECRET.`;

class UsageError extends Error {}

const minutes = (s: number | null) => (s === null ? "-" : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

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

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
      since: { type: "string" },
      unit: { type: "string" },
      out: { type: "string" },
      phone: { type: "string" },
      emergent: { type: "string" },
      urgent: { type: "string" },
      routine: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd || cmd === "help") return console.log(USAGE);

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
  if (cmd === "contact" && (sub === "set" || sub === "show")) {
    if (!arg) throw new UsageError(`contact ${sub} needs a Matrix user id, e.g. @alice:rounds.local`);
    const path = `/_rounds/admin/v1/contacts/${encodeURIComponent(arg)}`;
    type Contact = { userId: string; phone: string | null; smsAfter: Record<string, number | null> };
    let c: Contact;
    if (sub === "set") {
      const delay = (v: string | undefined, name: string): number | null | undefined => {
        if (v === undefined) return undefined;
        if (v === "off") return null;
        if (!/^\d{1,5}$/.test(v)) throw new UsageError(`--${name} takes a number of seconds or 'off', not '${v}'`);
        return Number(v);
      };
      const smsAfter = Object.fromEntries(
        (["emergent", "urgent", "routine"] as const).map((u) => [u, delay(values[u], u)] as const).filter(([, v]) => v !== undefined),
      );
      const body: Record<string, unknown> = {};
      if (values.phone !== undefined) body.phone = values.phone === "none" ? null : values.phone;
      if (Object.keys(smsAfter).length) body.smsAfter = smsAfter;
      if (Object.keys(body).length === 0) throw new UsageError("contact set needs --phone and/or --emergent/--urgent/--routine");
      c = (await admin(path, { method: "PUT", body: JSON.stringify(body), headers: { "content-type": "application/json" } })) as Contact;
    } else {
      c = (await admin(path)) as Contact;
    }
    const rules = Object.entries(c.smsAfter).map(([u, v]) => `${u}: ${v === null ? "no SMS" : `SMS after ${v} s`}`).join(", ");
    return console.log(`${c.userId}: phone ${c.phone ?? "none"}; ${rules}`);
  }
  if (cmd === "pages") {
    const r = (await admin("/_rounds/admin/v1/pages")) as {
      pages: { number: number; service: string; urgency: string; status: string; step: number; targets: string[]; exhausted: boolean; deadlineAt: string | null }[];
    };
    if (r.pages.length === 0) return console.log("No open pages.");
    for (const p of r.pages) {
      const next = p.exhausted ? "every step tried" : p.deadlineAt ? `escalates at ${p.deadlineAt}` : "no escalation";
      console.log(`#${p.number}  ${p.service}  ${p.urgency}  ${p.status} (step ${p.step + 1})  to ${p.targets.join(", ")}; ${next}`);
    }
    return;
  }
  if (cmd === "consults" && sub === "metrics") {
    const since = values.since ? `?since=${encodeURIComponent(values.since)}` : "";
    const r = (await admin(`/_rounds/admin/v1/consults/metrics${since}`)) as MetricsResponse;
    if (r.services.length === 0) return console.log(`No consults since ${r.since}.`);
    const t = (x: ResponseTimes) => (x.count ? `p50 ${minutes(x.p50_s)}, p90 ${minutes(x.p90_s)} (n=${x.count})` : "none yet");
    for (const m of r.services) console.log(`${m.service}: accept ${t(m.accept)}; complete ${t(m.complete)}`);
    return;
  }
  if (cmd === "handoffs" && sub === "unit" && arg === "set") {
    const file = positionals[3];
    if (!file) throw new UsageError("handoffs unit set needs a YAML or JSON file with the unit's settings");
    let unit: Record<string, unknown>;
    try {
      unit = parse(readText(file)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`'${file}' is not valid YAML or JSON: ${(err as Error).message}`);
    }
    if (!unit || typeof unit !== "object" || typeof unit.id !== "string") throw new UsageError(`'${file}' must hold one unit with an id, e.g. id: 4west`);
    // A misspelt key (`shift_time:`) would otherwise be dropped and the unit saved without it.
    const unknown = unknownKeys(HandoffUnitSchema, unit);
    if (unknown.length) throw new Error(`'${file}' has ${unknown.length} problem(s), nothing saved:\n  - ${unknown.join("\n  - ")}\nThe keys are listed in docs/handoffs.md.`);
    const r = (await admin(`/_rounds/admin/v1/handoff/units/${encodeURIComponent(unit.id)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(unit),
    })) as { unit: { id: string; name: string; template: string } };
    return console.log(`Saved unit ${r.unit.id} (${r.unit.name}, ${r.unit.template === "ipass" ? "I-PASS" : "SBAR"}).`);
  }
  if (cmd === "handoffs" && sub === "units") {
    const r = (await admin("/_rounds/admin/v1/handoff/units")) as { units: Record<string, unknown>[] };
    if (r.units.length === 0) return console.log("No units yet. Add one with: npm run rounds -- handoffs unit set <file.yaml>");
    return console.log(stringify(r.units).trimEnd());
  }
  if (cmd === "handoffs" && sub === "metrics") {
    const q = new URLSearchParams();
    if (values.since) q.set("since", values.since);
    if (values.unit) q.set("unit", values.unit);
    const r = (await admin(`/_rounds/admin/v1/handoffs/metrics${q.size ? `?${q}` : ""}`)) as HandoffMetricsResponse;
    if (r.units.length === 0) return console.log(`No handoffs since ${r.since}.`);
    const pct = (x: number | null) => (x === null ? "-" : `${Math.round(x * 100)}%`);
    for (const u of r.units) {
      console.log(
        `${u.unit}: ${u.handoffs} completed; duration p50 ${minutes(u.duration_p50_s)}, p90 ${minutes(u.duration_p90_s)}; read back ${pct(u.read_back_share)}; questions/handoff ${u.questions_per_handoff?.toFixed(1) ?? "-"}; overrides ${u.overrides}; overdue ${u.overdue}`,
      );
    }
    return;
  }
  if (cmd === "handoffs" && sub === "audit") {
    if (!arg || !/^\d+$/.test(arg)) throw new UsageError("handoffs audit needs a handoff number, e.g. handoffs audit 12");
    const r = (await admin(`/_rounds/admin/v1/handoffs/${arg}/audit`)) as { handoff: { number: number; unit: string; status: string; outgoing: string; incoming: string }; audit: { at: string; actor: string; action: string; refs: Record<string, unknown> }[] };
    console.log(`Handoff #${r.handoff.number} on ${r.handoff.unit}: ${r.handoff.outgoing} to ${r.handoff.incoming}, ${r.handoff.status}`);
    for (const a of r.audit) console.log(`${a.at}  ${a.action.padEnd(17)} ${a.actor}  ${JSON.stringify(a.refs)}`);
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

main(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
  else console.error(`Error: ${err.message}`);
  process.exit(1);
});
