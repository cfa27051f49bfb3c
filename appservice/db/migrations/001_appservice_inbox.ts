import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A txn id seen once is a no-op when Synapse repeats it.
  await knex.schema.createTable("as_transactions", (t) => {
    t.string("txn_id").primary();
    t.integer("event_count").notNullable();
    t.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Events are committed here before Synapse gets its 200, then processed from here.
  await knex.schema.createTable("inbox", (t) => {
    t.bigIncrements("id");
    t.string("event_id").notNullable().unique();
    t.string("room_id").notNullable();
    t.string("event_type").notNullable();
    t.jsonb("event").notNullable();
    t.string("status").notNullable().defaultTo("pending"); // pending | done
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text("last_error");
    t.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("processed_at", { useTz: true });
    t.index(["status", "next_attempt_at"]);
  });
  // Events that kept failing; an operator lists and replays them with the CLI (dead-letters).
  await knex.schema.createTable("dead_letters", (t) => {
    t.bigIncrements("id");
    t.string("event_id").notNullable().unique();
    t.string("room_id").notNullable();
    t.string("event_type").notNullable();
    t.jsonb("event").notNullable();
    t.integer("attempts").notNullable();
    t.text("error").notNullable();
    t.timestamp("failed_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("dead_letters");
  await knex.schema.dropTable("inbox");
  await knex.schema.dropTable("as_transactions");
}
