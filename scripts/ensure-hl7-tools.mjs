#!/usr/bin/env node
// The alert tests send HL7 v2 with a tool nobody here wrote: mllp_send from Debian's python3-hl7.
// Installed with apt-get when missing (a few seconds); plain JS, run from scripts/setup.mjs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { aptGet } from "./apt.mjs";

const path = process.env.MLLP_SEND_PATH || "/usr/bin/mllp_send";
const step = (msg) => process.stdout.write(`[setup] ${msg}\n`);
function fail(msg) {
  process.stderr.write(`[setup] FAILED: ${msg}\n`);
  process.exit(1);
}

if (existsSync(path)) {
  step(`mllp_send present (${path})`);
  process.exit(0);
}
if (process.getuid?.() !== 0 || spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) {
  fail("the alert tests need mllp_send: install it with `sudo apt-get install -y python3-hl7` (Debian/Ubuntu), or set MLLP_SEND_PATH, then run the command again.");
}
const started = Date.now();
step("installing python3-hl7 (mllp_send) for the alert tests...");
const aptFailed = (m) => fail(`${m} Install it yourself (apt-get install python3-hl7) or set MLLP_SEND_PATH.`);
// The package lists may be missing on a fresh machine (Chromium's install updates them first).
if (spawnSync("apt-cache", ["show", "python3-hl7"], { stdio: "ignore" }).status !== 0) await aptGet(["update"], () => {}, aptFailed);
await aptGet(["install", "-y", "python3-hl7"], () => {}, aptFailed);
if (!existsSync(path)) fail(`apt-get installed python3-hl7 but ${path} is missing; set MLLP_SEND_PATH to mllp_send.`);
step(`python3-hl7 installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
