import { quote } from "../appservice/shared/quote.js";
import { CommandError, type CommandContext } from "./commands.js";

export type SubCommand = (ctx: CommandContext, args: string[]) => Promise<string>;

/**
 * A command's sub-commands (`!handoff readback`, `!consult accept`), by name. A Map, not a plain
 * object: a word such as "constructor" or "__proto__" is an unknown sub-command, not Object's.
 */
export class SubCommands {
  private readonly byName: ReadonlyMap<string, SubCommand>;

  constructor(
    private readonly command: string,
    entries: Record<string, SubCommand>,
    /** Where the user reads how to use them, e.g. "Send !handoff help to see how to use them." */
    private readonly helpHint: string,
  ) {
    this.byName = new Map(Object.entries(entries));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(word: string): SubCommand | undefined {
    return this.byName.get(word.toLowerCase());
  }

  /** The plain-language refusal for a word that is not one of them, with the names and the help hint. */
  unknown(word: string): CommandError {
    return new CommandError(
      `unknown ${this.command} sub-command`,
      `I don't know "!${this.command} ${quote(word)}". The ${this.command} commands are: ${this.names.join(", ")}. ${this.helpHint}`,
    );
  }
}
