import { expect } from "chai";
import { ConsultError, type ConsultService } from "../../appservice/consult/consultService.js";
import type { CalendarFeeds } from "../../appservice/oncall/calendarFeeds.js";
import type { RoomWriter } from "../../appservice/ports/roomWriter.js";
import { calendarCommands } from "../../bots/calendarCommands.js";
import { CommandError, CommandTable } from "../../bots/commands.js";
import { CONSULT_BOT } from "../../bots/consultBot.js";
import { consultCommands } from "../../bots/consultCommands.js";
import { ONCALL_BOT } from "../../bots/oncallBot.js";

describe("bot command table", function () {
  const errors: unknown[] = [];
  const table = new CommandTable("test", "Intro text.", [
    { verb: "echo", usage: "!echo <text>", summary: "Repeat text", run: async (_ctx, args) => args.join(" ") },
    {
      verb: "fail",
      usage: "!fail",
      summary: "Fail",
      run: async (_c, args) => {
        if (args[0] === "user") throw new CommandError("log detail", "Friendly message");
        throw new Error("boom: internal detail");
      },
    },
  ]);
  const ctx = { sender: "@a:x", roomId: "!r:x", sentAt: new Date() };
  const run = (body: string) => table.dispatch(body, ctx, (e) => errors.push(e));

  it("generates help from the table", async function () {
    expect((await run("!help"))!.reply).to.equal("Intro text.\n\nCommands:\n!echo <text> — Repeat text\n!fail — Fail\n!help — Show this help");
  });

  it("ignores text that is not a command", async function () {
    expect(await run("hello !echo")).to.equal(null);
  });

  it("runs commands case-insensitively and passes the arguments", async function () {
    expect(await run("  !ECHO  a   b ")).to.deep.equal({ verb: "echo", reply: "a b", outcome: "ok" });
  });

  it("answers an unknown command with a pointer to help", async function () {
    expect((await run("!nope"))!.reply).to.contain('I don\'t know the command "!nope". Send !help');
  });

  it("shows the human message of a CommandError, and hides internal errors", async function () {
    expect(await run("!fail user")).to.deep.equal({ verb: "fail", reply: "Friendly message", outcome: "user_error" });
    const internal = (await run("!fail"))!;
    expect(internal.outcome).to.equal("error");
    expect(internal.reply).not.to.contain("internal detail");
    expect(String(errors.at(-1))).to.contain("boom");
  });
});

/** A service of which no method may be called: a refused input must not reach it. */
function untouched<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => () => {
      throw new Error(`${name}.${String(prop)} was called`);
    },
  });
}

const OBJECT_WORDS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
const LONG = "x".repeat(20_000);

describe("declared sub-commands", function () {
  const ctx = { sender: "@a:x", roomId: "!r:x", sentAt: new Date(), encrypted: true };
  const never = async () => "ran";
  const calendar = () => new CommandTable("oncall", "On-call bot.", calendarCommands(untouched<CalendarFeeds>("feeds"), "https://x.org").commands);

  it("refuses, when the table is built, a precondition it could not check", function () {
    const set = (sub: object) => [{ verb: "x", subcommands: { title: "X", privateHint: "Use the room.", commands: [{ name: "y", summary: "y", run: never, ...sub }] } }];
    expect(() => new CommandTable("t", "T.", set({ inRoom: true }))).to.throw("!x y is in-room but the set says no room lookup");
    expect(() => new CommandTable("t", "T.", [{ verb: "x", subcommands: { title: "X", commands: [{ name: "y", summary: "y", encrypted: { what: "done it" }, run: never }] } }])).to.throw(
      "!x y is encrypted-only but the set gives no privateHint",
    );
  });

  it("answers a malformed sub-command of a set without an unknown-hint with the generated usage", async function () {
    const r = (await calendar().dispatch("!calendar please", ctx, (e) => expect.fail(String(e))))!;
    expect(r).to.deep.equal({
      verb: "calendar",
      outcome: "user_error",
      reply: "Usage:\n!calendar — a private link to subscribe to\n!calendar new — a new link; the old one stops working\n!calendar stop — turn your link off",
    });
  });

  it("lists the sub-commands in the help line and the set's usage under it", async function () {
    const help = calendar().help();
    expect(help).to.contain("!calendar [help | new | stop] — Your on-call shifts in any calendar app:\n  !calendar — a private link to subscribe to\n  !calendar new");
  });
});

