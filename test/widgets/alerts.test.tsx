import { expect } from "chai";
import type { AlertResponse, AlertRulesResponse, AlertView, MyAlertsResponse, QuietHoursResponse } from "../../appservice/shared/alertApiTerms.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import type { AlertApi } from "../../widgets/lib/alertApi.js";
import { RoomFeed } from "../../widgets/lib/roomFeed.js";
import { AlertsApp } from "../../widgets/alerts/AlertsApp.js";
import { QuietHoursForm } from "../../widgets/alerts/QuietHoursForm.js";
import { RulesView } from "../../widgets/alerts/RulesView.js";
import { button, click, field, fill, mount, queryButton, settle, text, useDom } from "./dom.js";
import { NOW, pinClockToNow } from "./fixtures.js";

const ROOM = "!alerts:rounds.test";
const LENA = "@lena:rounds.test";
const BODY = "🟠 URGENT alert #12: Potassium 5.8 mmol/L, above the urgent limit 5.5\nPatient: MRN40417 (GENHOSP), unit 4WEST";

function alertView(over: Partial<AlertView> = {}): AlertView {
  return {
    number: 12,
    id: "01JALERT12",
    rule_id: "potassium",
    priority: "urgent",
    status: "open",
    repeats: 0,
    corrections: 0,
    first_ts: NOW - 120_000,
    last_ts: NOW - 120_000,
    snoozed_until_ts: null,
    acknowledged_by: null,
    acknowledged_ts: null,
    false_positive: false,
    page_number: null,
    via_page: false,
    room_id: ROOM,
    message_event_id: "$msg12",
    read_ts: null,
    ...over,
  };
}

