import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A clinician's private calendar feed: the URL's secret is stored only as its hash.
  await knex.schema.createTable("calendar_feeds", (t) => {
    t.string("token_hash").primary();
    t.string("user_id").notNullable().unique();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("calendar_feeds");
}
