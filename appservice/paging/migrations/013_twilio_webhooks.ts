import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Twilio retries and replays webhooks: an inbound SMS is handled once per MessageSid. A claim
  // with no handled_at is a handling that did not finish (a crash); it may be taken over later.
  await knex.schema.createTable("sms_inbound_messages", (t) => {
    t.string("message_sid").primary();
    t.timestamp("claimed_at", { useTz: true }).notNullable();
    t.timestamp("handled_at", { useTz: true });
  });
  // Each delivery status of a message is applied once, so a replay changes nothing.
  await knex.schema.createTable("sms_status_callbacks", (t) => {
    t.string("message_sid").notNullable();
    t.string("status").notNullable();
    t.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["message_sid", "status"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("sms_status_callbacks");
  await knex.schema.dropTable("sms_inbound_messages");
}
