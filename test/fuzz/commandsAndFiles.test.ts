import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ConsultService } from "../../appservice/consult/consultService.js";
import { ConsultStore } from "../../appservice/consult/consultStore.js";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { HandoffService } from "../../appservice/handoff/handoffService.js";
import { HandoffStore } from "../../appservice/handoff/handoffStore.js";
import { createLogger } from "../../appservice/logging.js";
import { consultMetrics } from "../../appservice/consult/consultMetrics.js";
import { handoffMetrics } from "../../appservice/handoff/handoffMetrics.js";
import { Metrics } from "../../appservice/metrics.js";
import { pagingMetrics } from "../../appservice/paging/pagingMetrics.js";
import { CalendarFeeds } from "../../appservice/oncall/calendarFeeds.js";
import { CsvImportError, parseAbsencesCsv, parseOverridesCsv } from "../../appservice/oncall/csvImport.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { ScheduleFileError, parseScheduleFile } from "../../appservice/oncall/scheduleFile.js";
import { SwapService } from "../../appservice/oncall/swapService.js";
import { SwapStore } from "../../appservice/oncall/swapStore.js";
import { ContactService } from "../../appservice/paging/contactService.js";
import { ContactStore } from "../../appservice/paging/contactStore.js";
import { PageService } from "../../appservice/paging/pageService.js";
import { PageStore } from "../../appservice/paging/pageStore.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { TimerStore } from "../../appservice/timers/timerStore.js";
import { calendarCommands } from "../../bots/calendarCommands.js";
import { CommandTable } from "../../bots/commands.js";
import { CONSULT_BOT } from "../../bots/consultBot.js";
import { consultCommands } from "../../bots/consultCommands.js";
import { HANDOFF_BOT } from "../../bots/handoffBot.js";
import { handoffCommands } from "../../bots/handoffCommands.js";
import { ONCALL_BOT } from "../../bots/oncallBot.js";
import { pagingCommands } from "../../bots/pagingCommands.js";
import { scheduleCommands } from "../../bots/scheduleCommands.js";
import { RecordingNotifier, RecordingRooms } from "../harness/recordingRooms.js";
import { FUZZ_TIME_LIMIT_MS, fuzzRuns } from "./budget.js";
import { hostileStrings } from "./corpus.js";
import { migrateAll } from "../harness/migrateAll.js";

const exampleSchedule = readFileSync(join(repoRoot, "appservice", "oncall", "example-schedule.yaml"), "utf8");
const exampleUnit = parse(readFileSync(join(repoRoot, "appservice", "handoff", "example-unit.yaml"), "utf8")) as Record<string, unknown>;

/** A word a clinician might type where an argument goes, hostile or not. */
const word = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.constantFrom("cardiology", "icu", "urgent", "emergent", "routine", "1", "#1", "0", "99999999999999999999", "@a:x.org", "tomorrow", "08:00", "2026-12-24", "at", "sms", "phone", "+15550001001", "off", "all"),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);

/** What a refused command must not change: the number of rows in every table. */
async function rowCounts(db: Db): Promise<string> {
  const tables = (await db("pg_tables").where({ schemaname: "public" }).select("tablename")).map((r) => r.tablename as string).sort();
  const parts: string[] = [];
  for (const t of tables) {
    const [row] = await db(t).count<{ count: string }[]>("* as count");
    parts.push(`${t}:${row?.count}`);
  }
  return parts.join(",");
}

