// The layering rules of DESIGN.md section 1, checked on every `npm test`. Workflows are peers:
// what two of them share lives in shared/, oncall/ (the schedules all of them route by) or a port.
/* eslint-disable @typescript-eslint/no-require-imports -- dependency-cruiser loads this config as CommonJS */
const { existsSync, readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
/* eslint-enable @typescript-eslint/no-require-imports */

// A workflow is any folder of appservice/ whose index.ts declares one, so a new workflow is under
// these rules without this file changing.
const WORKFLOWS = readdirSync(join(__dirname, "appservice"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((name) => {
    const index = join(__dirname, "appservice", name, "index.ts");
    return existsSync(index) && /\bdefineWorkflow\(/.test(readFileSync(index, "utf8"));
  });
if (WORKFLOWS.length === 0) throw new Error("no workflow found under appservice/ (a folder whose index.ts calls defineWorkflow)");
const WORKFLOW = `^appservice/(${WORKFLOWS.join("|")})/`;
const DOMAIN = `^appservice/(${[...WORKFLOWS, "oncall"].join("|")})/`;
const ADAPTER = "^(bots/|appservice/http/|appservice/inbox/|appservice/main\\.ts|appservice/cli\\.ts)";
const PORT = "^appservice/(ports|db|matrix|sms)/|^appservice/timers/timerStore\\.ts";
/**
 * Files in a workflow's folder that are not its domain: its crons and CLI commands (adapters),
 * and its declaration (index.ts) and build.ts, which wire its service to its adapters.
 */
const WORKFLOW_ADAPTER = "(Cron|Cli|/index|/build)\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "workflow-imports-workflow",
      comment: "A workflow imports another workflow. Move what both need to appservice/shared/.",
      severity: "error",
      from: { path: WORKFLOW },
      to: { path: WORKFLOW, pathNot: "^appservice/$1/" },
    },
    {
      name: "domain-imports-adapter",
      comment: "A domain service imports an adapter (bot commands, HTTP, inbox, main). Adapters call services, never the reverse.",
      severity: "error",
      from: { path: DOMAIN, pathNot: WORKFLOW_ADAPTER },
      to: { path: [ADAPTER, `${DOMAIN}.*${WORKFLOW_ADAPTER}`] },
    },
    {
      name: "port-imports-domain",
      comment: "A port (database, room writer, SMS, timer store) imports a domain service. Ports serve the domain, and know none of it.",
      severity: "error",
      from: { path: PORT },
      to: { path: [DOMAIN, ADAPTER] },
    },
    {
      name: "runtime-imports-setup",
      comment: "Runtime code imports setup/ (installation and the dev stack). Move what both need to shared/ or matrix/.",
      severity: "error",
      from: { path: "^(appservice|bots)/", pathNot: "^appservice/(setup/|cli\\.ts)" },
      to: { path: "^appservice/setup/" },
    },
    {
      name: "widget-loads-validators-first",
      comment:
        "A widget imports zod or a schema module at run time, so it is in the first paint. Import the zod-free terms (events/terms.ts, *Terms.ts) and reach the schemas through widgets/lib/validators.ts, which loads them beside the handshake.",
      severity: "error",
      from: { path: "^widgets/", pathNot: "^widgets/lib/schemas\\.ts$" },
      to: {
        path: ["^node_modules/zod/", "^appservice/shared/(events/(index|common|consult|handoff|paging)|consultWidgetApi|handoffApi|peopleApi)\\.ts$"],
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "no-circular",
      comment: "An import cycle. Split the shared part out, so imports point one way.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(vendor|dist)/|^widgets/dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".tsx", ".js", ".mjs"] },
  },
};
