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
/** The parent pid of `pid` (Linux's /proc), or null where that cannot be read. */
function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
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
  // The shared definitions they import, and the declarations that name them (Vite's inputs).
  ...readdirSync(join(root, "appservice", "shared"), { recursive: true })
    .map((f) => `appservice/shared/${f}`.replaceAll("\\", "/"))
    .filter((f) => f.endsWith(".ts")),
  "appservice/workflows.ts",
  "tsconfig.json",
  ...readdirSync(join(root, "appservice"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "appservice", d.name, "index.ts")))
    .map((d) => `appservice/${d.name}/index.ts`),
  "package-lock.json",
].sort();
const widgetHash = hashOf(...widgetFiles) + createHash("sha256").update(widgetFiles.join("\n")).digest("hex");
// Every widget folder (one with an index.html) must have its page in dist.
const widgetsBuilt = readdirSync(join(root, "widgets"))
  .filter((w) => w !== "dist" && existsSync(join(root, "widgets", w, "index.html")))
  .every((w) => existsSync(join(root, "widgets", "dist", w, "index.html")));
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
if (forTests) run(process.execPath, [join(root, "scripts", "ensure-hl7-tools.mjs")], "mllp_send for the alert tests");

// 3. Secrets, registration and homeserver config (TypeScript, on Node 24).
if (!forTests) {
  run(node24, ["--no-deprecation", "--import", "tsx", join(root, "appservice", "setup", "devSetup.ts")], "config generation");
}
step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; ${forTests ? "running the tests" : "starting the stack"}`);

// 4. Hand over to the real work on Node 24.
const thenIdx = process.argv.indexOf("--then");
const then = thenIdx >= 0 ? process.argv.slice(thenIdx + 1) : [];
if (then.length > 0 && forTests) {
  // The tests share this process group: Ctrl-C reaches them directly, and a forwarded copy would
  // force-quit them; we only wait for them to finish.
  const child = spawn(node24, ["--no-deprecation", ...then], { cwd: root, stdio: "inherit" });
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (then.length > 0) {
  // The stack runs in its own process group, so Ctrl-C or a closed terminal reaches only this
  // process, which passes one stop request on: runStack then stops Rounds before Synapse, instead
  // of every process getting the signal at once. If this process is killed outright, the IPC
  // channel closes and runStack stops everything just the same. ROUNDS_START_TIME lets it say
  // how long the whole `npm start` took.
  const child = spawn(node24, ["--no-deprecation", ...then], {
    cwd: root,
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: true,
    env: { ...process.env, ROUNDS_START_TIME: String(started) },
  });
  let forwarded = false;
  const stopStack = () => {
    // One request is enough; runStack kills what does not stop within its grace periods.
    if (!forwarded && child.exitCode === null) child.kill("SIGTERM");
    forwarded = true;
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stopStack);
  // npm runs us under `sh -c`, and a SIGTERM or SIGHUP to npm's own pid kills npm (and sh) without
  // ever reaching us. Our parent or grandparent going away means that happened: stop then too.
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  setInterval(() => {
    if (process.ppid !== parent || (grandparent !== null && parentOf(parent) !== grandparent)) stopStack();
  }, 1000).unref();
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
