import { durationText } from "../shared/durationText.js";
import type { CliCommand } from "../workflow.js";
import type { RuleReport } from "./ruleReport.js";

/** The alerts workflow's coordinator commands in the `rounds` CLI. */
export const alertCli: CliCommand[] = [
  {
    words: ["alerts", "rules", "import"],
    usage: `alerts rules import <rules.yaml> [--dry-run]
    Check an alert rules file and, unless --dry-run, put it in force (the README's
    Alerts section has the format). Nothing is saved if any rule has a problem.`,
    options: { "dry-run": { type: "boolean" } },
    async run({ args, admin, readText, usageError, options }) {
      const [file] = args;
      if (!file) throw usageError("alerts rules import needs the rules file, e.g. appservice/alert/example-rules.yaml");
      const r = (await admin("/_rounds/admin/v1/alerts/rules", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ yaml: readText(file), dry_run: options["dry-run"] === true }),
      })) as { version: number | null; rules: Array<{ id: string; kind: string }> };
      const list = r.rules.map((x) => `${x.id} (${x.kind})`).join(", ");
      console.log(r.version === null ? `${file} is valid: ${r.rules.length} rule(s): ${list}. Nothing saved (--dry-run).` : `Rules version ${r.version} in force: ${r.rules.length} rule(s): ${list}.`);
    },
  },
  {
    words: ["alerts", "rules"],
    usage: `alerts rules
    Which version of the alert rules is in force, and how many rules it has.`,
    async run({ admin }) {
      const r = (await admin("/_rounds/admin/v1/alerts/rules")) as { version: number; rules: number };
      console.log(r.version ? `Rules version ${r.version}: ${r.rules} rule(s).` : "No alert rules loaded yet: npm run rounds -- alerts rules import <rules.yaml>");
    },
  },
  {
    words: ["alerts", "report"],
    usage: `alerts report [--since <date>]
    Per rule: alerts fired, acknowledged, time to acknowledge (p50, p90), paged,
    false positives and their rate, auto-cleared, and a threshold suggestion where
    false positives are many (default: the last 30 days).`,
    options: { since: { type: "string" } },
    async run({ admin, options }) {
      const q = typeof options.since === "string" ? `?since=${encodeURIComponent(options.since)}` : "";
      const r = (await admin(`/_rounds/admin/v1/alerts/report${q}`)) as { since: string; rules: Array<RuleReport> };
      if (!r.rules.length) return console.log(`No alert rules and no alerts since ${r.since}.`);
      console.log(`Alerts since ${r.since}:`);
      for (const x of r.rules) {
        console.log(`  ${x.rule}: fired ${x.fired}, acknowledged ${x.acknowledged} (p50 ${durationText(x.ackSecondsP50)}, p90 ${durationText(x.ackSecondsP90)}), paged ${x.paged}, false positives ${x.falsePositives}${x.falsePositiveRate === null ? "" : ` (${Math.round(x.falsePositiveRate * 100)}%)`}, auto-cleared ${x.autoCleared}`);
        if (x.suggestion) console.log(`    Suggestion: ${x.suggestion.text}\n    Evidence: ${x.suggestion.evidence}`);
      }
    },
  },
];