function fakeAlertApi(impl: Partial<AlertApi> = {}) {
  const calls: Array<{ name: keyof AlertApi; args: unknown[] }> = [];
  const answer = (a: AlertView): AlertResponse => ({ alert: a, trail: [] });
  const base: AlertApi = {
    mine: async () => ({ alerts: [alertView()], max_snooze_minutes: 60, coordinator: false }),
    alert: async () => ({ alert: alertView(), trail: [] }),
    ack: async () => answer(alertView({ status: "acknowledged" })),
    snooze: async () => answer(alertView()),
    falsePositive: async () => answer(alertView({ false_positive: true })),
    quietHours: async () => ({ quiet: null, default_zone: "Europe/London" }),
    setQuietHours: async (q) => ({ quiet: q, default_zone: "Europe/London" }),
    rules: async () => RULES,
  };
  const api = Object.fromEntries(
    (Object.keys(base) as Array<keyof AlertApi>).map((name) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        return ((impl[name] ?? base[name]) as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as AlertApi;
  return { api, callsTo: (name: keyof AlertApi) => calls.filter((c) => c.name === name).map((c) => c.args) };
}

const RULES: AlertRulesResponse = {
  version: 3,
  rules: [{ id: "potassium", kind: "lab", name: "Potassium", fires: "LOINC 2823-3: critical below 2.8 or above 6.2 mmol/L" }],
  since: new Date(NOW - 30 * 86_400_000).toISOString(),
  report: [
    {
      rule: "potassium",
      fired: 10,
      acknowledged: 9,
      ackSecondsP50: 95,
      ackSecondsP90: 400,
      paged: 2,
      falsePositives: 4,
      falsePositiveRate: 0.4,
      autoCleared: 1,
      suggestion: { text: "Consider raising the urgent limit above 5.5 to 5.9 mmol/L.", evidence: "4 of 10 alerts were false positives, all at 5.6–5.8" },
    },
  ],
};

function feedWithMessage(): RoomFeed {
  const feed = new RoomFeed(ROOM);
  feed.addEvents([{ type: "m.room.message", event_id: "$msg12", room_id: ROOM, sender: "@rounds_alerts:rounds.test", origin_server_ts: NOW - 120_000, content: { msgtype: "m.text", body: BODY }, unsigned: {} }]);
  return feed;
}

describe("alerts widget", function () {
  pinClockToNow();
  useDom("https://rounds.example/_rounds/widgets/alerts/index.html");

  async function show(impl: Partial<AlertApi> = {}, sendText: (body: string) => Promise<string> = async () => "$reason") {
    const fake = fakeAlertApi(impl);
    const sent: string[] = [];
    const root = await mount(<AlertsApp api={fake.api} feed={feedWithMessage()} viewer={LENA} sendText={async (b) => (sent.push(b), sendText(b))} />);
    await settle();
    return { ...fake, root, sent };
  }
  const card = (root: HTMLElement, n: number) => root.querySelector(`[aria-label="Alert ${n}"]`) as HTMLElement;

  it("shows each open alert with its message as Element decrypted it, and acknowledges it from this room", async function () {
    const { root, callsTo } = await show();
    expect(text(card(root, 12))).to.include("Potassium 5.8 mmol/L").and.to.include("Urgent").and.to.include("Open");
    await click(button(card(root, 12), "Acknowledge"));
    expect(callsTo("ack")).to.deep.equal([[12, ROOM]]);
    // The list reads again after the action.
    expect(callsTo("mine").length).to.be.greaterThan(1);
  });

  it("snoozes an urgent alert for a chosen time within the limit; a critical one offers no snooze and says why", async function () {
    const { root, callsTo } = await show({
      mine: async () => ({ alerts: [alertView(), alertView({ number: 13, id: "01JALERT13", priority: "critical", message_event_id: "$msg13" })], max_snooze_minutes: 30, coordinator: false }),
    });
    const options = [...field<HTMLSelectElement>(card(root, 12), "Snooze for").options].map((o) => o.value);
    expect(options).to.deep.equal(["5", "10", "15", "30"]);
    await fill(field<HTMLSelectElement>(card(root, 12), "Snooze for"), "30");
    await click(button(card(root, 12), "Snooze"));
    expect(callsTo("snooze")).to.deep.equal([[12, ROOM, 30]]);
    expect(queryButton(card(root, 13), "Snooze")).to.equal(null);
    expect(text(card(root, 13))).to.include("A critical alert cannot be snoozed");
    expect(text(card(root, 13))).to.include("Element has not loaded this alert's message yet");
  });

  it("sends a false positive's reason as an encrypted message first, then marks the alert with its event id; a short reason is refused", async function () {
    const { root, callsTo, sent } = await show();
    await click(button(card(root, 12), "False positive…"));
    await click(button(card(root, 12), "Mark false positive"));
    expect(text(card(root, 12))).to.include("Say why it was a false positive");
    expect(sent).to.deep.equal([]);
    await fill(field(card(root, 12), "Why was it a false positive?"), "haemolysed sample");
    await click(button(card(root, 12), "Mark false positive"));
    expect(sent).to.deep.equal(["False positive, alert #12: haemolysed sample"]);
    expect(callsTo("falsePositive")).to.deep.equal([[12, ROOM, "$reason"]]);
  });

  it("shows the server's refusal as given, and changes nothing", async function () {
    const { root } = await show({ ack: async () => Promise.reject(new ApiError(409, "M_UNKNOWN", "Alert #12 was already acknowledged by @liam:rounds.test.")) });
    await click(button(card(root, 12), "Acknowledge"));
    expect(text(card(root, 12))).to.include("Alert #12 was already acknowledged by @liam:rounds.test.").and.to.include("Open");
  });

  it("loads an alert's trail when opened: each step with its time and who", async function () {
    const { root, callsTo } = await show({
      alert: async () => ({
        alert: alertView(),
        trail: [
          { step: "received", ts: NOW - 120_000, actor: null, ref: "inbound:4" },
          { step: "routed", ts: NOW - 119_000, actor: LENA, ref: "on call: cardiology/primary" },
          { step: "delivered", ts: NOW - 118_000, actor: LENA, ref: "$msg12" },
          { step: "read", ts: NOW - 60_000, actor: LENA, ref: "$msg12" },
        ],
      }),
    });
    const details = card(root, 12).querySelector("details.trail") as HTMLDetailsElement;
    details.open = true;
    details.dispatchEvent(new Event("toggle"));
    await settle();
    expect(callsTo("alert")).to.deep.equal([[12, ROOM]]);
    const steps = [...details.querySelectorAll("li")].map((li) => text(li));
    expect(steps.map((s) => s.split(" ").slice(0, 2).join(" "))).to.deep.equal(["Received from", "Routed to", "Delivered to", "Read by"]);
    expect(steps[3]).to.include("(+1 min)");
  });

  it("links to the room an alert reached the viewer in elsewhere, and offers actions only where it did", async function () {
    const { root } = await show({ mine: async () => ({ alerts: [alertView({ room_id: "!page:rounds.test" })], max_snooze_minutes: 60, coordinator: false }) });
    expect(text(card(root, 12))).to.include("reached you in another room");
    expect(card(root, 12).querySelector("a")!.getAttribute("href")).to.equal("https://matrix.to/#/!page:rounds.test");
    expect(queryButton(card(root, 12), "Acknowledge")).to.equal(null);
  });

  it("acts from here on a critical alert that paged the viewer in its page's room, linking to it", async function () {
    const { root, callsTo } = await show({ mine: async () => ({ alerts: [alertView({ priority: "critical", room_id: "!page:rounds.test", via_page: true, page_number: 41 })], max_snooze_minutes: 60, coordinator: false }) });
    expect(text(card(root, 12))).to.include("paged you in").and.to.include("paged (#41)");
    await click(button(card(root, 12), "Acknowledge"));
    expect(callsTo("ack")).to.deep.equal([[12, ROOM]]);
  });

  it("shows the rules and analytics tab to coordinators only", async function () {
    const plain = await show();
    expect(queryButton(plain.root, "Rules and analytics")).to.equal(null);
    const coordinator = await show({ mine: async (): Promise<MyAlertsResponse> => ({ alerts: [], max_snooze_minutes: 60, coordinator: true }) });
    expect(text(coordinator.root)).to.include("No open alerts");
    await click(button(coordinator.root, "Rules and analytics"));
    await settle();
    expect(coordinator.callsTo("rules")).to.have.length(1);
  });
});

describe("alerts widget: quiet hours", function () {
  useDom("https://rounds.example/_rounds/widgets/alerts/index.html");

  it("refuses a malformed time and the same start and end without calling, then saves and turns them off", async function () {
    const { api, callsTo } = fakeAlertApi();
    const root = await mount(<QuietHoursForm api={api} />);
    await settle();
    expect(text(root)).to.include("You have no quiet hours.");
    expect(field(root, "Time zone").value).to.equal("Europe/London");
    await fill(field(root, "From"), "25:00");
    await click(button(root, "Save quiet hours"));
    expect(text(root)).to.include("Enter a time such as 22:00.");
    await fill(field(root, "From"), "07:00");
    await click(button(root, "Save quiet hours"));
    expect(text(root)).to.include("Quiet hours must end at another time than they start.");
    expect(callsTo("setQuietHours")).to.deep.equal([]);
    await fill(field(root, "From"), "22:30");
    await click(button(root, "Save quiet hours"));
    expect(callsTo("setQuietHours")).to.deep.equal([[{ from: "22:30", to: "07:00", zone: "Europe/London" }]]);
    expect(text(root)).to.include("Quiet hours saved: 22:30–07:00 (Europe/London).");
    await click(button(root, "Turn quiet hours off"));
    expect(callsTo("setQuietHours")[1]).to.deep.equal([null]);
    expect(text(root)).to.include("You have no quiet hours.");
  });

  it("shows the server's refusal of a time zone as given", async function () {
    const { api } = fakeAlertApi({ setQuietHours: async (): Promise<QuietHoursResponse> => Promise.reject(new ApiError(400, "M_BAD_JSON", '"Mars/Olympus" is not a time zone. Use a name such as Europe/London.')) });
    const root = await mount(<QuietHoursForm api={api} />);
    await settle();
    await fill(field(root, "Time zone"), "Mars/Olympus");
    await click(button(root, "Save quiet hours"));
    expect(text(root)).to.include('"Mars/Olympus" is not a time zone.');
  });
});

describe("alerts widget: rules and analytics", function () {
  pinClockToNow();
  useDom("https://rounds.example/_rounds/widgets/alerts/index.html");

  it("lists the rules in words and each one's effectiveness, with a suggestion called one and its evidence", async function () {
    const { api } = fakeAlertApi();
    const root = await mount(<RulesView api={api} />);
    await settle();
    expect(text(root)).to.include("Rules in force (version 3)").and.to.include("critical below 2.8 or above 6.2 mmol/L");
    const row = [...root.querySelectorAll('table[aria-label="Effectiveness"] tbody td')].map((td) => text(td as HTMLElement));
    expect(row).to.deep.equal(["Potassium", "10", "9", "2 min / 7 min", "2", "4 (40 %)", "1"]);
    const suggestion = root.querySelector('[aria-label="Suggestion for Potassium"]') as HTMLElement;
    expect(text(suggestion)).to.include("Consider raising the urgent limit").and.to.include("Evidence: 4 of 10 alerts were false positives").and.to.include("A suggestion for you to weigh");
  });
});
