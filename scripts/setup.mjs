#!/usr/bin/env node
// Bootstraps a fresh clone: Node deps (bringing Node 24), the Synapse venv, then hands over to
// the TypeScript setup for secrets and config. Plain JS with no dependencies, because it must run
// on whatever Node the machine has before anything is installed. Each step is skipped when its
// inputs have not changed, so a second run takes seconds.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = join(root, ".rounds", "setup-state");
const forTests = process.argv.includes("--for-tests");
const started = Date.now();

function step(msg) {
  process.stdout.write(`[setup] ${msg}\n`);
}
function fail(msg) {
  process.stderr.write(`[setup] FAILED: ${msg}\n`);
  process.exit(1);
}
function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) fail(`${what} (exit ${r.status ?? r.signal}). Fix the error above and run the command again.`);
}
function hashOf(...files) {
  const h = createHash("sha256");
  for (const f of files) h.update(existsSync(join(root, f)) ? readFileSync(join(root, f)) : "");
  return h.digest("hex");
}
function upToDate(name, hash) {
  const f = join(stateDir, name);
  return existsSync(f) && readFileSync(f, "utf8") === hash;
}
function remember(name, hash) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, name), hash);
}

// 1. Node dependencies, including Node 24 itself as node_modules/.bin/node.
const npmHash = hashOf("package.json", "package-lock.json");
const node24 = join(root, "node_modules", ".bin", "node");
if (!upToDate("npm", npmHash) || !existsSync(node24)) {
  step("installing Node dependencies (npm ci)...");
  run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci");
  remember("npm", npmHash);
} else step("Node dependencies up to date");
const v = spawnSync(node24, ["--version"], { encoding: "utf8" });
const major = Number(/^v(\d+)/.exec(v.stdout ?? "")?.[1] ?? 0);
if (major < 22) fail(`node_modules/.bin/node reports '${v.stdout?.trim()}'; Rounds needs Node >= 22. Delete node_modules and run again.`);

// 1b. The Element widgets, built by Vite into widgets/dist for the appservice to serve. Rebuilt
// when a widget source, a shared definition they import, or the locked dependencies change.
const widgetFiles = [
  ...readdirSync(join(root, "widgets"), { recursive: true })
    .map((f) => `widgets/${f}`.replaceAll("\\", "/"))
    .filter((f) => !f.startsWith("widgets/dist/") && statSync(join(root, f)).isFile()),
  ...readdirSync(join(root, "appservice", "shared")).filter((f) => f.endsWith(".ts")).map((f) => `appservice/shared/${f}`),
  "package-lock.json",
].sort();
const widgetHash = hashOf(...widgetFiles) + createHash("sha256").update(widgetFiles.join("\n")).digest("hex");
const widgetsBuilt = ["consult", "consults"].every((w) => existsSync(join(root, "widgets", "dist", w, "index.html")));
if (!upToDate("widgets", widgetHash) || !widgetsBuilt) {
  step("building the Element widgets (Vite)...");
  const t = Date.now();
  run(node24, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "widgets/vite.config.ts", "--logLevel", "warn"], "widget build");
  remember("widgets", widgetHash);
  step(`  widgets built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
} else step("widgets up to date");

// 2. Synapse, pinned, in a project venv.
const venvPy = join(root, ".venv", "bin", "python");
const pyHash = hashOf("synapse-config/requirements.txt");
if (!existsSync(venvPy)) {
  step("creating the Python venv for Synapse (.venv)...");
  run("python3", ["-m", "venv", join(root, ".venv")], "python3 -m venv (install python3-venv?)");
}
if (!upToDate("pip", pyHash)) {
  step("installing Synapse from synapse-config/requirements.txt (first time takes a minute)...");
  // One line per package as pip goes, as progress; pip's full output is shown only if it fails.
  const pip = spawn(venvPy, ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-r", "synapse-config/requirements.txt"], {
    cwd: root,
  });
  let output = "";
  let pending = "";
  let count = 0;
  pip.stdout.on("data", (d) => {
    output += d;
    pending += d;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^Collecting (\S+)/.exec(line);
      if (m) step(`  pip: ${++count} collecting ${m[1]}`);
      else if (line.startsWith("Installing collected packages")) step(`  pip: installing ${count} packages...`);
    }
  });
  pip.stderr.on("data", (d) => (output += d));
  const code = await new Promise((r) => pip.on("close", r));
  if (code !== 0) {
    process.stderr.write(`${output}\n`);
    fail("pip install of Synapse failed (output above). Check that PyPI is reachable and python3-dev is installed.");
  }
  remember("pip", pyHash);
} else step("Synapse venv up to date");

// 2b. Chromium for the browser tests (Debian's package; installs it when running as root).
if (forTests) run(process.execPath, [join(root, "scripts", "ensure-chromium.mjs")], "Chromium for the browser tests");

// 3. Secrets, registration and homeserver config (TypeScript, on Node 24).
if (!forTests) {
  run(node24, ["--no-deprecation", "--import", "tsx", join(root, "appservice", "setup", "devSetup.ts")], "config generation");
}
step(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// 4. Hand over to the real work on Node 24. Ctrl-C reaches the child directly (same process
// group); we only wait for it to finish its own clean shutdown.
const thenIdx = process.argv.indexOf("--then");
const then = thenIdx >= 0 ? process.argv.slice(thenIdx + 1) : [];
if (then.length > 0) {
  const child = spawn(node24, ["--no-deprecation", ...then], { cwd: root, stdio: "inherit" });
  // Ctrl-C already reaches the child through the terminal; a forwarded copy would force-quit it.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
