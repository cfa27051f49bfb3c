import type { ContactService } from "../appservice/paging/contactService.js";
import { PageError, PageService } from "../appservice/paging/pageService.js";
import { quote } from "../appservice/shared/quote.js";
import { URGENCIES, type Urgency } from "../appservice/shared/events/index.js";
import { ACK_REACTIONS, CommandError, requireEncrypted, type BotCommands, type Command, type CommandContext, type ReactionHandler } from "./commands.js";


function pageNumber(arg: string | undefined, usage: string): number | undefined {
  if (arg === undefined) return undefined;
  const n = Number(arg.replace(/^#/, ""));
  if (!Number.isInteger(n) || n <= 0) throw new CommandError("bad page number", `"${quote(arg)}" is not a page number. Usage: ${usage}`);
  return n;
}

function delayText(seconds: number | null): string {
  if (seconds === null) return "never";
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** A word within two edits of an urgency name (a typo), but not the name itself. */
function looksLikeUrgency(word: string): boolean {
  const w = word.toLowerCase();
  if (w.length < 4) return false;
  return URGENCIES.some((u) => editDistance(w, u) <= 2);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Parses "90", "90s", "5m", "off" into seconds or null. */
function parseDelay(word: string): number | null | undefined {
  if (/^(off|never|none)$/i.test(word)) return null;
  const m = word.match(/^(\d{1,5})(s|m|min)?$/i);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] && m[2].toLowerCase().startsWith("m") ? n * 60 : n;
}

// Each usage line once: in the command's declaration (for !help) and in its refusals.
const PAGE_USAGE = "!page <service> [emergent|urgent|routine] [note]";
const BROADCAST_USAGE = "!broadcast <service> [note]";
const ACK_USAGE = "!ack [page number]";
const RESOLVE_USAGE = "!resolve [page number]";
const SMS_ARGS = `<${URGENCIES.join("|")}> <seconds, e.g. 90 or 5m, or off>`;

/** The paging commands and the ✅ reaction: thin translations onto PageService. */
export function pagingCommands(pages: PageService, contacts: ContactService): BotCommands {
  const raise = async (ctx: CommandContext, args: string[], broadcast: boolean): Promise<string> => {
    const usage = broadcast ? BROADCAST_USAGE : PAGE_USAGE;
    const [service, ...rest] = args;
    if (!service) throw new CommandError("missing service", `Usage: ${usage}, for example ${broadcast ? "!broadcast icu rapid response to bay 4" : "!page cardiology urgent chest pain bed 12"}.`);
    let urgency: Urgency = broadcast ? "emergent" : "urgent";
    const maybe = PageService.parseUrgency(rest[0]);
    if (!broadcast && maybe) {
      urgency = maybe;
      rest.shift();
    } else if (!broadcast && rest[0] && looksLikeUrgency(rest[0])) {
      // "emergnet" must not quietly become an urgent page with a 5-minute escalation.
      throw new CommandError("misspelt urgency", `"${quote(rest[0])}" looks like an urgency but is not one. Use emergent, urgent or routine, e.g. !page ${quote(service)} emergent ${quote(rest.slice(1).join(" "))}`.trim());
    }
    // A page without a note carries no clinical text, so it may be sent from any room.
    if (rest.length > 0 && ctx.encrypted === false) {
      requireEncrypted(ctx, "paged", `Page from an encrypted room or a direct message with me, or without a note (!${broadcast ? "broadcast" : "page"} ${quote(service)}${broadcast ? "" : ` ${urgency}`}).`);
    }
    const result = await pages.trigger({
        requester: ctx.sender,
        serviceQuery: service,
        urgency,
        note: rest.join(" "),
        originRoomId: ctx.roomId,
        originEventId: ctx.eventId ?? null,
        broadcast,
      });
    const { page } = result;
    const escalation = result.delaySeconds === null ? "" : ` If nobody acknowledges within ${delayText(result.delaySeconds)}, I escalate to the next level.`;
    return `${broadcast ? "Broadcast" : "Paged"} ${result.serviceName} (${urgency}): ${result.targets.join(", ")}. Page #${page.number} is open in an encrypted room with you and them.${escalation}`;
  };

  const commands: Command[] = [
    {
      verb: "page",
      usage: PAGE_USAGE,
      summary: "Page whoever is on call for a service (urgent if not given); the note stays encrypted",
      run: (ctx, args) => raise(ctx, args, false),
      retryOnError: true,
    },
    {
      verb: "broadcast",
      usage: BROADCAST_USAGE,
      summary: "Emergency: page everyone on every level of a service at once",
      run: (ctx, args) => raise(ctx, args, true),
      retryOnError: true,
    },
    {
      verb: "ack",
      usage: ACK_USAGE,
      summary: "Acknowledge a page (the open page in this room if no number); or react ✅ to it",
      retryOnError: true,
      async run(ctx, args) {
        const number = pageNumber(args[0], ACK_USAGE);
        await pages.acknowledge({ by: ctx.sender, via: "command", number, roomId: ctx.roomId, at: ctx.sentAt, requestId: ctx.eventId });
        return `Acknowledged. The requester has been told.`;
      },
    },
    {
      verb: "resolve",
      usage: RESOLVE_USAGE,
      summary: "Close a page once it is dealt with",
      retryOnError: true,
      async run(ctx, args) {
        const number = pageNumber(args[0], RESOLVE_USAGE);
        const page = await pages.resolve({ by: ctx.sender, number, roomId: ctx.roomId, requestId: ctx.eventId });
        return `Page #${page.number} is resolved.`;
      },
    },
    {
      verb: "notify",
      subcommands: {
        title: "Your SMS fallback: when to text you after an unacknowledged page, per urgency",
        bare: { summary: "your rules and whether a phone is on file", run: (ctx) => rulesOf(ctx.sender) },
        commands: [
          {
            name: "sms",
            args: SMS_ARGS,
            summary: "when to text you for pages of that urgency",
            async run(ctx, [a, b]) {
              const urgency = PageService.parseUrgency(a);
              const delay = b === undefined ? undefined : parseDelay(b);
              if (!urgency || delay === undefined) {
                throw new CommandError("bad notify", `Usage: !notify sms ${SMS_ARGS}.`);
              }
              await contacts.update(ctx.sender, { smsAfter: { [urgency]: delay } });
              return rulesOf(ctx.sender);
            },
          },
          {
            name: "phone",
            args: "<+number>|remove",
            summary: "the mobile number texts go to, or none",
            async run(ctx, [a]) {
              if (a === "remove") {
                await contacts.update(ctx.sender, { phone: null });
                return "Your phone number is removed; you will get no SMS.";
              }
              if (!a || !/^\+[1-9]\d{6,14}$/.test(a)) throw new CommandError("bad phone", "Give your mobile number in international format, e.g. !notify phone +447700900123.");
              await contacts.update(ctx.sender, { phone: a });
              return "Your phone number is saved. Rounds keeps it in its database only; SMS never carry patient details.";
            },
          },
        ],
      },
    },
  ];

  async function rulesOf(userId: string): Promise<string> {
    const c = await contacts.get(userId);
    const rules = URGENCIES.map((u) => `${u}: ${c.smsAfter[u] === null ? "no SMS" : `SMS after ${delayText(c.smsAfter[u])}`}`).join(", ");
    return `Your notification rules: ${rules}. Phone: ${c.phone ? "on file" : "none (set one with !notify phone +<number>)"}.`;
  }

  const reactionHandler: ReactionHandler = async (ctx, targetEventId, key) => {
    if (!ACK_REACTIONS.includes(key)) return null;
    try {
      await pages.acknowledge({ by: ctx.sender, via: "reaction", messageEventId: targetEventId, at: ctx.sentAt, requestId: ctx.eventId });
      return null; // the acknowledgement itself is posted in the page room
    } catch (err) {
      // ✅ on a message that is not a page is ordinary conversation.
      if (err instanceof PageError && err.reason === "not_a_page") return null;
      throw err;
    }
  };
  return { commands, reactionHandler };
}
