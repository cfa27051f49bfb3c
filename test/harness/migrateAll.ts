import { migrate, type Db } from "../../appservice/db/connect.js";
import { WORKFLOWS } from "../../appservice/workflows.js";

/** The whole schema, as Rounds runs it: the core's migrations and every registered workflow's. */
export function migrateAll(db: Db): Promise<string[]> {
  return migrate(db, WORKFLOWS.map((w) => w.migrations));
}

