import { URGENCIES } from "../shared/events/index.js";
import type { CliCommand, CliContext } from "../workflow.js";

type Contact = { userId: string; phone: string | null; smsAfter: Record<string, number | null> };

function printContact(c: Contact): void {
  const rules = Object.entries(c.smsAfter).map(([u, v]) => `${u}: ${v === null ? "no SMS" : `SMS after ${v} s`}`).join(", ");
  console.log(`${c.userId}: phone ${c.phone ?? "none"}; ${rules}`);
}

function contactPath({ args, usageError }: CliContext, verb: string): string {
  const [user] = args;
  if (!user) throw usageError(`contact ${verb} needs a Matrix user id, e.g. @alice:rounds.local`);
  return `/_rounds/admin/v1/contacts/${encodeURIComponent(user)}`;
}

/** The paging workflow's coordinator commands in the `rounds` CLI: SMS fallback contacts and open pages. */
export const pagingCli: CliCommand[] = [
  {
    words: ["contact", "set"],
    usage: `contact set <user> [--phone <+E.164>|--phone none] [--emergent <s|off>] [--urgent <s|off>] [--routine <s|off>]
    A clinician's SMS fallback: their mobile number and how many seconds after an
    unacknowledged page to text them, per urgency. Kept in the Rounds database only.`,
    options: { phone: { type: "string" }, emergent: { type: "string" }, urgent: { type: "string" }, routine: { type: "string" } },
    async run(ctx) {
      const { options, admin, usageError } = ctx;
      const path = contactPath(ctx, "set");
      const delay = (v: string | boolean | undefined, name: string): number | null | undefined => {
        if (v === undefined) return undefined;
        if (v === "off") return null;
        if (typeof v !== "string" || !/^\d{1,5}$/.test(v)) throw usageError(`--${name} takes a number of seconds or 'off', not '${String(v)}'`);
        return Number(v);
      };
      const smsAfter = Object.fromEntries(URGENCIES.map((u) => [u, delay(options[u], u)] as const).filter(([, v]) => v !== undefined));
      const body: Record<string, unknown> = {};
      if (typeof options.phone === "string") body.phone = options.phone === "none" ? null : options.phone;
      if (Object.keys(smsAfter).length) body.smsAfter = smsAfter;
      if (Object.keys(body).length === 0) throw usageError("contact set needs --phone and/or --emergent/--urgent/--routine");
      printContact((await admin(path, { method: "PUT", body: JSON.stringify(body), headers: { "content-type": "application/json" } })) as Contact);
    },
  },
  {
    words: ["contact", "show"],
    usage: `contact show <user>`,
    async run(ctx) {
      printContact((await ctx.admin(contactPath(ctx, "show"))) as Contact);
    },
  },
  {
    words: ["pages"],
    usage: `pages
    Open pages: number, service, urgency, status, step and who is notified (no content).`,
    async run({ admin }) {
      const r = (await admin("/_rounds/admin/v1/pages")) as {
        pages: { number: number; service: string; urgency: string; status: string; step: number; targets: string[]; exhausted: boolean; deadlineAt: string | null }[];
      };
      if (r.pages.length === 0) return console.log("No open pages.");
      for (const p of r.pages) {
        const next = p.exhausted ? "every step tried" : p.deadlineAt ? `escalates at ${p.deadlineAt}` : "no escalation";
        console.log(`#${p.number}  ${p.service}  ${p.urgency}  ${p.status} (step ${p.step + 1})  to ${p.targets.join(", ")}; ${next}`);
      }
    },
  },
];
