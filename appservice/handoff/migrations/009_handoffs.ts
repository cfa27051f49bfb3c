import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A unit's handoff settings: names, times, Matrix ids; no patient data.
  await knex.schema.createTable("handoff_units", (t) => {
    t.string("id").primary();
    t.jsonb("settings").notNullable(); // HandoffUnitSchema
    t.string("room_id").unique();
    t.timestamp("updated_at", { useTz: true }).notNullable();
  });
  // A handoff: the source of truth for its status and deadline, mirrored as health.rounds.handoff
  // state. Patient references, SBAR text, read-backs, questions and reasons live only in the
  // encrypted room; rows hold their event ids.
  await knex.schema.createTable("handoffs", (t) => {
    t.bigIncrements("number");
    t.string("id").notNullable().unique();
    t.string("unit_id").notNullable();
    t.string("template").notNullable();
    t.string("mode").notNullable();
    t.string("status").notNullable(); // started | presenting | signing | completed | cancelled
    t.string("outgoing").notNullable();
    t.string("incoming").notNullable();
    t.string("started_by").notNullable();
    t.string("source_room_id"); // where it was started (unit room, dashboard), for the reply
    t.string("room_id").unique();
    t.string("anchor_event_id");
    t.jsonb("checklist").notNullable(); // [{label, done, by, ts}]
    t.timestamp("scheduled_for", { useTz: true });
    t.timestamp("deadline", { useTz: true }).notNullable();
    t.boolean("overdue").notNullable().defaultTo(false);
    t.jsonb("escalated_to").notNullable();
    t.timestamp("escalated_at", { useTz: true });
    t.timestamp("completed_at", { useTz: true });
    t.timestamp("cancelled_at", { useTz: true });
    t.string("cancelled_by");
    t.string("report_event_id");
    t.boolean("overridden").notNullable().defaultTo(false);
    // Figures frozen at sign-off for the quality metrics.
    t.integer("final_patients");
    t.integer("final_read_back");
    t.integer("final_questions");
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.index(["status"]);
    t.index(["outgoing"]);
    t.index(["incoming"]);
    t.index(["unit_id", "created_at"]);
  });
  // A scheduled shift change is handled once, even across restarts and several ticks.
  await knex.schema.createTable("handoff_shift_changes", (t) => {
    t.string("unit_id").notNullable();
    t.timestamp("shift_at", { useTz: true }).notNullable();
    t.string("outcome").notNullable();
    t.timestamp("handled_at", { useTz: true }).notNullable();
    t.primary(["unit_id", "shift_at"]);
  });
  await knex.schema.createTable("handoff_entries", (t) => {
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.string("entry_id").notNullable();
    // The patient's number, given once and never reused or renumbered: commands name patients by it,
    // so a removal or a reorder cannot make "patient 2" mean someone else. Position is display order.
    t.integer("number").notNullable();
    t.integer("position").notNullable();
    t.integer("version").notNullable();
    t.string("item_event_id").notNullable();
    t.jsonb("history").notNullable(); // earlier versions' event ids, newest first
    t.string("presented_by").notNullable();
    t.timestamp("presented_at", { useTz: true }).notNullable();
    t.timestamp("removed_at", { useTz: true });
    t.string("readback_event_id");
    t.string("readback_by");
    t.integer("readback_version");
    t.timestamp("readback_at", { useTz: true });
    t.primary(["handoff_id", "entry_id"]);
    t.unique(["handoff_id", "number"]);
  });
  // Every item version, read-back, question and answer event recorded, once (widget and inbox both deliver them).
  await knex.schema.createTable("handoff_events", (t) => {
    t.string("event_id").primary();
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.string("kind").notNullable();
  });
  await knex.schema.createTable("handoff_questions", (t) => {
    t.increments("pk");
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.integer("number").notNullable();
    t.string("entry_id").notNullable();
    t.string("event_id").notNullable().unique();
    t.string("asked_by").notNullable();
    t.timestamp("asked_at", { useTz: true }).notNullable();
    t.string("answer_event_id");
    t.string("answered_by");
    t.timestamp("answered_at", { useTz: true });
    t.unique(["handoff_id", "number"]);
  });
  // Pending tasks: who owns them and when they are due; the task text stays in the encrypted item.
  await knex.schema.createTable("handoff_tasks", (t) => {
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.string("task_id").notNullable();
    t.string("entry_id").notNullable();
    t.string("item_event_id").notNullable();
    t.string("owner").notNullable();
    t.timestamp("due_at", { useTz: true });
    t.string("status").notNullable(); // open | done | removed
    t.string("transferred_from");
    t.timestamp("transferred_at", { useTz: true });
    t.string("done_by");
    t.timestamp("done_at", { useTz: true });
    t.primary(["handoff_id", "task_id"]);
    t.index(["owner", "status"]);
  });
  await knex.schema.createTable("handoff_signoffs", (t) => {
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.string("user_id").notNullable();
    t.timestamp("signed_at", { useTz: true }).notNullable();
    t.string("override_event_id");
    t.jsonb("outstanding");
    t.primary(["handoff_id", "user_id"]);
  });
  await knex.schema.createTable("handoff_incidents", (t) => {
    t.bigIncrements("number");
    t.string("handoff_id").notNullable().references("id").inTable("handoffs").onDelete("CASCADE");
    t.string("entry_id").notNullable();
    t.string("item_event_id").notNullable();
    t.string("room_id").notNullable();
    t.string("category").notNullable();
    t.string("note_event_id");
    t.string("reported_by").notNullable();
    t.timestamp("reported_at", { useTz: true }).notNullable();
    // The command or note it came from: a retried report is one incident.
    t.string("source_key").unique();
  });
  // The appservice's audit log: who did what and when, with ids and event references only.
  await knex.schema.createTable("audit_log", (t) => {
    t.bigIncrements("id");
    t.string("workflow").notNullable();
    t.string("object_id").notNullable();
    t.string("action").notNullable();
    t.string("actor").notNullable();
    t.timestamp("at", { useTz: true }).notNullable();
    t.jsonb("refs").notNullable(); // event ids, entry ids, versions, counts: never clinical text
    t.index(["workflow", "object_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ["audit_log", "handoff_incidents", "handoff_signoffs", "handoff_tasks", "handoff_questions", "handoff_events", "handoff_entries", "handoff_shift_changes", "handoffs", "handoff_units"]) {
    await knex.schema.dropTable(t);
  }
}
