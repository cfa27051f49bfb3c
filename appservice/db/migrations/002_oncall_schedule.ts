import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("oncall_services", (t) => {
    t.string("id").primary(); // slug: cardiology
    t.string("name").notNullable();
    t.string("timezone").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // A rotation hands a level (primary, backup, ...) from member to member at a local time.
  await knex.schema.createTable("oncall_rotations", (t) => {
    t.bigIncrements("id");
    t.string("service_id").notNullable().references("id").inTable("oncall_services").onDelete("CASCADE");
    t.string("level").notNullable();
    t.integer("level_order").notNullable();
    t.string("kind").notNullable(); // daily | weekly
    t.string("handover_time").notNullable(); // HH:MM, local to the service
    t.date("start_date").notNullable();
    t.jsonb("members").notNullable(); // Matrix user ids, in rotation order
    t.unique(["service_id", "level"]);
  });
  // Explicit shifts win over the rotation for their interval.
  await knex.schema.createTable("oncall_shifts", (t) => {
    t.bigIncrements("id");
    t.string("service_id").notNullable().references("id").inTable("oncall_services").onDelete("CASCADE");
    t.string("level").notNullable();
    t.string("user_id").notNullable();
    t.timestamp("starts_at", { useTz: true }).notNullable();
    t.timestamp("ends_at", { useTz: true }).notNullable();
    t.index(["service_id", "starts_at"]);
  });
  await knex.schema.createTable("clinicians", (t) => {
    t.string("user_id").primary();
    t.string("display_name").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("clinicians");
  await knex.schema.dropTable("oncall_shifts");
  await knex.schema.dropTable("oncall_rotations");
  await knex.schema.dropTable("oncall_services");
}
