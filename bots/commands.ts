import { DomainError } from "../appservice/shared/domainError.js";
import { quote } from "../appservice/shared/quote.js";

/**
 * A bot's command table. Commands are `!<verb> args...`; the help text is generated from the
 * table. A CommandError carries a plain-language message for the user and a technical one for
 * the log.
 */
export class CommandError extends Error {
  constructor(
    readonly logMessage: string,
    readonly humanError: string,
  ) {
    super(logMessage);
    this.name = "CommandError";
  }
}

export interface CommandContext {
  sender: string;
  roomId: string;
  /** When the command was sent; "now" for time-based questions. */
  sentAt: Date;
  /** The command's event id: a retried command is recognised by it. */
  eventId?: string;
  /** Whether the command arrived end-to-end encrypted; clinical text is refused otherwise. */
  encrypted?: boolean;
  /** The whole message, line breaks kept, for commands with multi-line input. */
  body?: string;
}

/** A reaction on a message (e.g. ✅ on a page); returns a reply to post, or null for none. */
export type ReactionHandler = (ctx: CommandContext, targetEventId: string, key: string) => Promise<string | null>;

/** A decrypted custom event a bot acts on (e.g. a widget's structured request); returns a reply or null. */
export interface EventHandler {
  type: string;
  handle(ctx: CommandContext, content: Record<string, unknown>): Promise<string | null>;
}

export interface Command {
  verb: string;
  usage: string;
  summary: string;
  run(ctx: CommandContext, args: string[]): Promise<string>;
  /**
   * An unexpected failure is thrown back to the inbox, which retries the whole event, instead of
   * being answered with an apology: for commands that must not be lost, like a page.
   */
  retryOnError?: boolean;
}

export interface CommandResult {
  verb: string;
  reply: string;
  outcome: "ok" | "user_error" | "error";
}

export class CommandTable {
  private readonly commands = new Map<string, Command>();
  reactionHandler: ReactionHandler | null = null;
  readonly eventHandlers = new Map<string, EventHandler>();

  constructor(
    readonly botName: string,
    readonly intro: string,
    commands: Command[],
  ) {
    for (const c of commands) this.commands.set(c.verb, c);
    this.commands.set("help", {
      verb: "help",
      usage: "!help",
      summary: "Show this help",
      run: async () => this.help(),
    });
  }

  /** Runs the reaction handler; a CommandError becomes a plain-language reply. */
  async reaction(ctx: CommandContext, targetEventId: string, key: string, onError: (err: unknown) => void): Promise<CommandResult | null> {
    if (!this.reactionHandler) return null;
    try {
      const reply = await this.reactionHandler(ctx, targetEventId, key);
      return reply === null ? null : { verb: "reaction", reply, outcome: "ok" };
    } catch (err) {
      const refusal = this.refusal(err);
      if (refusal) return { verb: "reaction", reply: refusal.humanError, outcome: "user_error" };
      // An acknowledgement must not be lost: the inbox retries the reaction.
      onError(err);
      throw err;
    }
  }

  /** Runs the handler for a custom event type; null when there is none. Unexpected failures are retried by the inbox. */
  async event(ctx: CommandContext, type: string, content: Record<string, unknown>, onError: (err: unknown) => void): Promise<CommandResult | null> {
    const handler = this.eventHandlers.get(type);
    if (!handler) return null;
    try {
      const reply = await handler.handle(ctx, content);
      return reply === null ? null : { verb: type, reply, outcome: "ok" };
    } catch (err) {
      const refusal = this.refusal(err);
      if (refusal) return { verb: type, reply: refusal.humanError, outcome: "user_error" };
      onError(err);
      throw err;
    }
  }

  /**
   * A domain service's refusal as a plain-language reply, null for a real failure: the one place
   * a bot translates errors. A refusal is answered, never retried: a retry would be refused again.
   */
  private refusal(err: unknown): CommandError | null {
    if (err instanceof CommandError) return err;
    if (err instanceof DomainError) return new CommandError(`${err.name}: ${err.reason}`, err.humanMessage);
    return null;
  }

  help(): string {
    const lines = [...this.commands.values()].map((c) => `${c.usage} — ${c.summary}`);
    return `${this.intro}\n\nCommands:\n${lines.join("\n")}`;
  }

  /** Returns null for text that is not a command, so ordinary conversation is left alone. */
  async dispatch(body: string, ctx: CommandContext, onError: (err: unknown) => void): Promise<CommandResult | null> {
    const text = body.trim();
    if (!text.startsWith("!")) return null;
    const [rawVerb = "", ...args] = text.slice(1).split(/\s+/).filter(Boolean);
    const verb = rawVerb.toLowerCase();
    const command = this.commands.get(verb);
    if (!command) {
      return { verb: "unknown", reply: `I don't know the command "!${quote(verb)}". Send !help to see what I can do.`, outcome: "user_error" };
    }
    try {
      return { verb, reply: await command.run(ctx, args), outcome: "ok" };
    } catch (err) {
      const refusal = this.refusal(err);
      if (refusal) return { verb, reply: refusal.humanError, outcome: "user_error" };
      if (command.retryOnError) throw err;
      onError(err);
      return { verb, reply: `Sorry, something went wrong running !${verb}. Please try again; if it keeps failing, tell the Rounds administrators.`, outcome: "error" };
    }
  }
}
