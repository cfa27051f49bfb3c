import { EMAIL_ADDRESS, type AlertEmail } from "../appservice/alert/alertEmail.js";
import { AlertError, type AlertService } from "../appservice/alert/alertService.js";
import { RECEIPT_EVENT_ID_PREFIX, RECEIPT_EVENT_TYPE } from "../appservice/shared/events/index.js";
import { quote } from "../appservice/shared/quote.js";
import { ACK_REACTIONS, CommandError, requireEncrypted, type BotCommands, type EventHandler, type ReactionHandler } from "./commands.js";

const ACK_USAGE = "!ack <alert number>, e.g. !ack 12";
const SNOOZE_USAGE = "!snooze <alert number> <minutes>, e.g. !snooze 12 15";
const FP_USAGE = "!falsepositive <alert number> <why>, e.g. !falsepositive 12 haemolysed sample";
const LIMIT_USAGE = "!limit <alert number> <critical|urgent|informational> [below <n>] [above <n>] … | !limit <alert number> scale 2 (NEWS2) | !limit <alert number> off, e.g. !limit 12 urgent above 6.0";
const BANDS = ["critical", "urgent", "informational"] as const;

/** "urgent above 6.0 critical above 6.8" → { urgent: { above: 6 }, critical: { above: 6.8 } }; the service checks the rest. */
function parseLimits(words: string[]): Record<string, Record<string, number>> | { scale: number } {
  if (words[0]?.toLowerCase() === "scale") {
    if (words.length !== 2 || !/^\d$/.test(words[1]!)) throw new CommandError("bad scale", `Give the SpO2 scale as 1 or 2, e.g. !limit 12 scale 2. Usage: ${LIMIT_USAGE}`);
    return { scale: Number(words[1]) };
  }
  const out: Record<string, Record<string, number>> = {};
  let band: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.toLowerCase();
    if ((BANDS as readonly string[]).includes(w)) {
      band = w;
      out[band] ??= {};
    } else if ((w === "below" || w === "above") && band) {
      const raw = words[i + 1];
      const n = raw === undefined ? Number.NaN : Number(raw);
      if (!Number.isFinite(n) || !/^-?\d+(\.\d+)?$/.test(raw!)) throw new CommandError("bad limit", `"${quote(raw ?? "")}" is not a number. Usage: ${LIMIT_USAGE}`);
      out[band]![w] = n;
      i++;
    } else {
      throw new CommandError("bad limit", `I did not understand "${quote(words[i]!)}". Usage: ${LIMIT_USAGE}`);
    }
  }
  return out;
}

const limitsText = (l: Record<string, { below?: number; above?: number } | undefined> | { scale: number }): string =>
  "scale" in l ? `SpO2 scale ${String(l.scale)}` : bandsText(l);
const bandsText = (l: Record<string, { below?: number; above?: number } | undefined>) =>
  BANDS.filter((b) => l[b])
    .map((b) => `${b} ${[l[b]!.below !== undefined ? `below ${l[b]!.below}` : "", l[b]!.above !== undefined ? `above ${l[b]!.above}` : ""].filter(Boolean).join(" and ")}`)
    .join("; ");