describe("fuzz: every bot's command parser answers bad commands shortly and plainly, and changes nothing (PGlite)", function () {
  let db: Db;
  const tables: Record<string, CommandTable> = {};
  const verbs: Record<string, string[]> = {};

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    const oncall = new OnCallService(new OnCallStore(db));
    await oncall.importSchedule(exampleSchedule, { force: true });
    const rooms = new RecordingRooms("@rounds_oncall:x.org");
    const notifier = new RecordingNotifier();
    const log = createLogger("silent");
    const metrics = new Metrics();
    const timers = new TimerStore(db);
    const contacts = new ContactStore(db, { emergent: 30, urgent: 120, routine: null });
    const pages = new PageService({
      store: new PageStore(db),
      oncall,
      timers,
      wakeTimers: () => undefined,
      rooms,
      notifier,
      contacts,
      sms: null,
      options: { delaysSeconds: { emergent: 60, urgent: 300, routine: 1800 }, serverName: "x.org" },
      log,
      metrics: pagingMetrics(metrics.registry),
    });
    const paging = pagingCommands(pages, new ContactService(contacts));
    const swaps = new SwapService(oncall, new SwapStore(db), notifier);
    tables.oncall = CommandTable.forBot(ONCALL_BOT, [...scheduleCommands(oncall, swaps).commands, ...calendarCommands(new CalendarFeeds(db, oncall), "https://x.org").commands, ...paging.commands]);
    const consults = new ConsultService({
      store: new ConsultStore(db),
      oncall,
      timers,
      wakeTimers: () => undefined,
      rooms,
      notifier,
      options: {
        acceptMinutes: { emergent: 1, urgent: 5, routine: 30 },
        expectedResponseMinutes: { emergent: 30, urgent: 240, routine: 2880 },
        consultWidgetUrl: "https://x.org/w/consult",
        maxAttachmentBytes: 1_000_000,
      },
      log,
      metrics: consultMetrics(metrics.registry),
    });
    tables.consult = CommandTable.forBot(CONSULT_BOT, consultCommands(consults, rooms, { dashboardWidgetUrl: "https://x.org/w" }).commands);
    const handoffs = new HandoffService({
      store: new HandoffStore(db),
      oncall,
      timers,
      wakeTimers: () => undefined,
      rooms,
      notifier,
      userExists: async () => true,
      options: { deadlineMinutes: 15, escalateAfterMinutes: 5, handoffWidgetUrl: "https://x.org/w/handoff", unitWidgetUrl: "https://x.org/w/handoffs", botUserId: "@rounds_handoff:x.org" },
      log,
      metrics: handoffMetrics(metrics.registry),
    });
    await handoffs.saveUnit({ ...exampleUnit, room_id: "!unit:x.org" });
    tables.handoff = CommandTable.forBot(HANDOFF_BOT, handoffCommands(handoffs, rooms, { dashboardWidgetUrl: "https://x.org/w" }).commands);
    for (const [bot, table] of Object.entries(tables)) verbs[bot] = [...table.help().matchAll(/^!(\S+)/gm)].map((m) => m[1]!);
  });
  after(() => db.destroy());

  for (const bot of ["oncall", "consult", "handoff"]) {
    it(`${bot} bot: no command throws, a refusal is short and plain, and a refused command changes nothing`, async function () {
      this.timeout(FUZZ_TIME_LIMIT_MS + 60_000);
      const command = fc.tuple(fc.oneof(fc.constantFrom(...verbs[bot]!), word), fc.array(word, { maxLength: 6 })).map(([verb, args]) => `!${verb} ${args.join(" ")}`);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(command, fc.boolean(), async (body, encrypted) => {
          const before = await rowCounts(db);
          const ctx = { sender: "@fuzz:x.org", roomId: "!fuzz:x.org", sentAt: new Date(), eventId: `$fuzz-${bot}-${++n}`, encrypted, body };
          const result = await tables[bot]!.dispatch(body, ctx, () => undefined);
          expect(result, body).to.not.equal(null);
          const reply = result!.reply;
          expect(reply, body).to.be.a("string").and.not.match(/\[object |undefined|NaN|\n\s+at |TypeError|ReferenceError/);
          if (result!.verb !== "help") expect(reply.length, `${body.slice(0, 80)} → ${reply.slice(0, 200)}`).to.be.at.most(1500);
          expect(result!.outcome, `${body.slice(0, 80)} → ${reply.slice(0, 200)}`).not.to.equal("error");
          if (result!.outcome === "user_error") expect(await rowCounts(db), `${body.slice(0, 80)} changed stored state`).to.equal(before);
        }),
        // Fixed cases first: every verb with each input that once broke a bot.
        { numRuns: fuzzRuns(300), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS / 3, examples: fixedCases(verbs[bot]!) },
      );
    });
  }
});

/** Every verb with the hostile corpus as its argument (e.g. `!resolve 99999999999999999999` once reached the database). */
function fixedCases(verbs: string[]): [string, boolean][] {
  return verbs.flatMap((v) => ["99999999999999999999", "a\u0000b", "__proto__", "x".repeat(20_000)].map((arg): [string, boolean] => [`!${v} ${arg}`, true]));
}

/** A copy of a document with one key renamed, one value replaced or one entry dropped, somewhere. */
function mutate(doc: unknown, pick: number, replacement: unknown, renamed: string): unknown {
  let i = 0;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk).filter(() => i++ !== pick);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => {
          const here = i++;
          if (here === pick) return [renamed, x];
          if (here === pick + 1) return [k, replacement];
          return [k, walk(x)];
        }),
      );
    }
    return v;
  };
  return walk(doc);
}

