import type { Knex } from "knex";

/**
 * Inbox and dead-letter payloads as text, not jsonb. jsonb refuses what JSON allows (a \u0000
 * escape, a lone surrogate), and one such event from any room member made every transaction
 * fail. Rounds only stores and re-reads these payloads, so nothing needs them as jsonb.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE inbox ALTER COLUMN event TYPE text USING event::text");
  await knex.raw("ALTER TABLE dead_letters ALTER COLUMN event TYPE text USING event::text");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE dead_letters ALTER COLUMN event TYPE jsonb USING event::jsonb");
  await knex.raw("ALTER TABLE inbox ALTER COLUMN event TYPE jsonb USING event::jsonb");
}
