import type { ConsultService } from "../appservice/consult/consultService.js";
import type { RoomWriter } from "../appservice/ports/roomWriter.js";
import { BillingInputSchema, CONSULT_COMPLEXITIES, CONSULT_SETTINGS, CONSULT_TYPES, type BillingInput, type ConsultView } from "../appservice/shared/consultWidgetApi.js";
import { quote } from "../appservice/shared/quote.js";
import {
  CONSULT_OUTCOMES,
  ConsultEventType,
  ConsultReportContentSchema,
  ConsultRequestContentSchema,
  FHIR_CONTEXT_REFERENCE,
  URGENCIES,
  type ConsultOutcome,
  type Urgency,
} from "../appservice/shared/events/index.js";
import {
  CommandError,
  requireEncrypted,
  type BotCommands,
  type Command,
  type CommandContext,
  type EventHandler,
  type ReactionHandler,
  type SubCommand,
} from "./commands.js";

const PRIVATE_HINT = "Use an encrypted room, or your Consults room (send !consult).";

const ACCEPT_KEYS = ["✅", "✅️", "✔️", "☑️"];

/** Whether words follow the optional consult number: a reason, which is clinical text. */
const hasTextAfterNumber = (args: string[]): boolean => (/^#?\d{1,9}$/.test(args[0] ?? "") ? args.length > 1 : args.length > 0);

/** "30m", "4h", "2d" → minutes; undefined when the word is not a duration. */
function parseDuration(word: string | undefined): number | undefined {
  const m = word?.match(/^(\d{1,4})(m|min|h|d)$/i);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return unit === "h" ? n * 60 : unit === "d" ? n * 1440 : n;
}

function summary(c: ConsultView): string {
  const who = c.consultant ?? c.candidates.at(-1) ?? "nobody yet";
  return `#${c.number} ${c.service} (${c.urgency}) — ${c.status.replace("_", " ")}, ${c.consultant ? "consultant" : "asked"}: ${who}`;
}

/** Parses the "Findings: …" sections of a `!consult complete` message. */
function reportSections(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current: string | null = null;
  for (const line of body.split("\n").slice(1)) {
    const m = line.match(/^\s*(findings|assessment|recommendations|follow-?up|billing)\s*:\s*(.*)$/i);
    if (m) {
      current = m[1]!.toLowerCase().replace("-", "");
      out[current] = m[2]!.trim();
    } else if (current) out[current] = `${out[current]}\n${line}`.trim();
  }
  return out;
}

function parseBilling(text: string | undefined): BillingInput {
  const usage = `Billing: <${CONSULT_TYPES.join("|")}> <${CONSULT_SETTINGS.join("|")}> <${CONSULT_COMPLEXITIES.join("|")}> <minutes>`;
  const [consult_type, setting, complexity, minutes] = (text ?? "").split(/\s+/);
  const parsed = BillingInputSchema.safeParse({ consult_type, setting, complexity, minutes: Number(minutes) });
  if (!parsed.success) throw new CommandError("bad billing line", `The billing line is missing or wrong. Write it as ${usage}, e.g. "Billing: initial inpatient moderate 45".`);
  return parsed.data;
}

/**
 * The consult bot's commands, its ✅ reaction (accept) and the structured request event the
 * consult widget sends: thin translations onto ConsultService.
 */
export function consultCommands(
  consults: ConsultService,
  rooms: RoomWriter,
  opts: { dashboardWidgetUrl: string },
): BotCommands {
  /** The consult a command names: "12"/"#12", or the consult of the room it is sent in. */
  const target = async (ctx: CommandContext, args: string[]): Promise<ConsultView> => {
    const n = args[0]?.match(/^#?(\d{1,9})$/);
    if (n) {
      args.shift();
      return consults.byNumber(Number(n[1]));
    }
    const here = await consults.inRoom(ctx.roomId);
    if (!here) throw new CommandError("no consult named", "Which consult? Give its number (e.g. !consult accept 12), or send the command in the consult's room.");
    return here;
  };

  const openDashboard = async (ctx: CommandContext): Promise<string> => {
    const roomId = await rooms.openRoom(`consults:${ctx.sender}`, { name: "Consults", members: [ctx.sender], direct: true });
    await rooms.installWidget(roomId, { id: "rounds-consults", name: "Consults", url: opts.dashboardWidgetUrl, heightPercent: 60 });
    return `Your Consults room is ready: https://matrix.to/#/${roomId}. The Consults widget pinned there requests consults and lists yours.`;
  };

  const request = async (ctx: CommandContext, args: string[]): Promise<string> => {
    const [service, ...rest] = args;
    let urgency: Urgency = "urgent";
    if (rest[0] && (URGENCIES as readonly string[]).includes(rest[0].toLowerCase())) urgency = rest.shift()!.toLowerCase() as Urgency;
    const ref = rest.shift();
    if (!ref || !FHIR_CONTEXT_REFERENCE.test(ref)) {
      throw new CommandError("missing patient reference", `Say whom the consult is about with a FHIR reference, e.g. !consult ${quote(service ?? "")} ${urgency} Encounter/123 <question>.`);
    }
    requireEncrypted(ctx, "sent the consult request", PRIVATE_HINT);
    const parsed = ConsultRequestContentSchema.safeParse({ service, urgency, patient_ref: ref, question: rest.join(" ") });
    if (!parsed.success) throw new CommandError("bad consult request", `I have not sent the consult: ${parsed.error.issues[0]!.message}.`);
    const c = await consults.request({ requester: ctx.sender, content: parsed.data, source: { roomId: ctx.roomId, eventId: ctx.eventId ?? "" } });
    return `Consult #${c.number} sent to ${c.candidates.at(-1)} (${c.service}, ${c.urgency}). It is discussed in https://matrix.to/#/${c.room_id}.`;
  };

  const subcommands: SubCommand[] = [
    {
      name: "accept",
      args: "[n] [30m|4h|2d]",
      summary: "accept, with your expected response time",
      async run(ctx, args) {
        const c = await target(ctx, args);
        const minutes = parseDuration(args[0]);
        if (args[0] && minutes === undefined) throw new CommandError("bad duration", `"${quote(args[0])}" is not a response time. Use minutes, hours or days, e.g. 30m, 4h or 2d.`);
        const done = await consults.accept(c.id, ctx.sender, { expectedMinutes: minutes, via: "command" });
        return `You accepted consult #${done.number}. Expected response by ${new Date(done.respond_by_ts!).toISOString().slice(0, 16).replace("T", " ")} UTC.`;
      },
    },
    {
      name: "decline",
      args: "[n] <reason>",
      summary: "decline; the consult goes to the next specialist",
      // Without words there is no reason to protect, and the refusal asks for one.
      encrypted: { what: "declined", when: hasTextAfterNumber },
      async run(ctx, args) {
        const c = await target(ctx, args);
        if (args.length === 0) throw new CommandError("missing reason", "Say why you decline, e.g. !consult decline 12 not a cardiology question, try respiratory.");
        await consults.decline(c.id, ctx.sender, args.join(" "), ctx.eventId);
        return `You declined consult #${c.number}.`;
      },
    },
    {
      name: "start",
      args: "[n]",
      summary: "you are working on it (optional: complete starts it too)",
      async run(ctx, args) {
        const c = await consults.start((await target(ctx, args)).id, ctx.sender, ctx.eventId);
        return `Consult #${c.number} is in progress.`;
      },
    },
    {
      name: "complete",
      args: "[n], then on new lines Findings:, Assessment:, Recommendations:, Follow-up: and Billing: <type> <setting> <complexity> <minutes>",
      summary: "post the report",
      encrypted: { what: "completed the consult" },
      async run(ctx, args) {
        const c = await target(ctx, args);
        const s = reportSections(ctx.body ?? "");
        const report = ConsultReportContentSchema.safeParse({ consult_id: c.id, findings: s.findings, assessment: s.assessment, recommendations: s.recommendations, follow_up: s.followup ?? "" });
        if (!report.success) {
          throw new CommandError("incomplete report", `The report is incomplete: ${report.error.issues[0]!.message}. Write !consult complete ${c.number}, then on new lines Findings:, Assessment:, Recommendations:, Follow-up: and Billing:.`);
        }
        const billing = parseBilling(s.billing);
        const done = await consults.complete(c.id, ctx.sender, { report: report.data, billing }, ctx.eventId);
        return `Consult #${done.number} is complete; the report is posted in its room.`;
      },
    },
    {
      name: "cancel",
      args: "[n] [reason]",
      summary: "withdraw your request",
      encrypted: { what: "cancelled", when: hasTextAfterNumber },
      async run(ctx, args) {
        const c = await target(ctx, args);
        await consults.cancel(c.id, ctx.sender, args.join(" ") || undefined, ctx.eventId);
        return `Consult #${c.number} is cancelled.`;
      },
    },
    {
      name: "rate",
      args: "[n] <1-5> <outcome>",
      summary: "rate a completed consult",
      async run(ctx, args) {
        // "rate 5 advice_followed" in the consult room, "rate 12 5 advice_followed" anywhere.
        const c = args.length >= 3 ? await target(ctx, args) : await target(ctx, []);
        const rating = Number(args[0]);
        const outcome = args[1]?.toLowerCase();
        if (!Number.isInteger(rating) || rating < 1 || rating > 5 || !(CONSULT_OUTCOMES as readonly string[]).includes(outcome ?? "")) {
          throw new CommandError("bad rating", `Rate from 1 to 5 and name the outcome (${CONSULT_OUTCOMES.join(", ")}), e.g. !consult rate ${c.number} 5 advice_followed.`);
        }
        await consults.feedback(c.id, ctx.sender, { rating, outcome: outcome as ConsultOutcome });
        return `Thank you: consult #${c.number} rated ${rating}/5.`;
      },
    },
    {
      name: "list",
      summary: "your consults",
      async run(ctx) {
        const mine = await consults.forUser(ctx.sender);
        const lines = [
          ...(mine.incoming.length ? ["Incoming:", ...mine.incoming.map(summary)] : []),
          ...(mine.outgoing.length ? ["Requested by you:", ...mine.outgoing.map(summary)] : []),
        ];
        return lines.length ? lines.join("\n") : "You have no open consults.";
      },
    },
  ];

  const consult: Command = {
    verb: "consult",
    // A request must not be lost to a passing failure: the inbox retries the whole event.
    retryOnError: true,
    subcommands: {
      title: "Request and answer specialist consults",
      bare: { summary: "open your Consults room, with the consult widget pinned", run: openDashboard },
      // One word that is no sub-command is no request either: there is no patient to consult on.
      otherwise: { args: "<service> [emergent|urgent|routine] <Patient/…|Encounter/…> <question>", summary: "request a consult", when: (args) => args.length >= 2, run: request },
      privateHint: PRIVATE_HINT,
      unknownHint: `To request a consult: !consult <service> [${URGENCIES.join("|")}] <Patient/…|Encounter/…> <question>. Send !help to see how to use them.`,
      commands: subcommands,
    },
  };

  const onReaction: ReactionHandler = async (ctx, targetEventId, key) => {
    if (!ACCEPT_KEYS.includes(key)) return null;
    const c = await consults.byRequestMessage(targetEventId);
    if (!c) return null;
    const done = await consults.accept(c.id, ctx.sender, { via: "reaction" });
    return `${ctx.sender} accepted consult #${done.number}.`;
  };

  // The widget's structured request: the same path as its API call, so a closed widget loses nothing.
  const onRequestEvent: EventHandler = {
    type: ConsultEventType.Request,
    async handle(ctx, content) {
      if (content.consult_id !== undefined) return null; // our own relay into a consult room
      requireEncrypted(ctx, "sent the consult request", PRIVATE_HINT);
      const parsed = ConsultRequestContentSchema.safeParse(content);
      if (!parsed.success) throw new CommandError("bad consult request event", `I could not read that consult request: ${parsed.error.issues[0]!.message}.`);
      const c = await consults.request({ requester: ctx.sender, content: parsed.data, source: { roomId: ctx.roomId, eventId: ctx.eventId ?? "" } });
      return `Consult #${c.number} sent to ${c.candidates.at(-1)} (${c.service}, ${c.urgency}). It is discussed in https://matrix.to/#/${c.room_id}.`;
    },
  };

  return { commands: [consult], reactionHandler: onReaction, eventHandlers: [onRequestEvent] };
}
