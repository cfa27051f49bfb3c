// Starts the Rounds appservice. Its TypeScript is bundled by esbuild (tsx's own compiler) into
// one file first, and Node loads that natively: start-up takes about a second less than running
// through the tsx loader, which is a second sooner that overdue escalations fire after a crash.
// Dependencies stay external and load from node_modules as usual.
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

// Under npm start, the supervisor holds an IPC channel to us. If it dies without stopping us (kill -9),
// the channel closes and we stop as on SIGTERM, rather than run on, orphaned, holding the ports.
if (process.channel) {
  process.channel.unref();
  process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
}
process.setSourceMapsEnabled(true);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Inside node_modules, so the bundle's bare imports resolve to the project's packages.
const cacheDir = join(root, "node_modules", ".cache", "rounds");
mkdirSync(cacheDir, { recursive: true });
const outfile = join(cacheDir, `appservice-${process.pid}-${Date.now()}.mjs`);
await build({
  entryPoints: [join(root, "appservice", "main.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  outfile,
  sourcemap: "inline",
  logLevel: "warning",
  absWorkingDir: root,
});
let main;
try {
  ({ main } = await import(pathToFileURL(outfile).href));
} finally {
  rmSync(outfile, { force: true });
}
await main();
