#!/usr/bin/env node
// Makes sure the browser tests have a Chromium to drive. They use Debian's package, because
// `npx playwright install` downloads from a CDN that these machines cannot reach. Plain JS with
// no dependencies: it runs from scripts/setup.mjs on whatever Node the machine has.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { aptGet } from "./apt.mjs";

const fromEnv = process.env.CHROMIUM_PATH;
const path = fromEnv || "/usr/bin/chromium";

function step(msg) {
  process.stdout.write(`[setup] ${msg}\n`);
}
function fail(msg) {
  process.stderr.write(`[setup] FAILED: ${msg}\n`);
  process.exit(1);
}

if (existsSync(path)) {
  step(`Chromium present (${path})`);
  process.exit(0);
}
if (fromEnv) fail(`CHROMIUM_PATH is set to ${fromEnv}, which does not exist. Point it at a Chromium binary, or unset it to use /usr/bin/chromium.`);

const isRoot = process.getuid?.() === 0;
const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
if (!isRoot || !hasApt) {
  fail(
    "the browser tests need Chromium at /usr/bin/chromium. Install it with `sudo apt-get install -y chromium` " +
      "(Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary, then run the command again.",
  );
}

const started = Date.now();
step("installing Chromium for the browser tests (apt-get, about 40 s)...");
step("  apt: updating package lists...");
const aptFailed = (m) => fail(`${m} Install Chromium yourself (apt-get install chromium) or set CHROMIUM_PATH.`);
await aptGet(["update"], () => {}, aptFailed);

// apt says how many packages it will fetch. Report the big downloads (chromium itself is most of
// the 113 MB) and every tenth set-up, so a slow mirror is visible without a hundred lines.
let total = 0;
let fetched = 0;
let setUp = 0;
const every = (n) => n === total || n % 10 === 0;
await aptGet(["install", "-y", "chromium"], (line) => {
  const planned = /^(\d+) upgraded, (\d+) newly installed/.exec(line);
  if (planned) {
    total = Number(planned[1]) + Number(planned[2]);
    step(`  apt: ${total} packages to install`);
  } else if (/^Need to get /.test(line)) {
    step(`  apt: ${line.trim().replace(/\.$/, "")}`);
  } else if (/^Get:\d+ /.test(line)) {
    const big = /^Get:\d+ \S+ \S+ \S+ (\S+) .*\[([\d.]+ MB)\]/.exec(line);
    if (big) step(`  apt: downloading ${big[1]} (${big[2]})`);
    else if (every(++fetched)) step(`  apt: downloaded ${fetched} small packages`);
  } else if (/^Setting up /.test(line)) {
    if (every(++setUp)) step(`  apt: set up ${setUp}/${total || "?"}`);
  }
}, aptFailed);
if (!existsSync(path)) fail(`apt-get installed chromium but ${path} is still missing; set CHROMIUM_PATH to its binary.`);
step(`Chromium installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
