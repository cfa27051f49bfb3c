import type { Knex } from "knex";

/**
 * Every message a source sent, recorded before it is acknowledged: unique on (source, key), so a
 * sender's retry (the same MSH-10, the same FHIR id and version) is recorded once. The message
 * itself is PHI: it is kept only sealed under the configured key, until it has been turned into
 * alerts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("alert_inbound", (t) => {
    t.bigIncrements("id");
    t.string("source", 64).notNullable();
    // MSH-10 for HL7 v2; ResourceType/id/_history/version for FHIR. Ids, not patient data.
    t.string("message_key", 256).notNullable();
    t.string("kind", 16).notNullable(); // hl7v2 | fhir
    t.string("message_type", 64).notNullable(); // ORU^R01, ADT^A01, Observation, Bundle …
    t.timestamp("received_at", { useTz: true }).notNullable();
    t.text("sealed_payload"); // AtRest("alert messages"); null once processed
    t.timestamp("processed_at", { useTz: true });
    t.unique(["source", "message_key"]);
  });
  await knex.raw("CREATE INDEX alert_inbound_unprocessed ON alert_inbound (id) WHERE processed_at IS NULL");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("alert_inbound");
}
