/**
 * A small workflow defined only in the tests, to prove the registry: it joins Rounds through its
 * declaration alone (a bot command, a timer, a widget route, an admin route, its own config key
 * and migration), and no file outside this folder knows it. `!remind 2 ward round` answers, and
 * two seconds later its timer posts the reminder in the room.
 */
import express from "express";
import type { Knex } from "knex";
import { z } from "zod";
import { CommandError } from "../../../bots/commands.js";
import { requireAdminToken } from "../../../appservice/http/auth.js";
import { ErrCode, parse, WidgetApiError } from "../../../appservice/http/widgetApi.js";
import { positiveInt } from "../../../appservice/shared/config.js";
import { defineWorkflow } from "../../../appservice/workflow.js";

const TIMER_REMIND = "reminders.remind";

export interface RemindersConfig {
  maxSeconds: number;
}

const migration: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable("test_reminders", (t) => {
      t.increments("id").primary();
      t.string("room_id").notNullable();
      t.string("author").notNullable();
      // A short label such as "ward round": never clinical text (state and logs stay PHI-free).
      t.string("label", 40).notNullable();
      t.boolean("sent").notNullable().defaultTo(false);
    });
  },
  async down(knex) {
    await knex.schema.dropTable("test_reminders");
  },
};

export const reminders = defineWorkflow<RemindersConfig>({
  name: "reminders",
  bot: { name: "reminders", displayName: "Rounds Reminders", intro: "I am the Rounds reminders bot (a test workflow)." },
  config: {
    env: { ROUNDS_REMINDERS_MAX_SECONDS: positiveInt.max(3600, "must be at most 3600").default(600) },
    read: (e) => ({ maxSeconds: e.ROUNDS_REMINDERS_MAX_SECONDS as number }),
  },
  migrations: { "900_test_reminders": migration },
  widgets: [],
  stateTypes: [],
  build({ config, db, rooms, timers, wakeTimers, log }) {
    return {
      commands: [
        {
          verb: "remind",
          usage: "!remind <seconds> <label>",
          summary: "Remind this room of something in a few seconds",
          async run(ctx, args) {
            const [secondsArg, ...words] = args;
            const seconds = Number(secondsArg);
            const label = words.join(" ");
            if (!Number.isInteger(seconds) || seconds < 1 || seconds > config.maxSeconds) throw new CommandError("bad seconds", `Give whole seconds from 1 to ${config.maxSeconds}, e.g. !remind 5 ward round`);
            if (!label || label.length > 40) throw new CommandError("bad label", "Give a short label (at most 40 characters), e.g. !remind 5 ward round");
            const [row] = await db("test_reminders").insert({ room_id: ctx.roomId, author: ctx.sender, label }).returning("id");
            const id = String((row as { id: number }).id);
            await timers.schedule(TIMER_REMIND, id, "0", new Date(Date.now() + seconds * 1000));
            wakeTimers();
            return `Reminder #${id} set for ${seconds} s.`;
          },
        },
      ],
      timers: {
        async [TIMER_REMIND](t) {
          const r = (await db("test_reminders").where({ id: Number(t.ref) }).first()) as { room_id: string; label: string } | undefined;
          if (!r) return;
          await rooms.send(r.room_id, { body: `⏰ Reminder #${t.ref}: ${r.label}`, notice: true }, `reminder:${t.ref}`);
          await db("test_reminders").where({ id: Number(t.ref) }).update({ sent: true });
          log.info({ reminder: t.ref }, "reminders: sent");
        },
      },
      widgetRoutes: (route) => {
        route("post", "/v1/reminders/count", async (userId, req) => {
          const body = parse(z.object({ room_id: z.string().startsWith("!") }), req.body);
          if ((await rooms.membership(body.room_id, userId)) !== "join") throw new WidgetApiError(ErrCode.Forbidden, "You are not a member of this room.");
          const [{ n }] = (await db("test_reminders").where({ room_id: body.room_id }).count({ n: "*" })) as [{ n: number | string }];
          return { count: Number(n) };
        });
      },
      adminRoutes: (adminToken) => {
        const router = express.Router();
        router.use("/_rounds/admin/v1/reminders", requireAdminToken(adminToken));
        router.get("/_rounds/admin/v1/reminders", async (_req, res) => {
          res.json({ reminders: await db("test_reminders").select("id", "room_id", "author", "label", "sent").orderBy("id") });
        });
        return [router];
      },
    };
  },
});
