#!/usr/bin/env node
// The `rounds` admin CLI: runs appservice/cli.ts on the project's Node 24 with tsx.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const node = join(root, "node_modules", ".bin", "node");
if (!existsSync(node)) {
  console.error("Rounds is not set up yet: run 'npm start' once first.");
  process.exit(1);
}
const r = spawnSync(node, ["--no-deprecation", "--import", "tsx", join(root, "appservice", "cli.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status ?? 1);
