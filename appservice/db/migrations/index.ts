import type { Knex } from "knex";
import * as m001 from "./001_appservice_inbox.js";
import * as m002 from "./002_oncall_schedule.js";
import * as m003 from "./003_bot_devices.js";
import * as m004 from "./004_schedule_layers.js";
import * as m005 from "./005_paging.js";
import * as m006 from "./006_calendar_feeds.js";
import * as m007 from "./007_widgets.js";
import * as m011 from "./011_command_effects.js";
import * as m012 from "./012_inbox_text_payloads.js";

/**
 * The core's migrations, by numbered name; each workflow declares its own, and all run in one
 * order by name. Never edit one that has shipped; add the next number. 005 shipped holding the
 * core's timers and bot rooms beside paging's tables, so it stays here whole.
 */
export const coreMigrations: Record<string, Knex.Migration> = {
  "001_appservice_inbox": m001,
  "002_oncall_schedule": m002,
  "003_bot_devices": m003,
  "004_schedule_layers": m004,
  "005_paging": m005,
  "006_calendar_feeds": m006,
  "007_widgets": m007,
  "011_command_effects": m011,
  "012_inbox_text_payloads": m012,
};
