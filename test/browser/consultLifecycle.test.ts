import { expect } from "chai";
import type { Frame } from "playwright-core";
import { ConsultEventType, StateType } from "../../appservice/shared/events/index.js";
import { WidgetRoute, type ConsultView, type MineResponse } from "../../appservice/shared/consultWidgetApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import { consultCapabilities } from "../../widgets/consult-room/capabilities.js";
import { consultsCapabilities } from "../../widgets/consult-dashboard/capabilities.js";
import { QUESTION_TEMPLATE } from "../../widgets/consult-dashboard/questionTemplate.js";
import { installedWidget, openWidget, type WidgetDefinition, type WidgetHandle } from "../harness/browser.js";
import type { TestClinician } from "../harness/clinician.js";
import { startConsultScenario, type ConsultScenario } from "../harness/consultScenario.js";
import { waitUntil } from "../harness/waitUntil.js";

/** Clinical text typed into the widgets. */
const PHI = {
  ref: "Encounter/enc-552019",
  question: "Is this new left bundle branch block an acute coronary syndrome",
  history: "Type 2 diabetes, CKD stage 3, troponin 48 ng/L at 3 h",
  findings: "Old LBBB on the 2022 ECG, no Sgarbossa criteria met",
  assessment: "Chronic conduction disease, no acute ischaemia",
  recommendations: "Serial troponin at 6 h; no cath lab activation",
  followUp: "Cardiology clinic in 6 weeks",
  decline: "Heart failure team covers this patient, please ask them",
};

/** A tiny but well-formed PDF, made in memory. */
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);
const PDF_NAME = "ecg-2024-03-01.pdf";

/** Generous per-step limit: the machine is shared. */
const STEP_MS = 90_000;

