// `npm run screenshots`: takes the README's picture of each widget. It runs the widget
// lifecycle browser tests (real Synapse, Rounds, E2EE clients and Chromium, as `npm test` does),
// which save Element's side-panel view (380 px) of one state per widget into docs/screenshots/.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const folder = join(root, "docs", "screenshots");
mkdirSync(folder, { recursive: true });
console.log(`[screenshots] driving the consult, handoff and alerts widgets in Chromium; pictures go to ${folder}`);
const mocha = join(root, "node_modules", "mocha", "bin", "mocha.js");
const specs = ["test/browser/consultLifecycle.test.ts", "test/browser/handoffLifecycle.test.ts", "test/browser/alertsLifecycle.test.ts"];
// --no-config: the project's .mocharc lists every suite, and mocha adds named files to its list.
const options = ["--no-config", "--node-option", "import=tsx", "--node-option", "no-deprecation", "--require", "test/hooks.ts", "--timeout", "120000", "--exit"];
const r = spawnSync(process.execPath, [mocha, ...options, ...specs], { cwd: root, stdio: "inherit", env: { ...process.env, ROUNDS_SCREENSHOTS: folder } });
if (r.status !== 0) {
  console.error(`[screenshots] the widget tests failed (exit ${r.status ?? r.signal}), so the pictures may be missing or stale; see the test output above.`);
  process.exit(r.status || 1);
}
console.log("[screenshots] done: consult-dashboard.png, consult-room.png, handoff-dashboard.png, handoff-room.png, alerts.png, alerts-rules.png");
