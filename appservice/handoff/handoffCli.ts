import { parse, stringify } from "yaml";
import { durationText } from "../shared/durationText.js";
import type { HandoffMetricsResponse } from "../shared/handoffApi.js";
import { unknownKeys } from "../shared/unknownKeys.js";
import type { CliCommand } from "../workflow.js";
import { HandoffUnitSchema } from "./handoffUnitSchema.js";

/** The handoff workflow's coordinator commands in the `rounds` CLI: unit settings, quality, audit. */
export const handoffCli: CliCommand[] = [
  {
    words: ["handoffs", "unit", "set"],
    usage: `handoffs unit set <file.yaml|file.json>
    Add or change a unit's handoff settings: template (sbar|ipass), checklist, shift
    times, mode, deadline, charge role, unit room (see docs/handoffs.md). Unknown keys
    are refused by name.`,
    async run({ args, admin, readText, usageError }) {
      const [file] = args;
      if (!file) throw usageError("handoffs unit set needs a YAML or JSON file with the unit's settings");
      const text = readText(file);
      let unit: Record<string, unknown>;
      try {
        unit = parse(text) as Record<string, unknown>;
      } catch (err) {
        throw usageError(`'${file}' is not valid YAML or JSON: ${(err as Error).message}`);
      }
      if (!unit || typeof unit !== "object" || typeof unit.id !== "string") throw usageError(`'${file}' must hold one unit with an id, e.g. id: 4west`);
      // A misspelt key (`shift_time:`) would otherwise be dropped and the unit saved without it.
      const unknown = unknownKeys(HandoffUnitSchema, unit);
      if (unknown.length) throw new Error(`'${file}' has ${unknown.length} problem(s), nothing saved:\n  - ${unknown.join("\n  - ")}\nThe keys are listed in docs/handoffs.md.`);
      const r = (await admin(`/_rounds/admin/v1/handoff/units/${encodeURIComponent(unit.id)}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(unit),
      })) as { unit: { id: string; name: string; template: string } };
      console.log(`Saved unit ${r.unit.id} (${r.unit.name}, ${r.unit.template === "ipass" ? "I-PASS" : "SBAR"}).`);
    },
  },
  {
    words: ["handoffs", "units"],
    usage: `handoffs units
    The units and their settings.`,
    async run({ admin }) {
      const r = (await admin("/_rounds/admin/v1/handoff/units")) as { units: Record<string, unknown>[] };
      if (r.units.length === 0) return console.log("No units yet. Add one with: npm run rounds -- handoffs unit set <file.yaml>");
      console.log(stringify(r.units).trimEnd());
    },
  },
  {
    words: ["handoffs", "metrics"],
    usage: `handoffs metrics [--since <date>] [--unit <id>]
    Handoff quality per unit: duration, share read back, questions, overrides
    (default: the last 30 days).`,
    options: { since: { type: "string" }, unit: { type: "string" } },
    async run({ admin, options }) {
      const q = new URLSearchParams();
      if (typeof options.since === "string") q.set("since", options.since);
      if (typeof options.unit === "string") q.set("unit", options.unit);
      const r = (await admin(`/_rounds/admin/v1/handoffs/metrics${q.size ? `?${q}` : ""}`)) as HandoffMetricsResponse;
      if (r.units.length === 0) return console.log(`No handoffs since ${r.since}.`);
      const pct = (x: number | null) => (x === null ? "-" : `${Math.round(x * 100)}%`);
      for (const u of r.units) {
        console.log(
          `${u.unit}: ${u.handoffs} completed; duration p50 ${durationText(u.duration_p50_s)}, p90 ${durationText(u.duration_p90_s)}; read back ${pct(u.read_back_share)}; questions/handoff ${u.questions_per_handoff?.toFixed(1) ?? "-"}; overrides ${u.overrides}; overdue ${u.overdue}`,
        );
      }
    },
  },
  {
    words: ["handoffs", "audit"],
    usage: `handoffs audit <number>
    Who presented, read back, asked, answered, signed off and overrode (references only).`,
    async run({ args, admin, usageError }) {
      const [n] = args;
      if (!n || !/^\d+$/.test(n)) throw usageError("handoffs audit needs a handoff number, e.g. handoffs audit 12");
      const r = (await admin(`/_rounds/admin/v1/handoffs/${n}/audit`)) as {
        handoff: { number: number; unit: string; status: string; outgoing: string; incoming: string };
        audit: { at: string; actor: string; action: string; refs: Record<string, unknown> }[];
      };
      console.log(`Handoff #${r.handoff.number} on ${r.handoff.unit}: ${r.handoff.outgoing} to ${r.handoff.incoming}, ${r.handoff.status}`);
      for (const a of r.audit) console.log(`${a.at}  ${a.action.padEnd(17)} ${a.actor}  ${JSON.stringify(a.refs)}`);
    },
  },
];