describe("consult lifecycle through the widgets in Chromium (real Synapse, E2EE clients)", function () {
  let s: ConsultScenario;
  let wendy: TestClinician;
  let lena: TestClinician;
  let liam: TestClinician;
  const open: WidgetHandle[] = [];

  before(async function () {
    s = await startConsultScenario();
    ({ wendy, lena, liam } = s.people);
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      s.rounds.dumpLogs(120);
      for (const h of open) console.log(`--- widget console (${h.url})\n${h.consoleMessages().slice(-40).join("\n")}\n--- its room as the host client holds it\n${h.timelineReport()}`);
    }
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  after(async () => s?.stop());

  const installed = (who: TestClinician, roomId: string, id: string) => installedWidget(who, roomId, id, STEP_MS);

  async function openIn(who: TestClinician, roomId: string, widget: WidgetDefinition): Promise<WidgetHandle> {
    const h = await openWidget({ clinician: who, roomId, widget, readyTimeoutMs: STEP_MS });
    open.push(h);
    return h;
  }

  /** The name a clinician's account shows (Synapse's default is the localpart). */
  async function displayNameOf(who: TestClinician): Promise<string> {
    return (await who.client.getProfileInfo(who.userId, "displayname")).displayname ?? who.userId;
  }

  /** The text of the widget's success status line once it matches. */
  async function statusText(frame: Frame, match: RegExp): Promise<string> {
    const line = frame.getByRole("status").filter({ hasText: match });
    await line.waitFor({ timeout: STEP_MS });
    return (await line.textContent()) ?? "";
  }

  async function consultViaApi(who: TestClinician, id: string, roomId: string): Promise<ConsultView> {
    const api = await s.widgetSession(who);
    const res = await api.call("GET", `${routePath(WidgetRoute.consult, { id })}?room_id=${encodeURIComponent(roomId)}`);
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
    return res.json.consult as ConsultView;
  }

  it("requests, accepts, discusses, completes with billing, and rates a consult, all through the widgets", async function () {
    // 1. !consult opens Wendy's Consults room with the consults widget pinned.
    const cmd = await wendy.send(s.dm, "!consult");
    const opened = await wendy.waitForNotice(s.dm, s.consultBot, { after: cmd, timeoutMs: STEP_MS });
    const consultsRoom = /https:\/\/matrix\.to\/#\/(!\S+?)\.?(?:\s|$)/.exec(opened.body)?.[1];
    expect(consultsRoom, opened.body).to.be.a("string");
    const dashboard = await installed(wendy, consultsRoom!, "rounds-consults");
    const form = await openIn(wendy, consultsRoom!, dashboard);
    // Directory search is asked for too, but optional: the widget works without it.
    const asked = [...consultsCapabilities(consultsRoom!), "org.matrix.msc3973.user_directory_search"];
    expect(await form.requestedCapabilities()).to.have.same.members(asked);
    expect(await form.approvedCapabilities()).to.have.same.members(asked);

    // 2. The New consult form.
    const f = form.frame;
    const question = f.getByLabel("Clinical question");
    await question.waitFor({ timeout: STEP_MS });
    await form.checkAccessibility("the New consult form", "consult-dashboard");
    await f.getByLabel("Service").selectOption("cardiology");
    await f.getByLabel("Urgency").selectOption("urgent");
    await f.getByLabel("Patient or encounter reference").fill(PHI.ref);
    await f.getByRole("button", { name: "Insert question template" }).click();
    expect(await question.inputValue()).to.equal(QUESTION_TEMPLATE);
    await question.focus();
    await question.press("Control+Home");
    await question.press("End");
    await question.pressSequentially(PHI.question);
    expect((await question.inputValue()).split("\n")[0]).to.equal(`Question for the consultant: ${PHI.question}`);
    await f.getByLabel("Relevant history (optional)").fill(PHI.history);
    await f.getByLabel("Attachments (optional)").setInputFiles({ name: PDF_NAME, mimeType: "application/pdf", buffer: PDF });
    await f.getByRole("button", { name: `Remove ${PDF_NAME}` }).waitFor({ timeout: STEP_MS });
    await f.getByRole("button", { name: "Send consult request" }).click();
    // The specialist in words, with the role they were routed by (filled in as the directory
    // answers); the id only on hover.
    const named = `sent to ${await displayNameOf(lena)}, Cardiology on call. Open the consult room`;
    const sent = await statusText(f, new RegExp(`Consult #\\d+ ${named.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const number = Number(/^Consult #(\d+) sent to /.exec(sent.trim())?.[1]);
    expect(sent.trim()).to.equal(`Consult #${number} ${named}`);
    expect(sent).to.not.contain(lena.userId);
    await form.checkAccessibility("the New consult form, sent");

    // 3. Lena gets the request, decrypted by her client, in the consult room.
    const ring = await lena.waitForMessage((b) => b.includes(`#${number}`) && b.includes(PHI.question), { what: "the consult request", timeoutMs: STEP_MS });
    expect(ring.event.isEncrypted()).to.equal(true);
    const roomId = ring.roomId;
    const requested = await s.waitForConsult(lena, roomId, (c) => c.number === number && c.status === "requested");
    expect(requested.candidates).to.deep.equal([lena.userId]);
    expect(requested.requester).to.equal(wendy.userId);
    expect(requested.urgency).to.equal("urgent");

    const consultWidget = await installed(lena, roomId, "rounds-consult");
    const atLena = await openIn(lena, roomId, consultWidget);
    expect(await atLena.requestedCapabilities()).to.have.same.members(consultCapabilities(roomId));
    const l = atLena.frame;
    const request = l.getByRole("region", { name: "Request" });
    await request.getByText(PHI.question, { exact: false }).waitFor({ timeout: STEP_MS });
    await request.getByText(PHI.ref).waitFor();
    await request.getByText(PHI.history).waitFor();
    await request.getByRole("button", { name: `Download ${PDF_NAME}` }).waitFor();
    await atLena.checkAccessibility("an incoming consult request", "consult-room");
    // Keyboard order follows reading order: the request's attachment is reached before Accept.
    const order: string[] = [];
    await l.locator("body").focus();
    for (let k = 0; k < 30 && !order.includes("Accept"); k++) {
      await atLena.page.keyboard.press("Tab");
      order.push(await l.evaluate(() => (document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "").trim()));
    }
    expect(order.indexOf(`Download ${PDF_NAME}`), order.join(" | ")).to.be.within(0, order.indexOf("Accept") - 1);
    // The deadline in one line, and the response time as an amount and a unit, not raw minutes.
    await l.getByText(/^Accept by .+ · in \d+/).waitFor({ timeout: STEP_MS });
    const minutes = l.getByLabel("Expected response time", { exact: true });
    await l.waitForFunction(() => (document.getElementById("accept-minutes") as HTMLInputElement | null)?.value !== "", undefined, { timeout: STEP_MS });
    expect(Number(await minutes.inputValue())).to.be.greaterThan(0); // prefilled with the urgency's default
    await l.getByLabel("Unit of expected response time").selectOption("minutes");
    await minutes.fill("45");
    await l.getByRole("button", { name: "Accept", exact: true }).click();
    const accepted = await s.waitForConsult(wendy, roomId, (c) => c.status === "accepted");
    expect(accepted.consultant).to.equal(lena.userId);
    expect(accepted.expected_response_minutes).to.equal(45);
    await l.locator("[data-status=accepted]").waitFor({ timeout: STEP_MS });
    await atLena.checkAccessibility("an accepted consult");

    // 4. The room is the discussion: an ordinary encrypted exchange.
    const ask = `Troponin repeat is 52 ng/L, does that change anything? (${number})`;
    await wendy.send(roomId, ask);
    const heard = await lena.waitForMessage((b) => b === ask, { roomId, sender: wendy.userId, what: "wendy's question", timeoutMs: STEP_MS });
    expect(heard.event.isEncrypted()).to.equal(true);
    const answer = `A 4 ng/L rise is within noise; my report follows (${number})`;
    await lena.send(roomId, answer);
    const reply = await wendy.waitForMessage((b) => b === answer, { roomId, sender: lena.userId, what: "lena's answer", timeoutMs: STEP_MS });
    expect(reply.event.isEncrypted()).to.equal(true);

    // 5. Start, report with billing inputs, complete.
    await l.getByRole("button", { name: "Start consult" }).click();
    await s.waitForConsult(wendy, roomId, (c) => c.status === "in_progress");
    const report = l.getByRole("form", { name: "Consult report" });
    await report.getByLabel("Findings").waitFor({ timeout: STEP_MS });
    await atLena.checkAccessibility("the report form");
    await report.getByLabel("Findings").fill(PHI.findings);
    await report.getByLabel("Assessment").fill(PHI.assessment);
    await report.getByLabel("Recommendations").fill(PHI.recommendations);
    await report.getByLabel("Follow-up (optional)").fill(PHI.followUp);
    await report.getByLabel("Consult type").selectOption("initial");
    await report.getByLabel("Setting").selectOption("inpatient");
    await report.getByLabel("Complexity").selectOption("moderate");
    await report.getByLabel("Time spent (minutes)").fill("50");
    await report.getByRole("button", { name: "Complete consult" }).click();

    const posted = await wendy.waitForMessage((b) => b.includes(PHI.findings) && /Recommendations/.test(b), {
      roomId,
      sender: s.consultBot,
      what: "the report",
      timeoutMs: STEP_MS,
    });
    expect(posted.event.isEncrypted()).to.equal(true);
    expect(posted.body).to.contain(PHI.recommendations);
    const file = await wendy.waitForMessage((_b, ev) => ev.getContent().msgtype === "m.file" && ev.getContent().info?.mimetype === "text/markdown", {
      roomId,
      sender: s.consultBot,
      what: "the report attachment",
      timeoutMs: STEP_MS,
    });
    expect(file.event.isEncrypted()).to.equal(true);
    expect(file.event.getContent().file?.url).to.match(/^mxc:\/\//);
    const completed = await s.waitForConsult(wendy, roomId, (c) => c.status === "completed");
    expect(completed.report_event_id).to.equal(posted.event.getId());
    const reportEvent = await waitUntil(
      async () => wendy.client.getRoom(roomId)?.getLiveTimeline().getEvents().find((e) => e.getType() === ConsultEventType.Report && e.getSender() === lena.userId),
      "wendy to decrypt the widget's report event",
    );
    expect(reportEvent.isEncrypted()).to.equal(true);
    expect(reportEvent.getContent()).to.include({ consult_id: completed.id, findings: PHI.findings });

    const billing = l.getByRole("region", { name: "Billing suggestion" });
    await billing.waitFor({ timeout: STEP_MS });
    expect(await billing.textContent()).to.match(/A suggestion only/).and.match(/99254/).and.match(/Why:/);
    await l.locator("[data-status=completed]").waitFor();

    // 6. Wendy rates it in her consult widget.
    const atWendy = await openIn(wendy, roomId, await installed(wendy, roomId, "rounds-consult"));
    const w = atWendy.frame;
    const feedback = w.getByRole("form", { name: "Feedback" });
    await feedback.getByLabel("Rating").waitFor({ timeout: STEP_MS });
    await w.getByRole("region", { name: "Billing suggestion" }).waitFor();
    await w.getByRole("region", { name: "Report" }).getByText(PHI.assessment).waitFor({ timeout: STEP_MS });
    await feedback.getByLabel("Rating").selectOption("5");
    await feedback.getByLabel("Outcome").selectOption("advice_followed");
    await feedback.getByRole("button", { name: "Send feedback" }).click();
    await w.getByText("Requester's feedback: 5 of 5, advice followed.").waitFor({ timeout: STEP_MS });
    await atWendy.checkAccessibility("a completed, rated consult");
    expect(await feedback.count()).to.equal(0);

    const mine = await (await s.widgetSession(wendy)).call("GET", WidgetRoute.mine);
    const rated = [...(mine.json as unknown as MineResponse).outgoing, ...(mine.json as unknown as MineResponse).archive].find((c) => c.id === completed.id);
    expect(rated).to.include({ status: "completed", rating: 5, outcome: "advice_followed" });
    expect(rated?.billing_suggestion?.code).to.equal("99254");

    // Wendy's dashboard, open all along, shows the consult completed without a Refresh button.
    await f.getByRole("tab", { name: "My consults" }).click();
    await f.getByRole("region", { name: "Archive" }).getByText(`#${number} Cardiology`).waitFor({ timeout: STEP_MS });
    await f.getByText(/^Updated /).waitFor();
    await form.checkAccessibility("My consults");
    expect(await f.getByRole("button", { name: "Refresh" }).count()).to.equal(0);
  });

  it("refuses a decline without a reason inline, then re-routes to the backup when the reason is given", async function () {
    const cmd = await wendy.send(s.dm, `!consult cardiology routine ${PHI.ref} Please review the anticoagulation plan before discharge`);
    const reply = await wendy.waitForNotice(s.dm, s.consultBot, { after: cmd, timeoutMs: STEP_MS });
    const m = /^Consult #(\d+) sent to .* It is discussed in https:\/\/matrix\.to\/#\/(!\S+?)\.?$/s.exec(reply.body);
    expect(m, reply.body).to.not.equal(null);
    const [number, roomId] = [Number(m![1]), m![2]!];
    const before = await s.waitForConsult(lena, roomId, (c) => c.number === number && c.status === "requested");
    expect(before.candidates).to.deep.equal([lena.userId]);

    const h = await openIn(lena, roomId, await installed(lena, roomId, "rounds-consult"));
    const l = h.frame;
    const reason = l.getByLabel("Reason for declining");
    await reason.waitFor({ timeout: STEP_MS });
    await l.getByRole("button", { name: "Decline" }).click();
    const error = l.locator("#decline-reason-error");
    await error.waitFor({ timeout: STEP_MS });
    expect(await error.textContent()).to.match(/give a reason for declining/i);
    expect(await reason.getAttribute("aria-invalid")).to.equal("true");
    expect(await reason.getAttribute("aria-describedby")).to.contain("decline-reason-error");
    // Nothing changed: the widget made no call, and the server still has the consult as it was.
    const unchanged = await consultViaApi(lena, before.id, roomId);
    expect(unchanged).to.deep.include({ status: "requested", candidates: [lena.userId], declined_by: [] });
    expect(lena.state(roomId, StateType.Consult, before.id)).to.deep.include({ status: "requested", candidates: [lena.userId] });

    await reason.fill(PHI.decline);
    await l.getByRole("button", { name: "Decline" }).click();
    const rerouted = await s.waitForConsult(wendy, roomId, (c) => c.candidates.length === 2, "the consult re-routed to the backup");
    expect(rerouted.candidates).to.deep.equal([lena.userId, liam.userId]);
    expect(rerouted.declined_by).to.deep.equal([lena.userId]);
    expect(rerouted.status).to.equal("requested");
    await l.getByText("You declined this consult.").waitFor({ timeout: STEP_MS });
    expect(await l.getByLabel("Reason for declining").count()).to.equal(0);
    // Wendy hears why (encrypted), and Liam gets the request.
    const why = await wendy.waitForMessage((b) => b.includes(PHI.decline), { roomId, what: "the decline reason", timeoutMs: STEP_MS });
    expect(why.event.isEncrypted()).to.equal(true);
    await liam.waitForMessage((b) => b.includes(`#${number}`) && b.includes("anticoagulation"), { roomId, what: "the re-routed request", timeoutMs: STEP_MS });

    // A sync gap (a burst while his client was busy) drops the older events from his client's
    // timeline, as a limited sync does. His widget still shows the request: the bot's copy refers to
    // the room's create event, and the widget fetches it through the homeserver's relations.
    liam.client.getRoom(roomId)!.resetLiveTimeline(null, null);
    expect(liam.client.getRoom(roomId)!.getLiveTimeline().getEvents()).to.have.length(0);
    const atLiam = await openIn(liam, roomId, await installed(liam, roomId, "rounds-consult"));
    await atLiam.frame.getByRole("region", { name: "Request" }).getByText("Please review the anticoagulation plan before discharge").waitFor({ timeout: STEP_MS });
    await atLiam.frame.getByRole("button", { name: "Accept", exact: true }).waitFor();
  });
});
