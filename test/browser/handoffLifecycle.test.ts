import { expect } from "chai";
import type { Frame, Locator } from "playwright-core";
import { HandoffEventType, HandoffStateSchema, StateType, type HandoffState } from "../../appservice/shared/events/index.js";
import { HandoffRoute, type HandoffView, type MyHandoffsResponse } from "../../appservice/shared/handoffApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import { handoffCapabilities } from "../../widgets/handoff-room/capabilities.js";
import { installedWidget, openWidget, type WidgetDefinition, type WidgetHandle } from "../harness/browser.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver } from "../harness/homeserver.js";
import { RoundsProcess } from "../harness/rounds.js";
import { waitUntil } from "../harness/waitUntil.js";
import { waitForWorkflowState, widgetSession } from "../harness/widgetCaller.js";

/** Clinical text typed into the widgets. */
const PHI = {
  ref1: "Encounter/enc-300117",
  ref2: "Patient/pt-88213",
  situation1: "Day two after laparoscopic cholecystectomy, febrile to 38.4 overnight",
  background1: "Type 2 diabetes on insulin, penicillin allergy",
  assessment1: "Possible wound infection, haemodynamically stable",
  recommendation1: "Review wound at 08:00 and chase blood cultures",
  task1: "Chase blood cultures from the 02:00 draw",
  situation2: "Acute kidney injury, creatinine rising to 212",
  background2: "Admitted with sepsis from a urinary source",
  assessment2: "Pre-renal, fluid responsive so far",
  recommendation2: "Hourly urine output, repeat U&E at 14:00",
  readBack1: "Febrile post-op patient, check wound and chase cultures, allergic to penicillin",
  question: "Should the nephrotoxic antibiotic be stopped tonight",
  answer: "Yes, switch to the renal-dosed alternative pharmacy suggested",
  readBack2: "AKI on sepsis, watch urine output hourly and repeat U&E at 14:00",
};

const STEP_MS = 90_000;

