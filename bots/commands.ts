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

/**
 * One sub-command (`!handoff readback`, `!consult decline`, `!swap accept`), declared with its
 * arguments and preconditions so the table checks them once and generates the usage lines.
 */
export interface SubCommand<R = never> {
  name: string;
  /** What follows the name in the usage line, e.g. "<n> <summary in your own words>". */
  args?: string;
  summary: string;
  /** Only in this workflow's room: the table looks the room's record up and refuses elsewhere. */
  inRoom?: boolean;
  /**
   * Carries clinical text, so it is refused unless it arrived end-to-end encrypted. `what`
   * completes "I have not …"; `when` limits the check to some arguments (an optional reason).
   */
  encrypted?: { what: string; when?: (args: string[]) => boolean };
  /** An example shown under the usage line, for sub-commands with many arguments. */
  example?: string;
  run(ctx: CommandContext, args: string[], room: R): Promise<string>;
}

/** A command made of sub-commands, with what it does when none is named. */
export interface SubCommandSet<R = never> {
  /** The heading of the usage, e.g. "Shift handoffs (SBAR or I-PASS)". */
  title: string;
  /** With no words after the verb, e.g. open the clinician's dashboard room. */
  bare?: { summary: string; run(ctx: CommandContext): Promise<string> };
  /** Words that name no sub-command, e.g. a consult request; `when` says whether they are one. */
  otherwise?: { args: string; summary: string; when(args: string[]): boolean; run(ctx: CommandContext, args: string[]): Promise<string> };
  /** How the table finds the record of the room an `inRoom` sub-command is sent in. */
  room?: { name: string; lookup(ctx: CommandContext): Promise<R | null>; refusal: string };
  /** Where clinical text belongs instead, after "…so clinical text here is not private." */
  privateHint?: string;
  /**
   * An unknown sub-command is refused with the list of names and this last sentence; without it,
   * with the whole usage (for commands whose sub-commands are all there is, like !swap).
   */
  unknownHint?: string;
  commands: SubCommand<R>[];
}

export interface Command {
  verb: string;
  /** Generated for a command with sub-commands. */
  usage?: string;
  summary?: string;
  /** A command without sub-commands. */
  run?(ctx: CommandContext, args: string[]): Promise<string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each set's room record is its own type
  subcommands?: SubCommandSet<any>;
  /**
   * An unexpected failure is thrown back to the inbox, which retries the whole event, instead of
   * being answered with an apology: for commands that must not be lost, like a page.
   */
  retryOnError?: boolean;
}

/** What every bot's command factory returns: its commands and the handlers beside them. */
export interface BotCommands {
  commands: Command[];
  reactionHandler?: ReactionHandler;
  eventHandlers?: EventHandler[];
}

/** Reactions that acknowledge what they react to (a page, an alert), as clients send ✅ and its look-alikes. */
export const ACK_REACTIONS: readonly string[] = ["✅", "✅️", "✔️", "☑️"];

/** The one refusal of clinical text that did not arrive end-to-end encrypted. */
export function requireEncrypted(ctx: CommandContext, what: string, privateHint: string): void {
  if (!ctx.encrypted) {
    throw new CommandError("clinical text in an unencrypted room", `I have not ${what}: this room is not end-to-end encrypted, so clinical text here is not private. ${privateHint}`);
  }
}

/** One sub-command's usage line, with its example under it. */
export function subCommandLine(verb: string, sub: SubCommand<unknown>): string {
  return `!${verb} ${sub.name}${sub.args ? ` ${sub.args}` : ""} — ${sub.summary}${sub.example ? `\n  e.g. ${sub.example}` : ""}`;
}

/** The usage lines of a sub-command set, grouped by where they may be sent. */
export function subCommandUsage(verb: string, set: SubCommandSet<unknown>): string[] {
  const line = (sub: SubCommand<unknown>) => subCommandLine(verb, sub);
  const lines: string[] = [];
  if (set.bare) lines.push(`!${verb} — ${set.bare.summary}`);
  if (set.otherwise) lines.push(`!${verb} ${set.otherwise.args} — ${set.otherwise.summary}`);
  // Those before the first in-room one (e.g. !handoff start), the in-room ones, then the rest.
  const firstInRoom = set.commands.findIndex((c) => c.inRoom);
  const before = firstInRoom === -1 ? set.commands : set.commands.slice(0, firstInRoom);
  const inRoom = set.commands.filter((c) => c.inRoom);
  const after = set.commands.filter((c) => !c.inRoom && !before.includes(c));
  lines.push(...before.map(line));
  if (inRoom.length && set.room) lines.push(`In ${set.room.name}:`, ...inRoom.map(line));
  if (after.length) lines.push(...(inRoom.length ? ["Anywhere:"] : []), ...after.map(line));
  return lines;
}

