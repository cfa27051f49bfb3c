import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import knexFactory, { type Knex } from "knex";
import ClientPgLite from "knex-pglite";
import { ConfigError } from "../shared/config.js";
import { makePrivateDir, makeTreePrivate } from "../shared/privateFiles.js";
import { coreMigrations } from "./migrations/index.js";

export type Db = Knex;

/**
 * Postgres when DATABASE_URL is set, otherwise the embedded PGlite in the data directory.
 * Both speak the same SQL, so one set of migrations and one store implementation serve both.
 */
export function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Db {
  if (opts.databaseUrl) {
    return knexFactory({ client: "pg", connection: opts.databaseUrl, pool: { min: 0, max: 10 } });
  }
  const dir = resolve(join(opts.dataDir, "pglite"));
  try {
    makePrivateDir(resolve(opts.dataDir));
    makePrivateDir(dir);
  } catch (err) {
    throw new ConfigError("ROUNDS_DATA_DIR", `cannot be used as the data directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message} at '${opts.dataDir}'); point it at a directory Rounds may write`);
  }
  const pglite = new PGlite(dir);
  // PGlite writes its initial files 0666 and its pid files 0644 whatever the umask; what it
  // creates later follows Postgres's own 0600. The database is then the service account's alone.
  // Registered before knex's first query awaits waitReady, so this runs before any query.
  pglite.waitReady.then(() => makeTreePrivate(dir)).catch(() => undefined);
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: { pglite } as never });
}

/** In-memory PGlite, for tests and tools that want a throwaway database. */
export function openMemoryDatabase(): Db {
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: {} });
}

/**
 * The core's migrations and the workflows' (`extra`), run at every start-up in one order by name;
 * already-applied ones are skipped. A name two sources share is a mistake, refused here.
 */
export async function migrate(db: Db, extra: readonly Record<string, Knex.Migration>[] = []): Promise<string[]> {
  const all: Record<string, Knex.Migration> = { ...coreMigrations };
  for (const set of extra) {
    for (const [name, m] of Object.entries(set)) {
      if (all[name] && all[name] !== m) throw new Error(`two migrations are named ${name}; give the newer one the next free number`);
      all[name] = m;
    }
  }
  const migrationSource: Knex.MigrationSource<string> = {
    getMigrations: async () => Object.keys(all).sort(),
    getMigrationName: (name) => name,
    getMigration: async (name) => all[name]!,
  };
  const [, applied] = (await db.migrate.latest({ migrationSource, tableName: "rounds_migrations" })) as [number, string[]];
  return applied;
}

/**
 * The number of rows a knex update/delete touched. knex-pglite returns PGlite's result object
 * where the pg client returns a count; the datastore contract tests pin both.
 */
export function affectedRows(result: unknown): number {
  if (typeof result === "number") return result;
  const r = result as { affectedRows?: number; rowCount?: number } | null;
  return Number(r?.affectedRows ?? r?.rowCount ?? 0);
}
