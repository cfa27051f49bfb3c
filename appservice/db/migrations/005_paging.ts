import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Durable timers: escalations, SMS fallbacks, deadlines. One row per (kind, ref, step), so a
  // step can be scheduled any number of times and still exists once.
  await knex.schema.createTable("timers", (t) => {
    t.bigIncrements("id");
    t.string("kind").notNullable();
    t.string("ref").notNullable();
    t.string("step").notNullable();
    t.timestamp("due_at", { useTz: true }).notNullable();
    t.string("status").notNullable().defaultTo("pending"); // pending | running | done | cancelled
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("fired_at", { useTz: true });
    t.text("last_error");
    t.unique(["kind", "ref", "step"]);
    t.index(["status", "due_at"]);
  });
  // A page: the source of truth for its status; mirrored as health.rounds.page state in its room.
  await knex.schema.createTable("pages", (t) => {
    t.bigIncrements("number"); // the short number clinicians type and SMS carries
    t.string("id").notNullable().unique(); // ULID: the state key
    t.string("service_id").notNullable();
    t.string("kind").notNullable().defaultTo("page"); // page | broadcast
    t.string("urgency").notNullable();
    t.string("status").notNullable(); // triggered | notified | escalated | acknowledged | resolved
    t.string("requester").notNullable();
    t.string("origin_room_id");
    t.string("origin_event_id").unique(); // the command that raised it: a retried command finds its page
    t.string("room_id");
    t.integer("step").notNullable().defaultTo(0);
    t.boolean("exhausted").notNullable().defaultTo(false);
    t.jsonb("targets").notNullable(); // user ids notified at the current step
    t.jsonb("notified").notNullable(); // every user id notified so far, in order
    t.timestamp("deadline_at", { useTz: true });
    t.string("acked_by");
    t.string("ack_via");
    t.timestamp("acked_at", { useTz: true });
    t.string("resolved_by");
    t.timestamp("resolved_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["status"]);
  });
  // Every notification sent for a page. The unique key makes each step notify each person once
  // per channel, whatever retries and restarts happen.
  await knex.schema.createTable("page_notifications", (t) => {
    t.bigIncrements("id");
    t.string("page_id").notNullable().references("id").inTable("pages").onDelete("CASCADE");
    t.integer("step").notNullable();
    t.string("user_id").notNullable();
    t.string("channel").notNullable(); // matrix | sms
    t.string("status").notNullable(); // pending | sent | queued | delivered | failed | undelivered | skipped
    t.string("external_id"); // Matrix event id or Twilio message SID
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(["page_id", "step", "user_id", "channel"]);
    t.index(["external_id"]);
  });
  // Encrypted rooms the bot opened: a page room per requester/on-call pair, a DM per clinician.
  await knex.schema.createTable("bot_rooms", (t) => {
    t.string("purpose_key").primary(); // page:<a>|<b> or dm:<user>
    t.string("room_id").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Phone numbers and personal notification rules live here and nowhere else.
  await knex.schema.createTable("clinician_contacts", (t) => {
    t.string("user_id").primary();
    t.string("phone").unique(); // E.164; one clinician per number, or an SMS reply could ack as someone else
    t.jsonb("sms_after").notNullable(); // { emergent: seconds|null, urgent: ..., routine: ... }
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Who held each level at the last shift-change check, so a change is announced once.
  await knex.schema.createTable("shift_watch", (t) => {
    t.string("service_id").notNullable();
    t.string("level").notNullable();
    t.string("user_id");
    t.timestamp("since", { useTz: true });
    t.primary(["service_id", "level"]);
  });
  // One fatigue warning per clinician per shift start.
  await knex.schema.createTable("fatigue_alerts", (t) => {
    t.string("user_id").notNullable();
    t.string("shift_key").notNullable();
    t.float("hours").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["user_id", "shift_key"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ["fatigue_alerts", "shift_watch", "clinician_contacts", "bot_rooms", "page_notifications", "pages", "timers"]) {
    await knex.schema.dropTable(t);
  }
}