/** Runs a command's sub-command after checking its preconditions, once, for every bot. */
async function runSubCommand(verb: string, set: SubCommandSet<unknown>, ctx: CommandContext, args: string[]): Promise<string> {
  const [first, ...rest] = args;
  if (first === undefined) {
    if (set.bare) return set.bare.run(ctx);
    throw unknownSubCommand(verb, set, "");
  }
  const word = first.toLowerCase();
  if (word === "help") return `${set.title}:\n${subCommandUsage(verb, set).join("\n")}`;
  // A linear search, not an object lookup: "constructor" or "__proto__" is no sub-command.
  const sub = set.commands.find((c) => c.name === word);
  if (!sub) {
    if (set.otherwise?.when(args)) return set.otherwise.run(ctx, args);
    throw unknownSubCommand(verb, set, first);
  }
  let room: unknown;
  if (sub.inRoom && set.room) {
    room = await set.room.lookup(ctx);
    if (room === null) throw new CommandError(`not ${set.room.name}`, set.room.refusal);
  }
  if (sub.encrypted && (sub.encrypted.when?.(rest) ?? true)) requireEncrypted(ctx, sub.encrypted.what, set.privateHint!);
  return sub.run(ctx, rest, room);
}

/** "Usage:" and the usage lines: the answer to a malformed sub-command of such a set. */
export function usageText(verb: string, set: SubCommandSet<unknown>): string {
  return `Usage:\n${subCommandUsage(verb, set).join("\n")}`;
}

function unknownSubCommand(verb: string, set: SubCommandSet<unknown>, word: string): CommandError {
  if (set.unknownHint === undefined) return new CommandError(`unknown ${verb} sub-command`, usageText(verb, set));
  return new CommandError(
    `unknown ${verb} sub-command`,
    `I don't know "!${verb} ${quote(word)}". The ${verb} commands are: ${set.commands.map((c) => c.name).join(", ")}. ${set.unknownHint}`,
  );
}

export interface CommandResult {
  verb: string;
  reply: string;
  outcome: "ok" | "user_error" | "error";
}

export class CommandTable {
  /** A bot's table: its name and the intro its !help opens with, and its commands. */
  static forBot(bot: { name: string; intro: string }, commands: Command[]): CommandTable {
    return new CommandTable(bot.name, bot.intro, commands);
  }

  private readonly commands = new Map<string, Command>();
  reactionHandler: ReactionHandler | null = null;
  readonly eventHandlers = new Map<string, EventHandler>();

  constructor(
    readonly botName: string,
    readonly intro: string,
    commands: Command[],
  ) {
    for (const c of commands) {
      if (!c.run && !c.subcommands) throw new Error(`Command !${c.verb} declares neither run nor sub-commands`);
      for (const sub of c.subcommands?.commands ?? []) {
        // A declaration that could not be checked would let the command run unchecked.
        if (sub.inRoom && !c.subcommands!.room) throw new Error(`!${c.verb} ${sub.name} is in-room but the set says no room lookup`);
        if (sub.encrypted && !c.subcommands!.privateHint) throw new Error(`!${c.verb} ${sub.name} is encrypted-only but the set gives no privateHint`);
      }
      this.commands.set(c.verb, c);
    }
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
    const lines = [...this.commands.values()].map((c) => `${this.usage(c)} — ${this.summary(c)}`);
    return `${this.intro}\n\nCommands:\n${lines.join("\n")}`;
  }

  private usage(c: Command): string {
    if (c.usage || !c.subcommands) return c.usage ?? `!${c.verb}`;
    return `!${c.verb} [${["help", ...c.subcommands.commands.map((s) => s.name)].join(" | ")}${c.subcommands.otherwise ? ` | ${c.subcommands.otherwise.args.split(" ")[0]} …` : ""}]`;
  }

  private summary(c: Command): string {
    if (!c.subcommands) return c.summary ?? "";
    return `${c.subcommands.title}:\n  ${subCommandUsage(c.verb, c.subcommands).join("\n  ")}`;
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
      const reply = command.subcommands ? await runSubCommand(verb, command.subcommands, ctx, args) : await command.run!(ctx, args);
      return { verb, reply, outcome: "ok" };
    } catch (err) {
      const refusal = this.refusal(err);
      if (refusal) return { verb, reply: refusal.humanError, outcome: "user_error" };
      if (command.retryOnError) throw err;
      onError(err);
      return { verb, reply: `Sorry, something went wrong running !${verb}. Please try again; if it keeps failing, tell the Rounds administrators.`, outcome: "error" };
    }
  }
}
