import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Which request (a chat command's event id) made which workflow transition. A command retried
  // after a failure part-way is recognised here, so it finishes what it left undone and answers
  // as its first attempt would have, instead of being refused by the state it made itself.
  await knex.schema.createTable("command_effects", (t) => {
    t.string("request_id").primary();
    t.string("object_id").notNullable(); // the consult, handoff, page or swap it changed
    t.string("outcome").notNullable(); // the transition, e.g. "completed"
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("command_effects");
}