function alertNumber(raw: string | undefined, usage: string): number {
  const n = raw === undefined ? Number.NaN : Number(raw.replace(/^#/, ""));
  if (!Number.isSafeInteger(n) || n <= 0) throw new CommandError("bad alert number", raw === undefined ? `Which alert? Usage: ${usage}` : `"${quote(raw)}" is not an alert number. Usage: ${usage}`);
  return n;
}

/** The alerts bot's commands and the ✅ reaction: thin translations onto AlertService. */
export function alertCommands(alerts: AlertService, email: Pick<AlertEmail, "setAddress" | "addressOf"> | null = null, defaultZone: () => Promise<string> = async () => "UTC"): BotCommands {
  const reactionHandler: ReactionHandler = async (ctx, targetEventId, key) => {
    if (!ACK_REACTIONS.includes(key)) return null;
    try {
      const { alert, already } = await alerts.acknowledge({ by: ctx.sender, eventId: targetEventId, at: ctx.sentAt });
      return already ? null : `Alert #${alert.number} acknowledged by ${ctx.sender}.`;
    } catch (err) {
      // ✅ on a message that is not an alert is ordinary conversation.
      if (err instanceof AlertError && err.reason === "not_found") return null;
      throw err;
    }
  };
  // A read receipt in an alerts room is the trail's "read" step; it is never answered.
  const onReceipt: EventHandler = {
    type: RECEIPT_EVENT_TYPE,
    async handle(ctx, content) {
      const eventId = content.event_id;
      if (ctx.eventId?.startsWith(RECEIPT_EVENT_ID_PREFIX) && typeof eventId === "string") await alerts.read({ by: ctx.sender, roomId: ctx.roomId, at: ctx.sentAt, eventId });
      return null;
    },
  };
  return {
    reactionHandler,
    eventHandlers: [onReceipt],
    commands: [
      {
        verb: "ack",
        usage: ACK_USAGE,
        summary: "Acknowledge an alert; or react ✅ to it",
        retryOnError: true,
        async run(ctx, args) {
          const n = alertNumber(args[0], ACK_USAGE);
          const { alert, already } = await alerts.acknowledge({ by: ctx.sender, number: n, at: ctx.sentAt });
          return already ? `You had already acknowledged alert #${alert.number}.` : `Alert #${alert.number} acknowledged.`;
        },
      },
      {
        verb: "snooze",
        usage: SNOOZE_USAGE,
        summary: "Put off an urgent or informational alert for a while (never a critical one)",
        async run(ctx, args) {
          const n = alertNumber(args[0], SNOOZE_USAGE);
          const minutes = Number(args[1]);
          if (args[1] === undefined || !/^\d+$/.test(args[1])) throw new CommandError("bad minutes", `For how many minutes? Usage: ${SNOOZE_USAGE}`);
          const alert = await alerts.snooze({ by: ctx.sender, number: n, minutes, at: ctx.sentAt });
          return `Alert #${alert.number} snoozed for ${minutes} min; I will remind you then.`;
        },
      },
      {
        verb: "falsepositive",
        usage: FP_USAGE,
        summary: "Mark an alert a false positive, with why (kept in this encrypted message)",
        async run(ctx, args) {
          const n = alertNumber(args[0], FP_USAGE);
          const why = args.slice(1).join(" ").trim();
          if (why.length < 3) throw new CommandError("no reason", `Say why alert #${n} was a false positive, so the rule can be improved. Usage: ${FP_USAGE}`);
          requireEncrypted(ctx, "recorded the false positive", "Send it in your encrypted alerts room.");
          const alert = await alerts.markFalsePositive({ by: ctx.sender, number: n, reasonEventId: ctx.eventId ?? null, at: ctx.sentAt });
          return `Alert #${alert.number} marked a false positive and closed. Your reason stays in this encrypted message; the rule's report counts it.`;
        },
      },
      {
        verb: "limit",
        usage: LIMIT_USAGE,
        summary: "Set this patient's own limits for the alert's test (their usual values stop alerting); off to go back to the rule's",
        async run(ctx, args) {
          const n = alertNumber(args[0], LIMIT_USAGE);
          const rest = args.slice(1);
          if (!rest.length) {
            const now = await alerts.patientLimitsOf(ctx.sender, n);
            return now.limits ? `This patient's own ${now.ruleId} limits: ${limitsText(now.limits)}${now.units ? ` ${now.units}` : ""}. Send !limit ${n} off to go back to the rule's.` : `This patient has no own ${now.ruleId} limits; the rule's apply.`;
          }
          if (rest.length === 1 && rest[0]!.toLowerCase() === "off") {
            const r = await alerts.setPatientLimits({ by: ctx.sender, number: n, limits: null, at: ctx.sentAt });
            return `This patient's own ${r.ruleId} limits are cleared: the rule's apply again.`;
          }
          const r = await alerts.setPatientLimits({ by: ctx.sender, number: n, limits: parseLimits(rest), at: ctx.sentAt });
          if ("scale" in r.limits!) return `From now on, this patient's ${r.ruleId} score reads SpO2 on scale ${r.limits.scale}. Send !limit ${n} off to undo.`;
          return `From now on, this patient's ${r.ruleId} results alert ${limitsText(r.limits!)}; the rule's other limits still apply. Send !limit ${n} off to undo.`;
        },
      },
      {
        verb: "email",
        usage: "!email <your address> | !email off",
        summary: "Also tell you by email (no patient details) of critical and urgent alerts",
        async run(ctx, args) {
          if (!email) return "Email notices are not set up on this Rounds server; ask IT to set ROUNDS_ALERT_SMTP_URL.";
          const [arg] = args;
          if (arg === undefined) {
            const now = await email.addressOf(ctx.sender);
            return now ? `Critical and urgent alerts are also emailed to ${now}. Send !email off to stop.` : "You get no alert emails. Send !email <your address> to get them.";
          }
          if (arg.toLowerCase() === "off") {
            await email.setAddress(ctx.sender, null);
            return "No more alert emails.";
          }
          if (!EMAIL_ADDRESS.test(arg)) throw new CommandError("bad email", `"${quote(arg)}" is not an email address. Usage: !email you@hospital.example`);
          await email.setAddress(ctx.sender, arg);
          return `Critical and urgent alerts will also be emailed to ${arg}: only that a result is waiting and its number, never patient details.`;
        },
      },
      {
        verb: "quiet",
        usage: "!quiet <HH:MM>-<HH:MM> [time zone] | !quiet off",
        summary: "Your quiet hours: informational alerts wait until they end (critical and urgent ones never do)",
        async run(ctx, args) {
          const [range, zoneArg] = args;
          if (range === undefined) {
            const q = await alerts.quietHoursOf(ctx.sender);
            return q ? `Your quiet hours: ${q.from}–${q.to} (${q.zone}). Informational alerts wait until they end.` : "You have no quiet hours. Set them with !quiet 22:00-07:00";
          }
          if (range.toLowerCase() === "off") {
            await alerts.setQuietHours(ctx.sender, null);
            return "Quiet hours off: informational alerts come in your regular digest.";
          }
          const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(range);
          if (!m) throw new CommandError("bad quiet hours", `"${quote(range)}" is not a time range. Usage: !quiet 22:00-07:00 [Europe/London]`);
          const zone = zoneArg ?? (await defaultZone());
          // The times and the zone are checked by the service, for the widget too.
          await alerts.setQuietHours(ctx.sender, { from: m[1]!, to: m[2]!, zone });
          return `Quiet hours ${m[1]}–${m[2]} (${zone}): informational alerts wait until they end. Critical and urgent alerts still come at once.`;
        },
      },
      {
        verb: "alerts",
        usage: "!alerts",
        summary: "Your open alerts, newest last, and your alerts room with the Alerts widget",
        async run(ctx) {
          const open = await alerts.openFor(ctx.sender);
          const roomId = await alerts.alertsRoom(ctx.sender, true);
          const room = `Your alerts room, with the Alerts widget: https://matrix.to/#/${roomId}`;
          if (!open.length) return `You have no open alerts. ${room}`;
          return ["Your open alerts:", ...open.map((a) => `#${a.number} ${a.priority} (${a.ruleId}), ${a.status}${a.repeats ? `, repeated ${a.repeats}×` : ""}`), room].join("\n");
        },
      },
    ],
  };
}
