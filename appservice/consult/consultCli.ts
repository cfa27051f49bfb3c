import type { MetricsResponse, ResponseTimes } from "../shared/consultWidgetApi.js";
import { durationText } from "../shared/durationText.js";
import type { CliCommand } from "../workflow.js";

/** The consult workflow's coordinator commands in the `rounds` CLI. */
export const consultCli: CliCommand[] = [
  {
    words: ["consults", "metrics"],
    usage: `consults metrics [--since <date>]
    Consult response times per service: p50 and p90 time to accept and to complete
    (default: the last 30 days).`,
    options: { since: { type: "string" } },
    async run({ admin, options }) {
      const since = typeof options.since === "string" ? `?since=${encodeURIComponent(options.since)}` : "";
      const r = (await admin(`/_rounds/admin/v1/consults/metrics${since}`)) as MetricsResponse;
      if (r.services.length === 0) return console.log(`No consults since ${r.since}.`);
      const t = (x: ResponseTimes) => (x.count ? `p50 ${durationText(x.p50_s)}, p90 ${durationText(x.p90_s)} (n=${x.count})` : "none yet");
      for (const m of r.services) console.log(`${m.service}: accept ${t(m.accept)}; complete ${t(m.complete)}`);
    },
  },
];
