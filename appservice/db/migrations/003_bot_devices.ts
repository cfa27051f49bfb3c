import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // The device each bot logged in with; reused on every start so its keys stay valid.
  await knex.schema.createTable("bot_devices", (t) => {
    t.string("user_id").primary();
    t.string("device_id").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("bot_devices");
}
