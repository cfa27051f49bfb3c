import type { Knex } from "knex";

/**
 * The alerts workflow. Patient identifiers and clinical values never stand in a column as they
 * are: a row finds its patient or result by a keyed digest (AtRest.digest), and what must be
 * kept to show or redeliver an alert is sealed (AtRest.seal) under the configured key.
 */
export async function up(knex: Knex): Promise<void> {
  // Every message a source sent, recorded before it is acknowledged: unique on (source, key), so
  // a sender's retry (the same MSH-10, the same FHIR id and version) is recorded once. Its
  // payload is kept sealed until it has been turned into alerts, then dropped.
  await knex.schema.createTable("alert_inbound", (t) => {
    t.bigIncrements("id");
    t.string("source", 64).notNullable();
    // MSH-10 for HL7 v2; ResourceType/id/_history/version for FHIR. Ids, not patient data.
    t.text("message_key").notNullable();
    t.string("kind", 16).notNullable(); // hl7v2 | fhir
    t.string("message_type", 64).notNullable(); // ORU^R01, ADT^A01, Observation, Bundle …
    t.timestamp("received_at", { useTz: true }).notNullable();
    t.text("sealed_payload"); // AtRest("alert messages"); null once processed
    t.string("content_digest", 64).notNullable(); // keyed digest of the payload: a reused key with other content is refused
    t.timestamp("processed_at", { useTz: true });
    t.integer("attempts").notNullable().defaultTo(0); // failed processing attempts
    t.unique(["source", "message_key"]);
  });
  await knex.raw("CREATE INDEX alert_inbound_unprocessed ON alert_inbound (id) WHERE processed_at IS NULL");

  // FHIR subscriptions (R4 Backport) sources notify through: the event count seen so far, so a
  // notification whose events-since-subscription-start runs ahead reveals the ones missed.
  await knex.schema.createTable("alert_subscriptions", (t) => {
    t.string("source", 64).notNullable();
    t.string("subscription", 255).notNullable();
    t.bigInteger("events_seen").notNullable().defaultTo(0);
    t.bigInteger("missed").notNullable().defaultTo(0);
    t.timestamp("last_notified_at", { useTz: true }).notNullable();
    t.primary(["source", "subscription"]);
  });

  // Where a patient is and who their attending is, from ADT: found by digest, the reference sealed.
  await knex.schema.createTable("alert_patients", (t) => {
    t.string("patient_key", 64).primary(); // digest of "authority|id"
    t.text("sealed_ref").notNullable(); // {"authority","id"}
    t.text("unit"); // PV1-3.1 point of care; null after discharge
    t.text("attending"); // PV1-7.1, the attending's staff id
    t.timestamp("updated_at", { useTz: true }).notNullable();
  });

  // Each patient's latest vital signs, for NEWS2: found by digest, the values sealed.
  await knex.schema.createTable("alert_vitals", (t) => {
    t.string("patient_key", 64).notNullable();
    t.string("loinc", 16).notNullable();
    t.text("sealed_value").notNullable();
    t.timestamp("observed_at", { useTz: true }).notNullable();
    t.primary(["patient_key", "loinc"]);
  });

  // One alert: a rule's finding for one patient. Its state in Matrix (health.rounds.alert) has
  // ids, status, priority, the rule and times only; the why and the values are in sealed_detail.
  await knex.schema.createTable("alerts", (t) => {
    t.bigIncrements("number");
    t.string("id", 26).notNullable().unique();
    t.string("rule_id", 64).notNullable();
    t.string("priority", 16).notNullable(); // critical | urgent | informational
    t.string("status", 16).notNullable(); // open | acknowledged | resolved | cleared
    t.string("patient_key", 64).notNullable();
    t.string("band", 32).notNullable();
    // Same patient, rule and band within the rule's window is one alert: this key finds it.
    t.string("dedup_key", 200).notNullable();
    // The result it was raised on (digest of order, code and sub-id), so a correction finds it.
    t.string("result_key", 64);
    t.integer("repeats").notNullable().defaultTo(0);
    t.integer("corrections").notNullable().defaultTo(0);
    t.text("sealed_detail").notNullable(); // {"why","values","patient","unit"}
    t.string("source", 64).notNullable();
    t.bigInteger("inbound_id").notNullable();
    t.timestamp("first_at", { useTz: true }).notNullable();
    t.timestamp("last_at", { useTz: true }).notNullable();
    t.timestamp("closed_at", { useTz: true });
    t.integer("page_number"); // a critical alert rides the paging engine: its page
    t.timestamp("snoozed_until", { useTz: true });
    t.string("false_positive_by", 255); // the reason is in the encrypted message the trail names
    t.timestamp("false_positive_at", { useTz: true });
    t.string("acknowledged_by", 255);
    t.timestamp("acknowledged_at", { useTz: true });
    t.index(["dedup_key", "status"]);
    t.index(["result_key"]);
    t.index(["patient_key", "rule_id", "status"]);
  });

  // Each room an alert was delivered to, with its message there (what ✅ and !ack find it by).
  await knex.schema.createTable("alert_deliveries", (t) => {
    t.string("alert_id", 26).notNullable();
    t.string("user_id", 255).notNullable();
    t.string("room_id", 255).notNullable();
    t.string("event_id", 255);
    t.timestamp("delivered_at", { useTz: true });
    // An informational alert waits here for the clinician's next digest.
    t.boolean("held").notNullable().defaultTo(false);
    t.primary(["alert_id", "user_id"]);
    t.index(["event_id"]);
  });

  // Clinicians' own email addresses for alert notices (contact details, not patient data), and
  // which alert was mailed to whom, so nobody is mailed twice.
  await knex.schema.createTable("alert_contacts", (t) => {
    t.string("user_id", 255).primary();
    t.string("email", 320).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
  });
  // Each clinician's quiet hours: informational alerts wait until they end.
  await knex.schema.createTable("alert_quiet_hours", (t) => {
    t.string("user_id", 255).primary();
    t.string("from", 5).notNullable();
    t.string("to", 5).notNullable();
    t.string("zone", 64).notNullable();
  });
  await knex.schema.createTable("alert_emails", (t) => {
    t.string("alert_id", 26).notNullable();
    t.string("user_id", 255).notNullable();
    t.timestamp("sent_at", { useTz: true }).notNullable();
    t.primary(["alert_id", "user_id"]);
  });

  // The rules, as the coordinator loaded them (checked before saving); the newest one applies.
  await knex.schema.createTable("alert_rule_sets", (t) => {
    t.bigIncrements("version");
    t.text("yaml").notNullable();
    t.timestamp("loaded_at", { useTz: true }).notNullable();
  });

  // The closed loop, step by step, with times: references only (ids, Matrix users, event ids).
  await knex.schema.createTable("alert_trail", (t) => {
    t.bigIncrements("id");
    t.string("alert_id", 26).notNullable().index();
    t.string("step", 24).notNullable(); // received | repeated | corrected | cleared | routed | delivered | read | acknowledged | escalated
    t.timestamp("at", { useTz: true }).notNullable();
    t.string("actor", 255);
    t.string("ref", 255);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("alert_rule_sets");
  await knex.schema.dropTable("alert_emails");
  await knex.schema.dropTable("alert_quiet_hours");
  await knex.schema.dropTable("alert_contacts");
  await knex.schema.dropTable("alert_deliveries");
  await knex.schema.dropTable("alert_trail");
  await knex.schema.dropTable("alerts");
  await knex.schema.dropTable("alert_vitals");
  await knex.schema.dropTable("alert_patients");
  await knex.schema.dropTable("alert_subscriptions");
  await knex.schema.dropTable("alert_inbound");
}
