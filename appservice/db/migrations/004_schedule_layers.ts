import type { Knex } from "knex";

/**
 * Schedule model v2: layered rotations (several per level, custom hand-over times, weekday
 * restrictions), overrides with ids and reasons (the old explicit shifts become overrides),
 * absences, swap requests, and per-service coordinators and escalation policy.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("oncall_services", (t) => {
    t.jsonb("coordinators").notNullable().defaultTo("[]");
    t.jsonb("escalation"); // null: each level in order
  });
  // A level may have several layers now: an old rotation is layer 0 of its level.
  await knex.schema.alterTable("oncall_rotations", (t) => {
    t.dropUnique(["service_id", "level"]);
    t.integer("layer_order").notNullable().defaultTo(0);
    t.jsonb("handover_times"); // custom rotations: several HH:MM a day
    t.jsonb("weekdays"); // null: every day
    t.unique(["service_id", "level", "layer_order"]);
  });
  await knex.schema.createTable("oncall_overrides", (t) => {
    t.bigIncrements("id"); // short, typeable
    t.string("service_id").notNullable().references("id").inTable("oncall_services").onDelete("CASCADE");
    t.string("level").notNullable();
    t.string("user_id").notNullable();
    t.timestamp("starts_at", { useTz: true }).notNullable();
    t.timestamp("ends_at", { useTz: true }).notNullable();
    t.string("reason");
    t.string("origin").notNullable(); // file (replaced on re-import) | admin | swap
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["service_id", "starts_at"]);
  });
  await knex.raw(
    `INSERT INTO oncall_overrides (service_id, level, user_id, starts_at, ends_at, origin)
     SELECT service_id, level, user_id, starts_at, ends_at, 'file' FROM oncall_shifts ORDER BY id`,
  );
  await knex.schema.dropTable("oncall_shifts");
  // Absence blocks: a short non-clinical label at most ("leave", "course").
  await knex.schema.createTable("oncall_absences", (t) => {
    t.bigIncrements("id");
    t.string("user_id").notNullable();
    t.timestamp("starts_at", { useTz: true }).notNullable();
    t.timestamp("ends_at", { useTz: true }).notNullable();
    t.string("label");
    t.string("origin").notNullable(); // file | admin
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["user_id", "starts_at"]);
  });
  // Schedule-wide settings from the file: holidays, extra coordinators.
  await knex.schema.createTable("oncall_settings", (t) => {
    t.string("key").primary();
    t.jsonb("value").notNullable();
  });
  await knex.schema.createTable("swap_requests", (t) => {
    t.bigIncrements("id"); // the number clinicians type: !swap accept 12
    t.string("service_id").notNullable().references("id").inTable("oncall_services").onDelete("CASCADE");
    t.string("level").notNullable();
    t.string("requester").notNullable();
    t.string("counterpart").notNullable();
    t.timestamp("starts_at", { useTz: true }).notNullable();
    t.timestamp("ends_at", { useTz: true }).notNullable();
    t.string("return_level");
    t.timestamp("return_starts_at", { useTz: true });
    t.timestamp("return_ends_at", { useTz: true });
    t.string("status").notNullable().defaultTo("requested"); // requested | accepted | declined | cancelled
    t.string("decline_reason");
    t.jsonb("override_ids").notNullable().defaultTo("[]");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("decided_at", { useTz: true });
    t.index(["counterpart", "status"]);
    t.index(["requester", "status"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("swap_requests");
  await knex.schema.dropTable("oncall_settings");
  await knex.schema.dropTable("oncall_absences");
  await knex.schema.createTable("oncall_shifts", (t) => {
    t.bigIncrements("id");
    t.string("service_id").notNullable().references("id").inTable("oncall_services").onDelete("CASCADE");
    t.string("level").notNullable();
    t.string("user_id").notNullable();
    t.timestamp("starts_at", { useTz: true }).notNullable();
    t.timestamp("ends_at", { useTz: true }).notNullable();
    t.index(["service_id", "starts_at"]);
  });
  await knex.raw(`INSERT INTO oncall_shifts (service_id, level, user_id, starts_at, ends_at) SELECT service_id, level, user_id, starts_at, ends_at FROM oncall_overrides`);
  await knex.schema.dropTable("oncall_overrides");
  await knex("oncall_rotations").where("layer_order", ">", 0).delete();
  await knex.schema.alterTable("oncall_rotations", (t) => {
    t.dropUnique(["service_id", "level", "layer_order"]);
    t.dropColumn("layer_order");
    t.dropColumn("handover_times");
    t.dropColumn("weekdays");
    t.unique(["service_id", "level"]);
  });
  await knex.schema.alterTable("oncall_services", (t) => {
    t.dropColumn("coordinators");
    t.dropColumn("escalation");
  });
}
