import { expect } from "chai";
import type { Frame, Locator } from "playwright-core";
import { AlertRoute } from "../../appservice/shared/alertApi.js";
import { AlertStateSchema, StateType, type AlertState } from "../../appservice/shared/events/index.js";
import { installedWidget, openWidget, type WidgetDefinition, type WidgetHandle } from "../harness/browser.js";
import { startAlertsScenario, type AlertsScenario } from "../harness/alertsScenario.js";
import type { TestClinician } from "../harness/clinician.js";
import { waitForWorkflowState, widgetSession } from "../harness/widgetCaller.js";

const STEP_MS = 90_000;
const msh = (type: string, control: string) => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||${type}|${control}|P|2.5.1`;
const pid = (mrn: string) => `PID|1||${mrn}^^^GENHOSP^MR||DOE^JANE`;
const admit = (mrn: string, control: string) => [msh("ADT^A01", control), "EVN|A01", pid(mrn), "PV1|1|I|4WEST^12^A||||D77^HOUSE^G"].join("\r");
const potassium = (mrn: string, control: string, value: string) =>
  [msh("ORU^R01", control), pid(mrn), `OBR|1|P-${control}|F-${control}|24323-8^Metabolic panel^LN|||20261203094500`, `OBX|1|NM|2823-3^Potassium^LN||${value}|mmol/L|3.5-5.1|H|||F`].join("\r");
const MRN_A = "MRN71001";
const MRN_B = "MRN71002";

/**
 * Clinical alerts through the Alerts widget in Chromium (real Synapse, real E2EE clients): the
 * lab's results over MLLP reach the on-call's alerts room, where the widget shows each alert's
 * decrypted message and trail and acknowledges, snoozes and marks a false positive; the
 * on-call sets quiet hours; the coordinator reads the rules and their analytics.
 */
describe("clinical alerts through the Alerts widget in Chromium (real Synapse, E2EE clients, MLLP)", function () {
  let s: AlertsScenario;
  let lena: TestClinician;
  let cora: TestClinician;
  const open: WidgetHandle[] = [];

  before(async function () {
    s = await startAlertsScenario({ emergent: 3, urgent: 600, routine: 600 });
    ({ lena, cora } = s.people);
    const acks = await s.mllp("admit", admit(MRN_A, "ADT-A"), admit(MRN_B, "ADT-B"));
    expect(acks.match(/MSA\|AA/g) ?? []).to.have.length(2);
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      s.rounds.dumpLogs(120);
      for (const h of open) console.log(`--- widget console (${h.url})\n${h.consoleMessages().slice(-40).join("\n")}\n--- its room\n${h.timelineReport()}`);
    }
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  after(async () => s?.stop());

  async function openIn(who: TestClinician, roomId: string, widget: WidgetDefinition): Promise<WidgetHandle> {
    const h = await openWidget({ clinician: who, roomId, widget, readyTimeoutMs: STEP_MS });
    open.push(h);
    return h;
  }
  const card = (f: Frame, n: number): Locator => f.getByRole("article", { name: `Alert ${n}`, exact: true });
  const stateOf = (roomId: string, n: number, match: (x: AlertState) => boolean, what: string) =>
    waitForWorkflowState(lena, roomId, StateType.Alert, AlertStateSchema, (x) => x.number === n && match(x), what, STEP_MS);

  it("shows the on-call each alert's decrypted message and trail, and acknowledges, snoozes and marks a false positive from the widget", async function () {
    expect(await s.mllp("results", potassium(MRN_A, "ORU-A", "5.8"), potassium(MRN_B, "ORU-B", "5.9"))).to.match(/MSA\|AA\|ORU-B/);
    const first = await lena.waitForMessage((b) => b.includes("URGENT alert #") && b.includes(MRN_A), { what: "the first alert", timeoutMs: STEP_MS });
    const second = await lena.waitForMessage((b) => b.includes("URGENT alert #") && b.includes(MRN_B), { what: "the second alert", timeoutMs: STEP_MS });
    expect(second.roomId).to.equal(first.roomId);
    const roomId = first.roomId;
    const [a, b] = [first, second].map((m) => Number(/alert #(\d+)/.exec(m.body)![1]));

    const widget = await openIn(lena, roomId, await installed(lena, roomId));
    const f = widget.frame;
    // The message as Element decrypted it: the value and the patient never came through the Rounds API.
    await card(f, a!).getByText("Potassium 5.8 mmol/L, above the urgent limit 5.5").waitFor({ timeout: STEP_MS });
    expect(await card(f, a!).textContent()).to.contain(MRN_A);
    await widget.checkAccessibility("two open alerts", "alerts");

    // Its trail so far: received, routed to Lena as cardiology's on-call, delivered.
    await card(f, a!).getByText("Trail").click();
    const trail = card(f, a!).getByRole("list", { name: `Trail of alert ${a}` });
    await trail.getByText("Delivered to").waitFor({ timeout: STEP_MS });
    expect((await trail.getByRole("listitem").allTextContents()).map((t) => t.split(" ")[0])).to.deep.equal(["Received", "Routed", "Delivered"]);

    await card(f, a!).getByRole("button", { name: "Acknowledge" }).click();
    const acked = await stateOf(roomId, a!, (x) => x.status === "acknowledged", "the acknowledged state");
    expect(acked.acknowledged_by).to.equal(lena.userId);
    await card(f, a!).locator("p", { hasText: "Acknowledged by" }).waitFor({ timeout: STEP_MS });
    await trail.getByText("Acknowledged by").waitFor({ timeout: STEP_MS });

    // The second is snoozed for 15 minutes: it stays open, its escalation waits.
    await card(f, b!).getByLabel("Snooze for").selectOption("15");
    await card(f, b!).getByRole("button", { name: "Snooze" }).click();
    await card(f, b!).getByText(/snoozed until/).waitFor({ timeout: STEP_MS });

    // Then, on review, a false positive: the reason goes as Lena's own encrypted message.
    await card(f, b!).getByRole("button", { name: "False positive…" }).click();
    await card(f, b!).getByRole("button", { name: "Mark false positive" }).click();
    await card(f, b!).getByText("Say why it was a false positive").waitFor();
    await card(f, b!).getByLabel("Why was it a false positive?").fill("haemolysed sample, repeat was 4.4");
    await card(f, b!).getByRole("button", { name: "Mark false positive" }).click();
    await card(f, b!).getByText("marked a false positive").waitFor({ timeout: STEP_MS });
    const reason = await lena.waitForMessage((body) => body === `False positive, alert #${b}: haemolysed sample, repeat was 4.4`, { what: "the reason", timeoutMs: STEP_MS });
    expect(reason.event.isEncrypted()).to.equal(true);
    await stateOf(roomId, b!, (x) => x.status !== "open", "the closed state of the false positive");

    // What the API gave the widget holds ids and times only.
    const mine = await (await widgetSession(s.rounds.url, lena)).call("GET", AlertRoute.mine);
    expect(mine.status).to.equal(200);
    expect(JSON.stringify(mine.json)).not.to.contain(MRN_A).and.not.to.contain(MRN_B).and.not.to.contain("5.8").and.not.to.contain("haemolysed");
  });

  it("keeps the on-call's quiet hours, refusing a zone that does not exist and naming it", async function () {
    const roomId = (await lena.waitForMessage((b) => b.includes("URGENT alert #"), { what: "an alert", timeoutMs: STEP_MS })).roomId;
    const f = (await openIn(lena, roomId, await installed(lena, roomId))).frame;
    await f.getByRole("tab", { name: "Quiet hours" }).click();
    const form = f.getByRole("form", { name: "Quiet hours" });
    await form.getByLabel("Time zone").fill("Mars/Olympus");
    await form.getByRole("button", { name: "Save quiet hours" }).click();
    await form.getByText('"Mars/Olympus" is not a time zone.').waitFor({ timeout: STEP_MS });
    await form.getByLabel("Time zone").fill("Europe/London");
    await form.getByRole("button", { name: "Save quiet hours" }).click();
    await form.getByText("Quiet hours saved: 22:00–07:00 (Europe/London).").waitFor({ timeout: STEP_MS });
    const quiet = await (await widgetSession(s.rounds.url, lena)).call("GET", AlertRoute.quietHours);
    expect(quiet.json).to.deep.include({ quiet: { from: "22:00", to: "07:00", zone: "Europe/London" } });
    // No rules tab for a clinician who coordinates nothing.
    expect(await f.getByRole("tab", { name: "Rules and analytics" }).count()).to.equal(0);
  });

  it("shows the coordinator the rules in words and each rule's figures, from her own alerts room", async function () {
    const bot = `@rounds_alerts:${s.hs.serverName}`;
    const dm = await cora.openEncryptedDm(bot);
    const cmd = await cora.send(dm, "!alerts");
    const reply = await cora.waitForNotice(dm, bot, { after: cmd, timeoutMs: STEP_MS });
    const roomId = /https:\/\/matrix\.to\/#\/(!\S+?)\.?(?:\s|$)/.exec(reply.body)?.[1];
    expect(roomId, reply.body).to.be.a("string");
    const widget = await openIn(cora, roomId!, await installed(cora, roomId!));
    const f = widget.frame;
    await f.getByRole("tab", { name: "Rules and analytics" }).click();
    const rules = f.getByRole("table", { name: "Rules" });
    await rules.getByText("critical below 2.8 or above 6.2 mmol/L", { exact: false }).waitFor({ timeout: STEP_MS });
    const row = f.getByRole("table", { name: "Effectiveness" }).getByRole("row").filter({ hasText: "Potassium" });
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells.slice(0, 3)).to.deep.equal(["Potassium", "2", "1"]);
    expect(cells[5]).to.equal("1 (50 %)");
    await widget.checkAccessibility("rules and analytics", "alerts-rules");
  });

  const installed = (who: TestClinician, roomId: string) => installedWidget(who, roomId, "rounds-alerts", STEP_MS);
});
