// `npm test` after setup: type-check, lint, the layering rules, then every mocha suite (unit, database, integration
// against a real Synapse). Runs on the project's Node 24.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (p) => join(root, "node_modules", p);
const steps = [
  ["type-check (tsc)", [bin("typescript/bin/tsc"), "--noEmit", "-p", "tsconfig.json"]],
  ["lint (eslint)", [bin("eslint/bin/eslint.js"), "--max-warnings=0", "."]],
  ["layering (dependency-cruiser, rules in .dependency-cruiser.cjs)", [bin("dependency-cruiser/bin/dependency-cruise.mjs"), "--config", ".dependency-cruiser.cjs", "appservice", "bots", "widgets"]],
  ["tests (mocha)", [bin("mocha/bin/mocha.js"), ...process.argv.slice(2)]],
];
for (const [name, args] of steps) {
  console.log(`\n[test] ${name}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`[test] ${name} failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status || 1);
  }
}
