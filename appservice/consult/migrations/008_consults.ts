import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A consult: the source of truth for its status and deadlines; mirrored as health.rounds.consult
  // state in its room. Nothing clinical is stored: the question, patient reference, decline
  // reasons and the report live only in the encrypted room.
  await knex.schema.createTable("consults", (t) => {
    t.bigIncrements("number"); // the short number clinicians type
    t.string("id").notNullable().unique(); // ULID: the state key
    t.string("service_id").notNullable();
    t.string("urgency").notNullable();
    t.string("status").notNullable(); // requested | accepted | declined | in_progress | completed | cancelled
    t.string("requester").notNullable();
    t.string("preferred");
    t.jsonb("care_team").notNullable();
    t.jsonb("candidates").notNullable(); // everyone asked so far, in order; the last is the current one
    t.jsonb("declined_by").notNullable();
    t.integer("step").notNullable().defaultTo(0); // index of the current candidate
    t.boolean("exhausted").notNullable().defaultTo(false);
    // The request event it was made from: the same request twice (widget API and inbox) is one consult.
    t.string("source_room_id").notNullable();
    t.string("source_event_id").notNullable();
    t.string("room_id").unique();
    t.string("request_event_id"); // the relayed structured request in the consult room
    t.string("request_message_event_id"); // the readable request message (✅ accepts)
    t.integer("delivered_step"); // the last step whose candidate was invited and told; null before the first
    t.string("consultant");
    t.string("accepted_via");
    t.timestamp("accept_by", { useTz: true });
    t.timestamp("accepted_at", { useTz: true });
    t.integer("expected_response_minutes");
    t.timestamp("respond_by", { useTz: true });
    t.boolean("overdue").notNullable().defaultTo(false);
    t.timestamp("started_at", { useTz: true });
    t.timestamp("completed_at", { useTz: true });
    t.timestamp("cancelled_at", { useTz: true });
    t.timestamp("declined_at", { useTz: true });
    t.string("report_event_id");
    // The billing suggestion: workflow facts and a code, not PHI.
    t.string("billing_code");
    t.string("billing_description");
    t.text("billing_rationale");
    t.integer("rating");
    t.string("outcome");
    t.timestamp("feedback_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.unique(["source_room_id", "source_event_id"]);
    t.index(["status"]);
    t.index(["requester"]);
    t.index(["consultant"]);
    t.index(["created_at"]);
  });
  // Every message that asks a candidate to act (the request and its re-quotes): a ✅ on any accepts.
  await knex.schema.createTable("consult_prompts", (t) => {
    t.string("event_id").primary();
    t.string("consult_id").notNullable().references("id").inTable("consults").onDelete("CASCADE");
    t.integer("step").notNullable();
    t.unique(["consult_id", "step"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("consult_prompts");
  await knex.schema.dropTable("consults");
}
