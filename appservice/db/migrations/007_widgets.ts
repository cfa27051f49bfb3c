import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Widget API sessions, made from a verified OpenID token. Only the token's hash is stored.
  await knex.schema.createTable("widget_sessions", (t) => {
    t.string("token_hash").primary();
    t.string("user_id").notNullable().index();
    t.timestamp("expires_at", { useTz: true }).notNullable().index();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // An attachment the bot uploaded, by the send it belongs to: a retried send reuses the upload.
  // The JSON holds the mxc URL and the file's key, so it is sealed (AES-GCM, key from config) and
  // the row is deleted once the message is sent.
  await knex.schema.createTable("bot_uploads", (t) => {
    t.string("txn_key").primary();
    t.text("file_json").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("bot_uploads");
  await knex.schema.dropTable("widget_sessions");
}
