import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "chai";
import { openDatabase } from "../../appservice/db/connect.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { ConfigError } from "../../appservice/shared/config.js";
import { freePort } from "../harness/ports.js";
import { StackProcess } from "../harness/stackProcess.js";
import { tempDir } from "../harness/tempDir.js";
import { migrateAll } from "../harness/migrateAll.js";

/** Every path below `dir` whose mode lets anyone but the owner in, as "path 0644". */
function looseModes(dir: string): string[] {
  const loose: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      if (st.mode & 0o077) loose.push(`${relative(dir, p)} ${(st.mode & 0o777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  if (lstatSync(dir).mode & 0o077) loose.push(`. ${(lstatSync(dir).mode & 0o777).toString(8)}`);
  walk(dir);
  return loose;
}

/** Defect 10: PGlite's files were 0666, Synapse's database and the logs 0644, the data dirs 0755. */
describe("file modes: the state Rounds and Synapse keep is private (dirs 0700, files 0600)", function () {
  it("PGlite's data directory, which PGlite itself writes 0666", async function () {
    const dataDir = join(tempDir("modes-db"), "data");
    const db = openDatabase({ dataDir });
    await migrateAll(db);
    await db.raw("create table mode_probe (v text)");
    await db.destroy();
    expect(existsSync(join(dataDir, "pglite", "PG_VERSION"))).to.equal(true);
    expect(looseModes(dataDir)).to.deep.equal([]);
    // A data dir left 0755 by an older install is tightened on the next start.
    chmodSync(dataDir, 0o755);
    const again = openDatabase({ dataDir });
    await again.raw("select 1");
    await again.destroy();
    expect(looseModes(dataDir)).to.deep.equal([]);
  });

  it("refuses a data directory under a file with a ConfigError naming ROUNDS_DATA_DIR", function () {
    const file = join(tempDir("modes-file"), "a-file");
    writeFileSync(file, "x");
    expect(() => openDatabase({ dataDir: join(file, "data") }))
      .to.throw(ConfigError)
      .with.property("key", "ROUNDS_DATA_DIR");
  });

  it("npm start's state: secrets, PGlite, the bots' crypto stores, Synapse's database, key and log, rounds.log", async function () {
    this.timeout(240_000);
    const state = tempDir("modes-stack");
    const env = {
      PATH: process.env.PATH ?? "",
      ROUNDS_STATE_DIR: state,
      ROUNDS_SYNAPSE_PORT: String(await freePort()),
      ROUNDS_APPSERVICE_PORT: String(await freePort()),
      ROUNDS_METRICS_PORT: String(await freePort()),
    };
    // What an older install left behind: a world-readable log in a 0755 directory.
    mkdirSync(join(state, "logs"), { recursive: true, mode: 0o755 });
    writeFileSync(join(state, "logs", "rounds.log"), "", { mode: 0o644 });
    chmodSync(join(state, "logs", "rounds.log"), 0o644);
    const setup = spawnSync(process.execPath, ["--no-deprecation", "--import", "tsx", join(repoRoot, "appservice", "setup", "devSetup.ts")], { env, encoding: "utf8" });
    expect(setup.status, setup.stderr).to.equal(0);
    const stack = StackProcess.runStack(env);
    try {
      await stack.waitForOutput(/Press Ctrl-C to stop\./, 180_000);
      for (const file of ["secrets.json", "synapse/homeserver.db", "synapse/homeserver.log", "synapse/signing.key", "logs/rounds.log", "data/pglite/PG_VERSION", "data/bots"]) {
        expect(existsSync(join(state, file)), file).to.equal(true);
      }
      // Area by area, so a failure says whose files are loose.
      for (const area of ["synapse", "logs", "data"]) expect(looseModes(join(state, area)), area).to.deep.equal([]);
      expect(looseModes(state)).to.deep.equal([]);
    } finally {
      const exit = once(stack.child, "exit");
      stack.child.kill("SIGINT");
      await exit;
      stack.killAll();
    }
    // What was written while stopping is private too.
    expect(looseModes(state)).to.deep.equal([]);
  });
});