describe("hostile command input, for every bot", function () {
  const ctx = { sender: "@a:x.org", roomId: "!r:x.org", sentAt: new Date("2026-05-12T15:00:00Z"), eventId: "$cmd", encrypted: true };
  const dispatch = (table: CommandTable, body: string) =>
    table.dispatch(body, { ...ctx, body }, (e) => {
      throw e;
    });

  const tables = () => {
    const consult = consultCommands(untouched<ConsultService>("consults"), untouched<RoomWriter>("rooms"), { dashboardWidgetUrl: "https://x.org/w" });
    const feeds = untouched<CalendarFeeds>("feeds");
    return {
      consult: CommandTable.forBot(CONSULT_BOT, consult.commands),
      oncall: CommandTable.forBot(ONCALL_BOT, calendarCommands(feeds, "https://x.org").commands),
    };
  };

  it("answers a command named like a property of Object as unknown, on every bot", async function () {
    for (const [bot, table] of Object.entries(tables())) {
      for (const word of OBJECT_WORDS) {
        const r = (await dispatch(table, `!${word}`))!;
        expect(r, `${bot} !${word}`).to.deep.equal({ verb: "unknown", reply: `I don't know the command "!${word.toLowerCase()}". Send !help to see what I can do.`, outcome: "user_error" });
      }
    }
  });

  it("answers !consult <word of Object's> as an unknown sub-command with the help hint, touching nothing", async function () {
    const { consult } = tables();
    for (const word of OBJECT_WORDS) {
      const r = (await dispatch(consult, `!consult ${word}`))!;
      expect(r.outcome, word).to.equal("user_error");
      expect(r.reply, word).to.equal(
        `I don't know "!consult ${word}". The consult commands are: accept, decline, start, complete, cancel, rate, list. To request a consult: !consult <service> [emergent|urgent|routine] <Patient/…|Encounter/…> <question>. Send !help to see how to use them.`,
      );
    }
  });

  it("quotes at most a short, cleaned prefix of what was typed", async function () {
    const { consult, oncall } = tables();
    const cases: [CommandTable, string][] = [
      [consult, `!${LONG}`],
      [consult, `!consult ${LONG}`],
      [consult, `!consult cardiology\u202e\u0007${LONG} question`],
      [oncall, `!${LONG}`],
    ];
    for (const [table, body] of cases) {
      const r = (await dispatch(table, body))!;
      expect(r.outcome).to.equal("user_error");
      expect(r.reply.length, r.reply.slice(0, 80)).to.be.below(500);
      expect(r.reply).to.match(/x…/);
      expect(r.reply).not.to.match(/[\u0000-\u001f\u202e]/);
    }
  });

  it("answers a service's refusal that a command let through, instead of throwing it for a retry", async function () {
    const consults = { forUser: async () => Promise.reject(new ConsultError("forbidden", "You cannot list consults here.")) } as unknown as ConsultService;
    const table = CommandTable.forBot(CONSULT_BOT, consultCommands(consults, untouched<RoomWriter>("rooms"), { dashboardWidgetUrl: "https://x.org/w" }).commands);
    expect(await dispatch(table, "!consult list")).to.deep.equal({ verb: "consult", reply: "You cannot list consults here.", outcome: "user_error" });
  });
});

describe("a command that fails unexpectedly", function () {
  const ctx = { sender: "@a:x", roomId: "!r:x", sentAt: new Date(), eventId: "$same" };

  it("is retried without an answer when it must not be lost, so the retry gives the only answer", async function () {
    let attempts = 0;
    const table = new CommandTable("test", "Intro.", [
      {
        verb: "page",
        usage: "!page",
        summary: "Page",
        retryOnError: true,
        run: async () => {
          if (++attempts === 1) throw new Error("database went away");
          return "Paged.";
        },
      },
    ]);
    const errors: unknown[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        const r = await table.dispatch("!page", ctx, (e) => errors.push(e));
        if (r) answers.push(r.reply);
      } catch {
        // the inbox retries the event
      }
    }
    expect(answers).to.deep.equal(["Paged."]);
  });

  it("is answered once with an apology otherwise, and not thrown for a retry", async function () {
    const table = new CommandTable("test", "Intro.", [{ verb: "list", usage: "!list", summary: "List", run: async () => Promise.reject(new Error("boom")) }]);
    const errors: unknown[] = [];
    const r = await table.dispatch("!list", ctx, (e) => errors.push(e));
    expect(r!.outcome).to.equal("error");
    expect(errors).to.have.length(1);
  });
});
