import { expect } from "chai";
import type { CliCommand, WorkflowDeclaration } from "../../appservice/workflow.js";
import { cliCommands, WORKFLOWS } from "../../appservice/workflows.js";

/** A declaration with only CLI commands: all that cliCommands reads. */
const withCli = (commands: CliCommand[]) => ({ cli: async () => commands }) as unknown as WorkflowDeclaration;
const command = (words: string[], options: CliCommand["options"]): CliCommand => ({ words, usage: words.join(" "), options, run: async () => undefined });

describe("the workflows' CLI commands", function () {
  it("come from the registry, each with its words and usage", async function () {
    const commands = await cliCommands(WORKFLOWS, ["password", "help"]);
    expect(commands.map((c) => c.words.join(" "))).to.include.members(["contact set", "pages", "consults metrics", "handoffs unit set", "handoffs audit"]);
    for (const c of commands) expect(c.usage.startsWith(c.words.join(" ")), c.words.join(" ")).to.equal(true);
  });

  it("refuses one option name with two meanings, or one the core CLI already has", async function () {
    const twoTypes = [withCli([command(["a"], { since: { type: "string" } })]), withCli([command(["b"], { since: { type: "boolean" } })])];
    await cliCommands(twoTypes).then(
      () => expect.fail("accepted"),
      (err: Error) => expect(err.message).to.equal("CLI option --since is declared as both string and boolean"),
    );
    await cliCommands([withCli([command(["a"], { force: { type: "boolean" } })])], ["force"]).then(
      () => expect.fail("accepted"),
      (err: Error) => expect(err.message).to.equal("CLI command 'a' declares --force, which the core CLI already has"),
    );
    expect(await cliCommands(twoTypes.slice(0, 1).concat(withCli([command(["b"], { since: { type: "string" } })])))).to.have.length(2);
  });
});
