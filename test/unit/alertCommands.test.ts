import { expect } from "chai";
import { AlertError, type AlertService } from "../../appservice/alert/alertService.js";
import type { Alert } from "../../appservice/alert/alertStore.js";
import { RECEIPT_EVENT_ID_PREFIX, RECEIPT_EVENT_TYPE } from "../../appservice/shared/events/index.js";
import { alertCommands } from "../../bots/alertCommands.js";
import { ALERTS_BOT } from "../../bots/alertsBot.js";
import { CommandTable, type CommandContext } from "../../bots/commands.js";

const LENA = "@lena:x.org";
const ROOM = "!alerts:x.org";
const SENT_AT = new Date("2026-12-03T10:00:00Z");

const alert = (over: Partial<Alert> = {}) => ({ number: 12, id: "01JALERT", ruleId: "potassium", priority: "urgent", status: "open", repeats: 0, ...over }) as Alert;

/** The alerts bot's commands over a recording AlertService: what each command asks of the service, and what it answers. */
describe("alerts bot commands", function () {
  let calls: Array<[string, unknown]>;
  let quiet: { from: string; to: string; zone: string } | null;
  let email: string | null;
  const service = {
    acknowledge: async (req: unknown) => (calls.push(["acknowledge", req]), { alert: alert(), already: false }),
    snooze: async (req: { minutes: number }) => {
      calls.push(["snooze", req]);
      if (req.minutes > 60) throw new AlertError("invalid_input", "Snooze for 1 to 60 minutes, e.g. !snooze 12 15.");
      return alert();
    },
    markFalsePositive: async (req: unknown) => (calls.push(["falsePositive", req]), alert()),
    setQuietHours: async (_u: string, q: typeof quiet) => {
      calls.push(["quiet", q]);
      if (q && q.zone === "Mars/Olympus") throw new AlertError("invalid_input", '"Mars/Olympus" is not a time zone. Use a name such as Europe/London.');
      quiet = q;
    },
    quietHoursOf: async () => quiet,
    openFor: async () => [alert(), alert({ number: 13, priority: "informational", repeats: 2 })],
    alertsRoom: async (_u: string, ensure: boolean) => (calls.push(["room", ensure]), ROOM),
    read: async (req: unknown) => (calls.push(["read", req]), 1),
    setPatientLimits: async (req: { limits: unknown }) => {
      calls.push(["limits", req]);
      if (req.limits && JSON.stringify(req.limits).includes("99")) throw new AlertError("invalid_input", "Those limits do not fit Potassium's other bands: the 'above' limits must widen from informational to urgent to critical.");
      return { ruleId: "potassium", limits: req.limits };
    },
    patientLimitsOf: async () => ({ ruleId: "potassium", units: "mmol/L", limits: { urgent: { below: 3, above: 6 } } }),
  } as unknown as AlertService;
  const emailStore = { setAddress: async (_u: string, a: string | null) => void (email = a), addressOf: async () => email };
  const built = alertCommands(service, emailStore, async () => "Europe/London");
  const table = CommandTable.forBot(ALERTS_BOT, built.commands);
  let seq = 0;
  const run = async (body: string, over: Partial<CommandContext> = {}) => {
    const ctx: CommandContext = { sender: LENA, roomId: ROOM, sentAt: SENT_AT, eventId: `$cmd${++seq}`, encrypted: true, ...over };
    return (await table.dispatch(body, { ...ctx, body }, () => undefined))!.reply;
  };
  beforeEach(() => {
    calls = [];
    quiet = null;
    email = null;
  });

  it("acknowledges by number, and says how when the number is missing or not a number", async function () {
    expect(await run("!ack #12")).to.equal("Alert #12 acknowledged.");
    expect(calls).to.deep.equal([["acknowledge", { by: LENA, number: 12, at: SENT_AT }]]);
    expect(await run("!ack")).to.equal("Which alert? Usage: !ack <alert number>, e.g. !ack 12");
    expect(await run("!ack twelve")).to.equal('"twelve" is not an alert number. Usage: !ack <alert number>, e.g. !ack 12');
    expect(calls).to.have.length(1);
  });

  it("snoozes for whole minutes, and passes on the service's limit as its reply", async function () {
    expect(await run("!snooze 12 15")).to.equal("Alert #12 snoozed for 15 min; I will remind you then.");
    expect(await run("!snooze 12 soon")).to.equal("For how many minutes? Usage: !snooze <alert number> <minutes>, e.g. !snooze 12 15");
    expect(await run("!snooze 12 600")).to.equal("Snooze for 1 to 60 minutes, e.g. !snooze 12 15.");
  });

  it("takes a false positive only with a reason and only encrypted, keeping the message's id as the reason", async function () {
    expect(await run("!falsepositive 12")).to.match(/^Say why alert #12 was a false positive/);
    expect(await run("!falsepositive 12 haemolysed sample", { encrypted: false })).to.match(/this room is not end-to-end encrypted/);
    expect(calls).to.deep.equal([]);
    expect(await run("!falsepositive 12 haemolysed sample", { eventId: "$why" })).to.match(/^Alert #12 marked a false positive/);
    expect(calls).to.deep.equal([["falsePositive", { by: LENA, number: 12, reasonEventId: "$why", at: SENT_AT }]]);
  });

  it("sets quiet hours in the default zone or a named one, shows and clears them, and passes on a refused zone", async function () {
    expect(await run("!quiet")).to.equal("You have no quiet hours. Set them with !quiet 22:00-07:00");
    expect(await run("!quiet 22:00-07:00")).to.match(/^Quiet hours 22:00–07:00 \(Europe\/London\)/);
    expect(await run("!quiet 23:00-06:30 America/New_York")).to.match(/^Quiet hours 23:00–06:30 \(America\/New_York\)/);
    expect(await run("!quiet")).to.equal("Your quiet hours: 23:00–06:30 (America/New_York). Informational alerts wait until they end.");
    expect(await run("!quiet 22:00-07:00 Mars/Olympus")).to.equal('"Mars/Olympus" is not a time zone. Use a name such as Europe/London.');
    expect(await run("!quiet late")).to.equal('"late" is not a time range. Usage: !quiet 22:00-07:00 [Europe/London]');
    expect(await run("!quiet off")).to.equal("Quiet hours off: informational alerts come in your regular digest.");
    expect(quiet).to.equal(null);
  });

  it("lists open alerts with the link to the alerts room, pinning the widget there", async function () {
    expect((await run("!alerts")).split("\n")).to.deep.equal([
      "Your open alerts:",
      "#12 urgent (potassium), open",
      "#13 informational (potassium), open, repeated 2×",
      `Your alerts room, with the Alerts widget: https://matrix.to/#/${ROOM}`,
    ]);
    expect(calls).to.deep.equal([["room", true]]);
  });

  it("sets a patient's own limits from one of their alerts, shows and clears them, and names what it did not understand", async function () {
    expect(await run("!limit 12 urgent above 6.0 informational above 5.9")).to.equal(
      "From now on, this patient's potassium results alert urgent above 6; informational above 5.9; the rule's other limits still apply. Send !limit 12 off to undo.",
    );
    expect(calls).to.deep.equal([["limits", { by: LENA, number: 12, limits: { urgent: { above: 6 }, informational: { above: 5.9 } }, at: SENT_AT }]]);
    expect(await run("!limit 12")).to.equal("This patient's own potassium limits: urgent below 3 and above 6 mmol/L. Send !limit 12 off to go back to the rule's.");
    expect(await run("!limit 12 off")).to.equal("This patient's own potassium limits are cleared: the rule's apply again.");
    calls = [];
    expect(await run("!limit 12 urgent above six")).to.match(/^"six" is not a number\. Usage: !limit/);
    expect(await run("!limit 12 above 6")).to.match(/^I did not understand "above"\. Usage: !limit/);
    expect(await run("!limit 12 severe above 6")).to.match(/^I did not understand "severe"/);
    expect(calls).to.deep.equal([]);
    expect(await run("!limit 12 urgent above 99")).to.match(/^Those limits do not fit Potassium's other bands/);
    calls = [];
    expect(await run("!limit 12 scale 2")).to.equal("From now on, this patient's potassium score reads SpO2 on scale 2. Send !limit 12 off to undo.");
    expect(calls).to.deep.equal([["limits", { by: LENA, number: 12, limits: { scale: 2 }, at: SENT_AT }]]);
    expect(await run("!limit 12 scale two")).to.match(/^Give the SpO2 scale as 1 or 2/);
  });

  it("keeps an email address only when it is one, and stops on off", async function () {
    expect(await run("!email not-an-address")).to.equal('"not-an-address" is not an email address. Usage: !email you@hospital.example');
    expect(email).to.equal(null);
    expect(await run("!email lena@hospital.example")).to.match(/also be emailed to lena@hospital.example: only that a result is waiting/);
    expect(await run("!email off")).to.equal("No more alert emails.");
    expect(email).to.equal(null);
  });

  it("takes a read receipt only from the inbox's own receipt events, never from a look-alike a client sent", async function () {
    const [onReceipt] = built.eventHandlers!;
    expect(onReceipt!.type).to.equal(RECEIPT_EVENT_TYPE);
    const ctx = (eventId: string): CommandContext => ({ sender: LENA, roomId: ROOM, sentAt: SENT_AT, eventId });
    expect(await onReceipt!.handle(ctx("$forged-by-a-client"), { event_id: "$msg" })).to.equal(null);
    expect(await onReceipt!.handle(ctx(`${RECEIPT_EVENT_ID_PREFIX}abc`), { event_id: 42 })).to.equal(null);
    expect(calls).to.deep.equal([]);
    expect(await onReceipt!.handle(ctx(`${RECEIPT_EVENT_ID_PREFIX}abc`), { event_id: "$msg" })).to.equal(null);
    expect(calls).to.deep.equal([["read", { by: LENA, roomId: ROOM, at: SENT_AT, eventId: "$msg" }]]);
  });
});
