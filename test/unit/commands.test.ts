import { expect } from "chai";
import { CommandError, CommandTable } from "../../bots/commands.js";

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