describe("fuzz: schedule, CSV and unit files are loaded or refused with their problems, never crash", function () {
  const exampleDoc = parse(exampleSchedule) as unknown;
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...hostileStrings));
  const renamed = fc.oneof(fc.constantFrom("overides", "weekday", "holidayz", "__proto__", "constructor", "levels", "members"), fc.string({ maxLength: 12 }));

  it("schedule YAML: any mutation of the example either loads or is refused as a ScheduleFileError", function () {
    this.timeout(FUZZ_TIME_LIMIT_MS + 30_000);
    fc.assert(
      fc.property(fc.nat({ max: 400 }), value, renamed, (pick, replacement, key) => {
        const text = stringify(mutate(exampleDoc, pick, replacement, key));
        try {
          parseScheduleFile(text);
        } catch (err) {
          expect(err, text.slice(0, 200)).to.be.instanceOf(ScheduleFileError);
          for (const p of (err as ScheduleFileError).problems) expect(p).to.be.a("string").and.have.length.below(2000);
        }
      }),
      { numRuns: fuzzRuns(500), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS / 3 },
    );
  });

  it("schedule YAML: a key named like an object's own (__proto__, constructor) is refused by name (found by this fuzzer)", function () {
    for (const key of ["__proto__", "constructor", "toString"]) {
      const text = stringify(Object.fromEntries(Object.entries(exampleDoc as Record<string, unknown>).map(([k, v], i) => [i === 0 ? key : k, v])));
      expect(() => parseScheduleFile(text), key).to.throw(ScheduleFileError, `unknown key '${key}'`);
    }
  });

  it("schedule YAML: arbitrary text is refused as a ScheduleFileError", function () {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(...hostileStrings)), (text) => {
        try {
          parseScheduleFile(text);
        } catch (err) {
          expect(err).to.be.instanceOf(ScheduleFileError);
        }
      }),
      { numRuns: fuzzRuns(500), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS / 3 },
    );
  });

  it("override and absence CSV: any text is loaded or refused as a CsvImportError", function () {
    const cell = fc.oneof(fc.constantFrom("cardiology", "primary", "@a:x.org", "2026-12-24T18:00", "2026-12-25", ...hostileStrings), fc.string({ maxLength: 20 }));
    const csv = fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { maxLength: 5 }).map((rows) => ["service,level,user,start,end", ...rows.map((r) => r.join(","))].join("\n"));
    fc.assert(
      fc.property(fc.oneof(csv, fc.string({ maxLength: 200 })), (text) => {
        for (const load of [() => parseOverridesCsv(text, [{ id: "cardiology", name: "Cardiology", timezone: "Europe/London", levels: ["primary", "backup"] }]), () => parseAbsencesCsv(text.replace(/^service,level,/, ""), "Europe/London")]) {
          try {
            load();
          } catch (err) {
            expect(err, text.slice(0, 200)).to.be.instanceOf(CsvImportError);
          }
        }
      }),
      { numRuns: fuzzRuns(500), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS / 3 },
    );
  });

  it("handoff unit file: any mutation of the example is saved or refused with a plain reason, and a refusal saves nothing", async function () {
    this.timeout(FUZZ_TIME_LIMIT_MS + 30_000);
    const db = openMemoryDatabase();
    await migrateAll(db);
    const handoffs = new HandoffService({
      store: new HandoffStore(db),
      oncall: { whoIsOnCall: async () => ({ levels: [] }) },
      timers: new TimerStore(db),
      wakeTimers: () => undefined,
      rooms: new RecordingRooms("@rounds_handoff:x.org"),
      notifier: new RecordingNotifier(),
      userExists: async () => true,
      options: { deadlineMinutes: 15, escalateAfterMinutes: 5, handoffWidgetUrl: "https://x.org/h", unitWidgetUrl: "https://x.org/u", botUserId: "@rounds_handoff:x.org" },
      log: createLogger("silent"),
      metrics: handoffMetrics(new Metrics().registry),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 60 }), value, renamed, async (pick, replacement, key) => {
          const unit = mutate(exampleUnit, pick, replacement, key) as Record<string, unknown>;
          const before = await rowCounts(db);
          try {
            await handoffs.saveUnit({ ...unit, id: "fuzz" });
          } catch (err) {
            expect((err as { name?: string }).name, JSON.stringify(unit).slice(0, 200)).to.equal("HandoffError");
            expect((err as Error).message).to.have.length.below(600);
            expect(await rowCounts(db)).to.equal(before);
          }
        }),
        { numRuns: fuzzRuns(300), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS / 3 },
      );
    } finally {
      await db.destroy();
    }
  });
});
