import type { Logger } from "../appservice/logging.js";
import type { Metrics } from "../appservice/metrics.js";
import {
  BOT_PREFIX,
  MemberContentSchema,
  ReactionContentSchema,
  TextMessageContentSchema,
  type ClientEvent,
} from "../appservice/shared/events/index.js";
import type { BotClient } from "../appservice/matrix/botClient.js";
import type { CommandTable } from "./commands.js";

/**
 * A bot persona: its E2EE client plus its command table. It translates inbox events into commands
 * and replies; what a command means lives in the domain services the table calls.
 */
export class Bot {
  private readonly log: Logger;

  constructor(
    readonly client: BotClient,
    private readonly commands: CommandTable,
    /** partnerServers: other homeservers (e.g. a referring clinic's) whose users the bot serves. */
    private readonly deps: { serverName: string; partnerServers?: string[]; log: Logger; metrics: Metrics },
  ) {
    this.log = deps.log.child({ bot: commands.botName });
  }

  async handle(event: ClientEvent): Promise<void> {
    if (event.type === "m.room.member" && event.state_key === this.client.userId) return this.onOwnMembership(event);
    if (event.type !== "m.room.message" && event.type !== "m.room.encrypted" && event.type !== "m.reaction" && !this.commands.eventHandlers.has(event.type)) return;
    // Ignore ourselves and every other Rounds bot, so bots never talk to each other in a loop.
    if (event.sender === this.client.userId || event.sender.startsWith(BOT_PREFIX)) return;
    if (!this.client.isJoined(event.room_id)) {
      this.log.debug({ eventId: event.event_id, roomId: event.room_id }, "bot: not in this room; event ignored");
      return;
    }

    // In a room another Rounds bot made (a page room, for the alerts bot), that bot answers
    // commands and reactions: two bots answering "!ack 3" would act on two different things.
    const ownEvent = event.type !== "m.room.encrypted" && this.commands.eventHandlers.has(event.type);
    if (!ownEvent && (await this.client.createdByAnotherBot(event.room_id))) {
      this.log.debug({ eventId: event.event_id, roomId: event.room_id }, "bot: another bot's room; left to it");
      return;
    }

    const started = process.hrtime.bigint();
    const phase = this.deps.metrics.botPhase;
    let endPhase = phase.startTimer({ phase: "decrypt" });
    const { type, content } = await this.client.decrypt(event);
    endPhase();
    this.log.debug({ eventId: event.event_id, type }, "bot: decrypted");
    const ctx = { sender: event.sender, roomId: event.room_id, sentAt: new Date(event.origin_server_ts), eventId: event.event_id, encrypted: event.type === "m.room.encrypted" };
    const onError = (err: unknown) => this.log.error({ err, eventId: event.event_id }, "bot: command failed");
    let result;
    if (type === "m.reaction") {
      const reaction = ReactionContentSchema.safeParse(content);
      if (!reaction.success) return;
      const rel = reaction.data["m.relates_to"];
      endPhase = phase.startTimer({ phase: "command" });
      result = await this.commands.reaction(ctx, rel.event_id, rel.key, onError);
    } else if (type === "m.room.message") {
      const text = TextMessageContentSchema.safeParse(content);
      if (!text.success || text.data.msgtype !== "m.text") return;
      endPhase = phase.startTimer({ phase: "command" });
      result = await this.commands.dispatch(text.data.body, { ...ctx, body: text.data.body }, onError);
    } else {
      // A structured event from a widget, e.g. a consult request; ignored unless the table handles it.
      endPhase = phase.startTimer({ phase: "command" });
      result = await this.commands.event(ctx, type, content, onError);
    }
    endPhase();
    if (!result) return;
    this.log.debug({ eventId: event.event_id, command: result.verb }, "bot: sending reply");
    endPhase = phase.startTimer({ phase: "reply" });
    await this.client.replyNotice(event, result.reply);
    endPhase();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.metrics.commandDuration.observe({ bot: this.commands.botName, command: result.verb, outcome: result.outcome }, seconds);
    this.log.info({ eventId: event.event_id, roomId: event.room_id, command: result.verb, outcome: result.outcome }, "bot: answered command");
  }

  /** Accepts invites from clinicians on our own homeserver and on configured partner homeservers. */
  private async onOwnMembership(event: ClientEvent): Promise<void> {
    const member = MemberContentSchema.safeParse(event.content);
    if (!member.success) return;
    if (member.data.membership !== "invite") return this.client.noteMembership(event.room_id, member.data.membership);
    const senderServer = event.sender.slice(event.sender.indexOf(":") + 1);
    if (senderServer !== this.deps.serverName && !(this.deps.partnerServers ?? []).includes(senderServer)) {
      this.log.info({ roomId: event.room_id, senderServer }, "bot: ignored an invite from another homeserver");
      return;
    }
    if (this.client.isJoined(event.room_id)) return;
    await this.client.join(event.room_id);
    this.log.info({ roomId: event.room_id }, "bot: joined room on invite");
  }
}
