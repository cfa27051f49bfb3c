import type { Db } from "./connect.js";

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

  /** The object `requestId` made `outcome` on, if it did. */
  async objectOf(requestId: string | undefined, outcome: string): Promise<string | null> {
    if (!requestId) return null;
    const row = await this.db("command_effects").where({ request_id: requestId, outcome }).first();
    return row ? (row.object_id as string) : null;
  }
}
