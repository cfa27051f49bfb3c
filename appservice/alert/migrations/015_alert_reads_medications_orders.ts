import type { Knex } from "knex";

/**
 * When each delivered alert was first read (from the recipient's read receipt), and what the
 * medication-interaction and overdue-result rules read: a patient's medications and ordered
 * tests. As in 014, patients are found by a keyed digest and medication codes are sealed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("alert_deliveries", (t) => {
    t.timestamp("read_at", { useTz: true });
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
  await knex.schema.alterTable("alert_deliveries", (t) => {
    t.dropColumn("read_at");
  });
}
