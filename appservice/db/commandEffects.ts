import type { Logger } from "../logging.js";
import { affectedRows, type Db } from "./connect.js";

/** Kept far longer than any homeserver or inbox retries a command; older rows name nothing a retry could bring back. */
export const KEEP_COMMAND_EFFECTS_MS = 30 * 24 * 60 * 60_000;
export const PRUNE_COMMAND_EFFECTS_EVERY_MS = 60 * 60_000;

/**
 * The transitions each request made (shared by the workflows): recorded in the transition's own
 * database transaction, and read when a guard refuses, to tell "your own retry" from "someone
 * else got there first".
 */
export class CommandEffects {
  constructor(private readonly db: Db) {}

  /** Records that `requestId` made `outcome` on `objectId`; a request without an id records nothing. */
  async record(requestId: string | undefined, objectId: string, outcome: string, trx: Db = this.db): Promise<void> {
    if (!requestId) return;
    await trx("command_effects").insert({ request_id: requestId, object_id: objectId, outcome }).onConflict("request_id").ignore();
  }

  /** Whether `requestId` already made `outcome` on `objectId`. */
  async made(requestId: string | undefined, objectId: string, outcome: string): Promise<boolean> {
    if (!requestId) return false;
    const row = await this.db("command_effects").where({ request_id: requestId, object_id: objectId, outcome }).first();
    return row !== undefined;
  }

  /** Forgets the effects recorded before `olderThan`; returns how many went. */
  async prune(olderThan: Date): Promise<number> {
    return affectedRows(await this.db("command_effects").where("created_at", "<", olderThan).delete());
  }

  /** The object `requestId` made `outcome` on, if it did. */
  async objectOf(requestId: string | undefined, outcome: string): Promise<string | null> {
    if (!requestId) return null;
    const row = await this.db("command_effects").where({ request_id: requestId, outcome }).first();
    return row ? (row.object_id as string) : null;
  }
}

/** Prunes old effects hourly, for as long as Rounds runs; returns what stops it. */
export function pruneCommandEffects(db: Db, log: Logger): () => void {
  const effects = new CommandEffects(db);
  const timer = setInterval(() => {
    effects.prune(new Date(Date.now() - KEEP_COMMAND_EFFECTS_MS)).then(
      (pruned) => pruned && log.info({ pruned }, "command effects: pruned old rows"),
      (err: unknown) => log.warn({ err: (err as Error).message }, "command effects: could not prune; trying again at the next hour"),
    );
  }, PRUNE_COMMAND_EFFECTS_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
