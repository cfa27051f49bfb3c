import { expect } from "chai";
import { alertCli } from "../../appservice/alert/alertCli.js";
import type { CliContext } from "../../appservice/workflow.js";

/** The alerts CLI commands over a recording admin API: what each asks of it, and what it prints. */
describe("alerts CLI commands", function () {
  const command = (words: string) => alertCli.find((c) => c.words.join(" ") === words)!;
  async function run(words: string, ctx: Partial<CliContext>, answer: unknown): Promise<{ printed: string[]; calls: Array<[string, RequestInit | undefined]> }> {
    const printed: string[] = [];
    const calls: Array<[string, RequestInit | undefined]> = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void printed.push(a.join(" "));
    try {
      await command(words).run({
        args: [],
        options: {},
        admin: async (path, init) => (calls.push([path, init]), answer),
        readText: () => "rules: []",
        usageError: (m) => new Error(`usage: ${m}`),
        ...ctx,
      });
    } finally {
      console.log = log;
    }
    return { printed, calls };
  }

  it("imports a rules file, or only checks it with --dry-run, and says what is in force", async function () {
    const saved = await run("alerts rules import", { args: ["rules.yaml"] }, { version: 4, rules: [{ id: "potassium", kind: "lab" }, { id: "news2", kind: "news2" }] });
    expect(saved.printed).to.deep.equal(["Rules version 4 in force: 2 rule(s): potassium (lab), news2 (news2)."]);
    expect(JSON.parse(String(saved.calls[0]![1]!.body))).to.deep.equal({ yaml: "rules: []", dry_run: false });
    const checked = await run("alerts rules import", { args: ["rules.yaml"], options: { "dry-run": true } }, { version: null, rules: [{ id: "potassium", kind: "lab" }] });
    expect(checked.printed).to.deep.equal(["rules.yaml is valid: 1 rule(s): potassium (lab). Nothing saved (--dry-run)."]);
    const missing = await run("alerts rules import", {}, null).catch((e: Error) => e.message);
    expect(missing).to.equal("usage: alerts rules import needs the rules file, e.g. appservice/alert/example-rules.yaml");
  });

  it("shows the version in force, or how to load the first", async function () {
    expect((await run("alerts rules", {}, { version: 3, rules: 6 })).printed).to.deep.equal(["Rules version 3: 6 rule(s)."]);
    expect((await run("alerts rules", {}, { version: 0, rules: 0 })).printed).to.deep.equal(["No alert rules loaded yet: npm run rounds -- alerts rules import <rules.yaml>"]);
  });

  it("prints each rule's figures and a suggestion with its evidence, asking for the period given", async function () {
    const report = {
      since: "2026-11-01T00:00:00.000Z",
      rules: [
        { rule: "potassium", fired: 10, acknowledged: 9, ackSecondsP50: 95, ackSecondsP90: 400, paged: 2, falsePositives: 4, falsePositiveRate: 0.4, autoCleared: 1, suggestion: { text: "Consider 5.9.", evidence: "4 of 10 were false positives" } },
        { rule: "news2", fired: 0, acknowledged: 0, ackSecondsP50: null, ackSecondsP90: null, paged: 0, falsePositives: 0, falsePositiveRate: null, autoCleared: 0, suggestion: null },
      ],
    };
    const { printed, calls } = await run("alerts report", { options: { since: "2026-11-01" } }, report);
    expect(calls[0]![0]).to.equal("/_rounds/admin/v1/alerts/report?since=2026-11-01");
    expect(printed[0]).to.equal("Alerts since 2026-11-01T00:00:00.000Z:");
    expect(printed[1]).to.match(/^  potassium: fired 10, acknowledged 9 \(p50 .+, p90 .+\), paged 2, false positives 4 \(40%\), auto-cleared 1$/);
    expect(printed[2]).to.equal("    Suggestion: Consider 5.9.\n    Evidence: 4 of 10 were false positives");
    expect(printed[3]).to.match(/^  news2: fired 0, acknowledged 0/);
  });
});
