// Bundles a browser entry (the host page, a fixture widget) with esbuild at test time. The code is
// served from memory; a copy goes to node_modules/.cache/rounds/browser/ for anyone debugging a page.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { repoRoot } from "../../../appservice/setup/synapseConfig.js";

const cacheDir = join(repoRoot, "node_modules", ".cache", "rounds", "browser");
const built = new Map<string, Promise<string>>();

async function bundle(entry: string, name: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "chrome120",
    write: false,
    sourcemap: "inline",
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"development"' },
    absWorkingDir: repoRoot,
  });
  const code = result.outputFiles[0]!.text;
  mkdirSync(cacheDir, { recursive: true });
  // Renamed into place: another test run in this tree may be reading the same file.
  const tmp = join(cacheDir, `${name}.${process.pid}.tmp`);
  writeFileSync(tmp, code);
  renameSync(tmp, join(cacheDir, `${name}.js`));
  return code;
}

/** The bundled script for `entry` (absolute path), built once per test run. */
export function bundleForBrowser(entry: string, name: string): Promise<string> {
  let code = built.get(entry);
  if (!code) {
    code = bundle(entry, name);
    built.set(entry, code);
  }
  return code;
}