describe("a shift handoff through the widgets in Chromium (real Synapse, E2EE clients)", function () {
  let rounds: RoundsProcess;
  let olga: TestClinician;
  let ian: TestClinician;
  let bot: string;
  const open: WidgetHandle[] = [];

  before(async function () {
    const hs = await getHomeserver();
    rounds = new RoundsProcess(hs, { ROUNDS_TIMER_POLL_MS: "250" });
    await rounds.start();
    [olga, ian] = await Promise.all([TestClinician.create(hs, "olga"), TestClinician.create(hs, "ian")]);
    olga.acceptInvites();
    ian.acceptInvites();
    bot = `@rounds_handoff:${hs.serverName}`;
    await rounds.admin("/_rounds/admin/v1/handoff/units/ward9", {
      method: "PUT",
      body: JSON.stringify({ name: "Ward 9", template: "sbar", timezone: "Europe/London", checklist: ["Allergies reviewed"], mode: "face_to_face", location: "Ward 9 office" }),
    });
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      rounds.dumpLogs(120);
      for (const h of open) console.log(`--- widget console (${h.url})\n${h.consoleMessages().slice(-40).join("\n")}\n--- its room as the host client holds it\n${h.timelineReport()}`);
    }
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  after(async () => {
    olga?.stop();
    ian?.stop();
    await rounds?.stop();
  });

  const installed = (who: TestClinician, roomId: string, id: string) => installedWidget(who, roomId, id, STEP_MS);

  async function openIn(who: TestClinician, roomId: string, widget: WidgetDefinition): Promise<WidgetHandle> {
    const h = await openWidget({ clinician: who, roomId, widget, readyTimeoutMs: STEP_MS });
    open.push(h);
    return h;
  }

  const waitForState = (who: TestClinician, roomId: string, match: (s: HandoffState) => boolean, what: string) =>
    waitForWorkflowState(who, roomId, StateType.Handoff, HandoffStateSchema, match, what, STEP_MS);

  /** A widget API GET as the clinician's widget would make it. */
  async function api(who: TestClinician, path: string): Promise<Record<string, unknown>> {
    const res = await (await widgetSession(rounds.url, who)).call("GET", path);
    expect(res.status).to.equal(200);
    return res.json;
  }

  async function addPatient(f: Frame, p: { ref: string; label: string; s: string; b: string; a: string; r: string; task?: string }): Promise<void> {
    await f.getByRole("button", { name: "New patient" }).click();
    const form = f.getByRole("form", { name: "New patient" });
    await form.getByLabel("Patient or encounter reference").fill(p.ref);
    await form.getByLabel("Label (optional)").fill(p.label);
    await form.getByLabel("Situation").fill(p.s);
    await form.getByLabel("Background").fill(p.b);
    await form.getByLabel("Assessment").fill(p.a);
    await form.getByLabel("Recommendation").fill(p.r);
    if (p.task) {
      await form.getByRole("button", { name: "Add task" }).click();
      await form.getByRole("group", { name: "Task 1" }).getByLabel("Task", { exact: true }).fill(p.task);
    }
    await form.getByRole("button", { name: "Add patient" }).click();
  }

  const patient = (f: Frame, n: number): Locator => f.getByRole("region", { name: `Patient ${n}`, exact: true });

  it("starts a two-patient handoff, presents, reads back, answers a question and signs off, all through the widgets", async function () {
    // 1. Olga's Handoffs room, with the dashboard widget, starts the handoff to Ian.
    const dm = await olga.openEncryptedDm(bot);
    const cmd = await olga.send(dm, "!handoff");
    const opened = await olga.waitForNotice(dm, bot, { after: cmd, timeoutMs: STEP_MS });
    const dashboardRoom = /https:\/\/matrix\.to\/#\/(!\S+?)\.?(?:\s|$)/.exec(opened.body)?.[1];
    expect(dashboardRoom, opened.body).to.be.a("string");
    const dashboard = await openIn(olga, dashboardRoom!, await installed(olga, dashboardRoom!, "rounds-handoffs"));
    const d = dashboard.frame;
    // Ian is picked by name from the directory (Element's user-directory search), by keyboard.
    const picker = d.getByRole("combobox", { name: "Incoming clinician" });
    await picker.waitFor({ timeout: STEP_MS });
    const ianName = (await ian.client.getProfileInfo(ian.userId, "displayname")).displayname ?? ian.userId;
    await picker.fill(ianName);
    const option = d.getByRole("option").filter({ hasText: ian.userId });
    await option.waitFor({ timeout: STEP_MS });
    const index = (await d.getByRole("option").allTextContents()).findIndex((t) => t.includes(ian.userId));
    for (let k = 0; k <= index; k++) await picker.press("ArrowDown");
    await picker.press("Enter");
    expect(await picker.inputValue()).to.equal(ian.userId);
    await d.getByRole("button", { name: "Start handoff" }).click();
    const started = d.getByRole("status").filter({ hasText: /^Handoff #\d+ started\./ });
    await started.waitFor({ timeout: STEP_MS });
    await dashboard.checkAccessibility("the Handoffs dashboard, a handoff started", "handoff-dashboard");
    const number = Number(/#(\d+)/.exec((await started.textContent()) ?? "")?.[1]);
    const mine = (await api(olga, HandoffRoute.mine)) as unknown as MyHandoffsResponse;
    const h = mine.active.find((x) => x.number === number)!;
    expect(h).to.include({ unit: "ward9", outgoing: olga.userId, incoming: ian.userId, status: "started" });
    const roomId = h.room_id;

    // 2. The handoff room: both in it, the widget pinned, state without PHI.
    const atOlga = await openIn(olga, roomId, await installed(olga, roomId, "rounds-handoff"));
    expect(await atOlga.requestedCapabilities()).to.have.same.members(handoffCapabilities(roomId));
    const o = atOlga.frame;
    await o.getByRole("button", { name: "New patient" }).waitFor({ timeout: STEP_MS });
    await addPatient(o, { ref: PHI.ref1, label: "Bed 4", s: PHI.situation1, b: PHI.background1, a: PHI.assessment1, r: PHI.recommendation1, task: PHI.task1 });
    await patient(o, 1).getByText(PHI.situation1).waitFor({ timeout: STEP_MS });
    await addPatient(o, { ref: PHI.ref2, label: "Bed 7", s: PHI.situation2, b: PHI.background2, a: PHI.assessment2, r: PHI.recommendation2 });
    await patient(o, 2).getByText(PHI.situation2).waitFor({ timeout: STEP_MS });
    await atOlga.checkAccessibility("a handoff being presented");
    const presenting = await waitForState(ian, roomId, (s) => s.patient_count === 2, "two patients in the state");
    expect(presenting.status).to.equal("presenting");
    const stateJson = JSON.stringify(presenting);
    for (const text of [PHI.ref1, PHI.ref2, PHI.situation1, PHI.task1, "Bed 4"]) expect(stateJson).to.not.contain(text);

    // 3. Ian reads back patient 1 and asks about patient 2, in his own widget. A sync gap first
    // drops the items from his client's timeline (as a limited sync does): his widget fetches
    // them through their relation to the handoff's anchor event instead.
    const ianRoom = await waitUntil(async () => {
      const room = ian.client.getRoom(roomId);
      return room && room.getLiveTimeline().getEvents().filter((e) => e.getType() === HandoffEventType.Item).length === 2 ? room : null;
    }, "Ian's client to decrypt both items", STEP_MS);
    // Olga's widget sent them as encrypted events, which Ian's client decrypted.
    for (const e of ianRoom.getLiveTimeline().getEvents().filter((ev) => ev.getType() === HandoffEventType.Item)) {
      expect(e.isEncrypted()).to.equal(true);
      expect(e.getSender()).to.equal(olga.userId);
    }
    ianRoom.resetLiveTimeline(null, null);
    expect(ianRoom.getLiveTimeline().getEvents()).to.have.length(0);
    const atIan = await openIn(ian, roomId, await installed(ian, roomId, "rounds-handoff"));
    const i = atIan.frame;
    // Both clinicians in words, the ids only on hover.
    const names = await Promise.all([olga, ian].map(async (c) => (await c.client.getProfileInfo(c.userId, "displayname")).displayname ?? c.userId));
    const status = i.getByRole("region", { name: "Handoff status" });
    await status.getByText(`${names[0]} → ${names[1]}`).waitFor({ timeout: STEP_MS });
    expect(await status.textContent()).to.not.contain(olga.userId);
    expect(await status.locator(`span.person[title="${ian.userId}"]`).count()).to.equal(1);
    await patient(i, 1).getByText(PHI.assessment1).waitFor({ timeout: STEP_MS });
    const rb1 = patient(i, 1).getByRole("form", { name: "Read back patient 1" });
    await rb1.getByLabel("Read back in your own words").fill(PHI.readBack1);
    await rb1.getByRole("button", { name: "Send read-back" }).click();
    await waitForState(olga, roomId, (s) => s.read_back_count === 1, "patient 1 read back");
    // Read back, patient 1 folds to its title and read-back; the details open on request.
    await patient(i, 1).getByText("Show the details").waitFor({ timeout: STEP_MS });
    expect(await patient(i, 1).getByText(PHI.assessment1).isVisible()).to.equal(false);
    await patient(i, 1).getByText("Show the details").click();
    await patient(i, 1).getByText(PHI.assessment1).waitFor({ state: "visible", timeout: STEP_MS });
    const ask = patient(i, 2).getByRole("form", { name: "Ask about patient 2" });
    await ask.getByLabel("Ask a question").fill(PHI.question);
    await ask.getByRole("button", { name: "Ask question" }).click();
    await waitForState(olga, roomId, (s) => s.open_questions === 1, "the question open");

    // Sign-off is not offered plainly while a read-back, the answer and the checklist are missing.
    const blocked = o.getByRole("region", { name: "Sign off" }).getByRole("group", { name: "Not ready to sign off" });
    await blocked.waitFor({ timeout: STEP_MS });

    // 4. Olga answers; Ian reads back patient 2 and ticks the checklist.
    await patient(o, 2).getByText(PHI.question).waitFor({ timeout: STEP_MS });
    const answer = o.getByRole("form", { name: "Answer question 1" });
    await answer.getByLabel("Answer").fill(PHI.answer);
    await answer.getByRole("button", { name: "Send answer" }).click();
    await waitForState(ian, roomId, (s) => s.open_questions === 0, "the question answered");
    await patient(i, 2).getByText(PHI.answer).waitFor({ timeout: STEP_MS });
    const rb2 = patient(i, 2).getByRole("form", { name: "Read back patient 2" });
    await rb2.getByLabel("Read back in your own words").fill(PHI.readBack2);
    await rb2.getByRole("button", { name: "Send read-back" }).click();
    await waitForState(olga, roomId, (s) => s.read_back_count === 2, "patient 2 read back");
    await i.getByRole("region", { name: "Checklist" }).getByLabel("Allergies reviewed").click(); // the box follows the server, so it ticks once the call returns
    await waitForState(olga, roomId, (s) => s.checklist_done === 1, "the checklist ticked");
    await atIan.checkAccessibility("a handoff ready to sign off", "handoff-room");

    // 5. Both sign off.
    await o.getByRole("region", { name: "Sign off" }).getByRole("button", { name: "Sign off", exact: true }).click();
    await waitForState(ian, roomId, (s) => s.status === "signing" && s.signed_off_by.includes(olga.userId), "olga's sign-off");
    await i.getByRole("region", { name: "Sign off" }).getByRole("button", { name: "Sign off", exact: true }).click();
    const done = await waitForState(olga, roomId, (s) => s.status === "completed", "the handoff completed");
    expect(done.signed_off_by).to.have.members([olga.userId, ian.userId]);
    expect(done.overridden).to.equal(false);
    await o.getByRole("region", { name: "Completed" }).waitFor({ timeout: STEP_MS });
    await i.getByRole("region", { name: "Completed" }).waitFor({ timeout: STEP_MS });
    await atIan.checkAccessibility("a completed handoff");

    // The report: encrypted, with the SBAR text, the read-backs and the Q&A.
    const report = await ian.waitForMessage((_b, ev) => ev.getContent().msgtype === "m.file" && ev.getContent().info?.mimetype === "text/markdown", {
      roomId,
      sender: bot,
      what: "the report attachment",
      timeoutMs: STEP_MS,
    });
    expect(report.event.isEncrypted()).to.equal(true);
    const withReport = await waitForState(ian, roomId, (s) => s.report_event_id !== null, "the report in the state");
    expect(withReport.report_event_id).to.be.a("string");

    // The task passed to Ian.
    const view = (await api(ian, `${routePath(HandoffRoute.handoff, { id: h.id })}?room_id=${encodeURIComponent(roomId)}`)).handoff as HandoffView;
    expect(view.tasks).to.have.length(1);
    expect(view.tasks[0]).to.include({ owner: ian.userId, transferred_from: olga.userId, status: "open" });
    expect(view.questions[0]).to.include({ asked_by: ian.userId, answered_by: olga.userId });
    expect(view.entries.every((e) => e.read_back)).to.equal(true);
  });
});
