import type { Knex } from "knex";

/**
 * When each delivered alert was first read (from the recipient's read receipt), which deliveries
 * were a critical alert's page, patients' own limits, and what the
 * medication-interaction and overdue-result rules read: a patient's medications and ordered
 * tests. As in 014, patients are found by a keyed digest and medication codes are sealed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("alert_deliveries", (t) => {
    t.timestamp("read_at", { useTz: true });
    // A critical alert's page told this target in the page's room (its state there is paging's).
    t.boolean("via_page").notNullable().defaultTo(false);
  });

  // Each clinician's latest read receipt per room: a delivery recorded just after the receipt
  // that read it (a fast reader, a page's room) is marked read from here.
  await knex.schema.createTable("alert_receipts", (t) => {
    t.string("user_id", 255).notNullable();
    t.string("room_id", 255).notNullable();
    t.string("event_id", 255).notNullable();
    t.timestamp("read_at", { useTz: true }).notNullable();
    t.primary(["user_id", "room_id"]);
  });

  // A patient's own limits for a lab rule, in place of the rule's: set from one of their alerts
  // by a clinician it reached, or by a coordinator. The patient reference is sealed.
  await knex.schema.createTable("alert_patient_limits", (t) => {
    t.string("patient_key", 64).notNullable();
    t.string("rule_id", 64).notNullable();
    t.text("sealed_patient").notNullable();
    t.text("limits").notNullable(); // JSON {critical?, urgent?, informational?}: numbers only
    t.string("set_by", 255).notNullable();
    t.timestamp("set_at", { useTz: true }).notNullable();
    t.primary(["patient_key", "rule_id"]);
  });

  // One row per MedicationRequest or MedicationStatement a source sent (its latest version).
  await knex.schema.createTable("alert_medications", (t) => {
    t.string("patient_key", 64).notNullable();
    // Digest of source, resource type and id: a new version replaces the old.
    t.string("medication_key", 64).notNullable();
    t.text("sealed_codes").notNullable(); // AtRest: the RxNorm codes, a JSON array
    t.boolean("active").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.primary(["patient_key", "medication_key"]);
  });

  // An ordered test (ServiceRequest) and whether a result came: the overdue rule's care gap.
  await knex.schema.createTable("alert_orders", (t) => {
    t.bigIncrements("id");
    t.string("order_key", 64).notNullable().unique();
    t.string("patient_key", 64).notNullable();
    t.text("sealed_patient").notNullable(); // AtRest: the patient reference, for the alert's text
    t.string("loinc", 16).notNullable();
    t.string("unit", 64);
    t.timestamp("ordered_at", { useTz: true }).notNullable();
    t.timestamp("resulted_at", { useTz: true });
    t.timestamp("closed_at", { useTz: true }); // revoked, cancelled or entered in error
    t.string("source", 64).notNullable();
    t.bigInteger("inbound_id").notNullable();
    t.index(["patient_key", "loinc"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("alert_orders");
  await knex.schema.dropTable("alert_medications");
  await knex.schema.dropTable("alert_receipts");
  await knex.schema.dropTable("alert_patient_limits");
  await knex.schema.alterTable("alert_deliveries", (t) => {
    t.dropColumn("read_at");
    t.dropColumn("via_page");
  });
}
