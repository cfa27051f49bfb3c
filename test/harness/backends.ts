import knexFactory from "knex";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { createThrowawayDatabase } from "./postgres.js";

/** Every database backend Rounds supports, for contract suites that must pass on each. */
export const backends: { name: string; open(): Promise<{ db: Db; close(): Promise<void> }> }[] = [
  {
    name: "PGlite (embedded default)",
    async open() {
      const db = openMemoryDatabase();
      return { db, close: () => db.destroy() };
    },
  },
  {
    name: "Postgres (127.0.0.1:5432, throwaway database)",
    async open() {
      const pg = await createThrowawayDatabase();
      const db = knexFactory({ client: "pg", connection: pg.url });
      return {
        db,
        async close() {
          await db.destroy();
          await pg.drop();
        },
      };
    },
  },
];
