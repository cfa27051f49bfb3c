import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { decryptAttachment } from "../../appservice/shared/attachmentCrypto.js";
import { HandoffEventType, StateType, WidgetStateType, type HandoffState } from "../../appservice/shared/events/index.js";
import { HandoffRoute, type HandoffView, type MyHandoffsResponse } from "../../appservice/shared/handoffApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import type { TestClinician } from "../harness/clinician.js";
import { startHandoffScenario, type HandoffScenario } from "../harness/handoffScenario.js";
import { untilTime, waitUntil } from "../harness/waitUntil.js";

/** Clinical text used below; none of it may reach Synapse's database in plaintext. */
const PHI = {
  ref1: "Patient/pt-40917",
  situation1: "Day two after a right hemicolectomy with new atrial fibrillation",
  background1: "Known ischaemic heart disease and on warfarin before admission",
  assessment1: "Rate controlled on metoprolol but potassium was low this morning",
  recommendation1: "Repeat the potassium and magnesium and replace as needed",
  task: "Recheck the evening potassium level",
  alert: "Severe latex allergy with anaphylaxis in theatre",
  ref2: "Encounter/enc-55120",
  situation2: "Admitted with community acquired pneumonia on oxygen two litres",
  background2: "Chronic obstructive pulmonary disease and lives alone",
  assessment2: "Improving but still febrile overnight",
  recommendation2: "Step down to oral amoxicillin if afebrile tomorrow",
  readback1: "Hemicolectomy day two in new AF, watch and replace the potassium",
  readback2: "Pneumonia improving on two litres, oral switch if afebrile",
  question: "Has the oxygen target been set for this COPD patient",
  answer: "Yes, target saturations eighty-eight to ninety-two percent",
  ref3: "Patient/pt-77302",
  situation3: "Fractured neck of femur awaiting theatre tomorrow morning",
  override: "Incoming doctor was called to a cardiac arrest before the read-back",
  override2: "Agreed to review the hip patient at the start of the ward round",
  incident: "The latex allergy was not passed on at the bedside",
};

const sbar = (ref: string, label: string, s: string, b: string, a: string, r: string, extra: string[] = []) =>
  [`!handoff add ${ref} ${label}`, `S: ${s}`, `B: ${b}`, `A: ${a}`, `R: ${r}`, ...extra].join("\n");

describe("SBAR shift handoffs by chat and widget API (real Synapse, E2EE clients)", function () {
  let s: HandoffScenario;
  let olga: TestClinician;
  let ian: TestClinician;
  /** The handoff of the first test, completed with a transferred task; later tests look back at it. */
  let first: { number: number; roomId: string; id: string } | null = null;

  before(async function () {
    s = await startHandoffScenario();
    ({ olga, ian } = s.people);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") s.rounds.dumpLogs(120);
  });
  after(async () => s?.stop());

  /** `!handoff start` from the unit room: the handoff's number and room, once both have joined it. */
  async function start(args: string, incoming: TestClinician = ian): Promise<{ number: number; roomId: string; reply: string }> {
    const reply = await s.command(olga, s.unitRoom, `!handoff start ${args}`);
    const m = /^Handoff #(\d+) \(.*?\) started: .*https:\/\/matrix\.to\/#\/(!\S+?)\.\s/s.exec(reply);
    expect(m, reply).to.not.equal(null);
    const roomId = m![2]!;
    await s.joined(olga, roomId);
    await s.joined(incoming, roomId);
    return { number: Number(m![1]), roomId, reply };
  }
  const audit = (n: number) => s.rounds.admin<{ handoff: { id: string; status: string }; audit: { action: string; actor: string; refs: Record<string, unknown> }[] }>(`/_rounds/admin/v1/handoffs/${n}/audit`);
  const stateIn = (who: TestClinician, roomId: string, id: string) => who.state(roomId, StateType.Handoff, id) as HandoffState | null;

  it("runs a whole handoff by text commands: items, read-backs, a question, the checklist, both sign-offs and an encrypted report", async function () {
    const { number, roomId, reply } = await start(ian.userId);
    expect(reply).to.contain(`${olga.userId} hands over to ${ian.userId}`);

    // The handoff room: bot-only state with the workflow facts, and the handoff widget pinned.
    const started = await s.waitForHandoff(olga, roomId, (h) => h.number === number);
    expect(started).to.include({ unit: "4west", unit_name: "4 West", outgoing: olga.userId, incoming: ian.userId, status: "started", template: "sbar", overdue: false });
    // The unit's default deadline (15 minutes) from when it started.
    expect(started.deadline_ts - started.created_ts).to.equal(15 * 60_000);
    const widget = olga.state(roomId, WidgetStateType.Widget, "rounds-handoff");
    expect(String(widget?.url)).to.match(/\/_rounds\/widgets\/handoff-room\/index\.html\?roomId=\$matrix_room_id/);
    expect(widget?.data).to.deep.equal({ handoff_id: started.id });
    expect(olga.state(roomId, WidgetStateType.Layout, "")).to.deep.include({ widgets: { "rounds-handoff": { container: "top", index: 0, width: 100, height: 60 } } });
    const opening = await ian.waitForMessage((b) => b.startsWith(`Handoff #${number} on 4 West`), { roomId, sender: s.handoffBot, what: "the opening message" });
    expect(opening.event.isEncrypted()).to.equal(true);

    // Olga presents two patients; the first with a task she owns, due later today, and an alert.
    const due = new Date(Date.now() + 3 * 3600_000).toISOString().slice(11, 16);
    const add1 = await s.command(
      olga,
      roomId,
      sbar(PHI.ref1, "bed 4", PHI.situation1, PHI.background1, PHI.assessment1, PHI.recommendation1, [`Task: ${PHI.task} ${olga.userId} due ${due}`, `Alert: ${PHI.alert}`]),
    );
    expect(add1).to.match(new RegExp(`^Patient 1 added to handoff #${number} \\(1 patient\\)`));
    const add2 = await s.command(olga, roomId, sbar(PHI.ref2, "bed 7", PHI.situation2, PHI.background2, PHI.assessment2, PHI.recommendation2));
    expect(add2).to.match(new RegExp(`^Patient 2 added to handoff #${number} \\(2 patients\\)`));
    // The item is echoed, encrypted, for clients without the widget.
    const echo = await ian.waitForMessage((b) => b.startsWith("Patient 1") && b.includes(PHI.situation1), { roomId, sender: s.handoffBot, what: "the item echo" });
    expect(echo.event.isEncrypted()).to.equal(true);
    expect(echo.body).to.contain(`CRITICAL: ${PHI.alert}`);

    expect(await s.command(ian, roomId, `!handoff readback 1 ${PHI.readback1}`)).to.match(/^Patient 1 read back \(1 of 2\)/);
    expect(await s.command(ian, roomId, `!handoff question 2 ${PHI.question}`)).to.match(/^Question #1 on patient 2 asked/);
    const open = await s.waitForHandoff(olga, roomId, (h) => h.open_questions === 1);
    expect(open).to.include({ status: "presenting", patient_count: 2, read_back_count: 1 });
    expect(await s.command(olga, roomId, `!handoff answer 1 ${PHI.answer}`)).to.match(/^Question #1 answered/);
    expect(await s.command(ian, roomId, `!handoff readback 2 ${PHI.readback2}`)).to.match(/^Patient 2 read back \(2 of 2\)/);
    expect(await s.command(ian, roomId, "!handoff check 1")).to.match(/^☑ Ticked "Allergies reviewed" \(1 of 2 done\)/);
    expect(await s.command(olga, roomId, "!handoff check 2")).to.match(/^☑ Ticked "Lines and drains checked" \(2 of 2 done\)/);

    expect(await s.command(olga, roomId, "!handoff signoff")).to.equal(`You signed off handoff #${number}. Waiting for ${ian.userId} to sign off (!handoff signoff).`);
    const signing = await s.waitForHandoff(ian, roomId, (h) => h.status === "signing");
    expect(signing.signed_off_by).to.deep.equal([olga.userId]);
    expect(await s.command(ian, roomId, "!handoff signoff")).to.equal(`Handoff #${number} is complete: both of you signed off.`);

    // The report: an encrypted message and an encrypted Markdown attachment.
    const report = await ian.waitForMessage((b) => b.startsWith(`Handoff #${number} on 4 West completed:`), { roomId, sender: s.handoffBot, what: "the report" });
    expect(report.event.isEncrypted()).to.equal(true);
    expect(report.body).to.equal(`Handoff #${number} on 4 West completed: 2 patients, 2 read back, 1 question (answered), 1 task to ${ian.userId}. Full report attached.`);
    const file = await ian.waitForMessage((_b, ev) => ev.getContent().msgtype === "m.file", { roomId, sender: s.handoffBot, what: "the report attachment" });
    expect(file.event.isEncrypted()).to.equal(true);
    const content = file.event.getContent() as { filename: string; file: { url: string } & Parameters<typeof decryptAttachment>[1]; info: { mimetype: string } };
    expect(content.info.mimetype).to.equal("text/markdown");
    expect(content.filename).to.equal(`handoff-${number}-report.md`);
    const media = await fetch(ian.client.mxcUrlToHttp(content.file.url, undefined, undefined, undefined, false, true, true)!, {
      headers: { authorization: `Bearer ${ian.client.getAccessToken()}` },
    });
    const cipher = new Uint8Array(await media.arrayBuffer());
    expect(Buffer.from(cipher).includes(Buffer.from(PHI.situation1))).to.equal(false);
    const markdown = new TextDecoder().decode(await decryptAttachment(cipher, content.file));
    for (const part of [
      `# Handoff report #${number} — 4 West`,
      `| Handed over | ${olga.userId} → ${ian.userId} |`,
      "### Patient 1 — bed 4",
      "### Patient 2 — bed 7",
      `Patient reference: ${PHI.ref1}`,
      `CRITICAL ALERT: ${PHI.alert}`,
      PHI.situation1,
      PHI.background1,
      PHI.assessment1,
      PHI.recommendation1,
      PHI.situation2,
      PHI.recommendation2,
      `By ${ian.userId} at`,
      PHI.readback1,
      PHI.readback2,
      `asked by ${ian.userId}`,
      PHI.question,
      `Answer by ${olga.userId}`,
      PHI.answer,
      `- Patient 1: ${PHI.task} — from ${olga.userId} → ${ian.userId}, due`,
      "## Sign-offs",
    ]) {
      expect(markdown).to.contain(part);
    }

    const completed = await s.waitForHandoff(ian, roomId, (h) => h.status === "completed" && h.report_event_id !== null, "the completed state with its report");
    expect(completed.report_event_id).to.equal(report.event.getId());
    expect(completed).to.include({ patient_count: 2, read_back_count: 2, open_questions: 0, checklist_done: 2, checklist_total: 2, overridden: false });
    expect(completed.signed_off_by).to.have.members([olga.userId, ian.userId]);
    const stateText = JSON.stringify(completed);
    for (const text of Object.values(PHI)) expect(stateText).to.not.contain(text);
    first = { number, roomId, id: completed.id };
  });

  it("refuses a sign-off while a read-back is missing, then records an override whose reason stays encrypted", async function () {
    const { number, roomId } = await start(ian.userId);
    await s.command(olga, roomId, sbar(PHI.ref3, "bed 11", PHI.situation3, "Lives with her daughter", "Pain controlled", "Nil by mouth from midnight"));
    const presented = await s.waitForHandoff(olga, roomId, (h) => h.number === number && h.patient_count === 1);

    const refusedReply = await s.command(olga, roomId, "!handoff signoff");
    expect(refusedReply).to.match(new RegExp(`^Handoff #${number} cannot be signed off yet: 1 patient without a read-back \\(#1\\)`));
    expect(refusedReply).to.contain("!handoff signoff override <reason>");
    // Nothing changed: no sign-off in the state, the view or the audit trail.
    expect(stateIn(olga, roomId, presented.id)).to.deep.include({ status: "presenting", signed_off_by: [], overridden: false });
    const api = await s.widgetSession(olga);
    const view = (await api.call("GET", `${routePath(HandoffRoute.handoff, { id: presented.id })}?room_id=${encodeURIComponent(roomId)}`)).json.handoff as HandoffView;
    expect(view.sign_offs).to.deep.equal([]);
    expect(view.outstanding.missing_read_back).to.deep.equal([1]);
    expect((await audit(number)).audit.map((a) => a.action)).to.not.include("signed_off");

    expect(await s.command(olga, roomId, `!handoff signoff override ${PHI.override}`)).to.equal(
      `You signed off handoff #${number} with an override. Waiting for ${ian.userId} to sign off (!handoff signoff).`,
    );
    const overridden = await s.waitForHandoff(ian, roomId, (h) => h.overridden);
    expect(overridden).to.include({ status: "signing" });
    expect(overridden.signed_off_by).to.deep.equal([olga.userId]);
    const trail = await audit(number);
    const entry = trail.audit.find((a) => a.action === "override")!;
    expect(entry.actor).to.equal(olga.userId);
    expect(entry.refs.outstanding).to.deep.include({ missing_read_back: [1] });
    const noteId = String(entry.refs.note_event_id);
    expect(noteId).to.match(/^\$/);
    expect(JSON.stringify(trail)).to.not.contain(PHI.override);
    // The reason is the encrypted note the audit entry points to.
    const note = await waitUntil(async () => {
      const ev = ian.client.getRoom(roomId)?.findEventById(noteId);
      if (!ev) return null;
      await ian.client.decryptEventIfNeeded(ev);
      return ev.getType() === HandoffEventType.Note ? ev : null;
    }, "the override note");
    expect(note.isEncrypted()).to.equal(true);
    expect(note.getContent()).to.deep.include({ kind: "override", text: PHI.override, by: olga.userId });

    // The incoming doctor is held to the same gate, and overrides too.
    expect(await s.command(ian, roomId, `!handoff signoff override ${PHI.override2}`)).to.equal(`Handoff #${number} is complete: both of you signed off (with an override).`);
    await s.waitForHandoff(olga, roomId, (h) => h.status === "completed");
  });

  it("reminds both when the deadline passes, then tells the charge nurse and invites her; she cannot sign off for them", async function () {
    const { number, roomId } = await start(`4east ${ian.userId}`);
    const { charlie } = s.people;
    // 4 East: six seconds to sign off.
    const reminder = await ian.waitForMessage((b) => b.startsWith(`Reminder: handoff #${number} was due to be signed off`), { roomId, sender: s.handoffBot, what: "the deadline reminder", timeoutMs: 30_000 });
    expect(reminder.event.isEncrypted()).to.equal(true);
    expect((reminder.event.getContent()["m.mentions"] as { user_ids?: string[] } | undefined)?.user_ids).to.have.members([olga.userId, ian.userId]);
    const overdue = await s.waitForHandoff(olga, roomId, (h) => h.number === number && h.overdue);
    expect(overdue.escalated_to).to.deep.equal([]);

    // Six seconds later the charge nurse hears of it, in her direct room with the handoff bot, without clinical text.
    const dm = await charlie.waitForMessage((b) => b.startsWith(`Handoff #${number} on 4 East`), { sender: s.handoffBot, what: "the escalation", timeoutMs: 30_000 });
    expect(dm.roomId).to.not.equal(roomId);
    expect(dm.body).to.contain("past its deadline").and.contain(`${olga.userId} to ${ian.userId}`).and.contain("You are the charge role");
    const escalated = await s.waitForHandoff(olga, roomId, (h) => h.escalated_to.length > 0);
    expect(escalated.escalated_to).to.deep.equal([charlie.userId]);
    expect(escalated.status).to.equal("started");
    await s.joined(charlie, roomId);
    await olga.waitForMessage((b) => b.includes(`${charlie.userId} (charge) has been told and invited`), { roomId, sender: s.handoffBot, what: "the escalation notice" });

    // In the room now, she still cannot sign off someone else's handoff: refused, and nothing recorded.
    expect(await s.command(charlie, roomId, "!handoff signoff")).to.equal(`Only ${olga.userId} and ${ian.userId} can sign off handoff #${number}.`);
    expect(stateIn(olga, roomId, escalated.id)).to.deep.include({ status: "started", signed_off_by: [] });
    expect((await audit(number)).audit.map((a) => a.action)).to.include.members(["deadline_missed", "escalated"]).and.not.include("signed_off");
  });

  it("moves the outgoing clinician's pending task to the incoming one at sign-off", async function () {
    expect(first, "the first test's handoff").to.not.equal(null);
    const api = await s.widgetSession(ian);
    const mine = (await api.call("GET", HandoffRoute.mine)).json as unknown as MyHandoffsResponse;
    const task = mine.tasks.find((t) => t.handoff_id === first!.id);
    expect(task, JSON.stringify(mine.tasks)).to.not.equal(undefined);
    expect(task).to.include({ owner: ian.userId, transferred_from: olga.userId, status: "open", handoff_number: first!.number, room_id: first!.roomId });
    expect(task!.due_ts).to.be.a("number");
    const got = await api.call("GET", `${routePath(HandoffRoute.handoff, { id: first!.id })}?room_id=${encodeURIComponent(first!.roomId)}`);
    expect(got.status, JSON.stringify(got.json)).to.equal(200);
    const view = got.json.handoff as HandoffView;
    expect(view.tasks).to.have.length(1);
    expect(view.tasks[0]).to.include({ owner: ian.userId, transferred_from: olga.userId });
    // Olga no longer owns it.
    const olgas = (await (await s.widgetSession(olga)).call("GET", HandoffRoute.mine)).json as unknown as MyHandoffsResponse;
    expect(olgas.tasks.filter((t) => t.handoff_id === first!.id)).to.deep.equal([]);

    // Ian's task list, in an encrypted room: with the task's text.
    const list = await s.command(ian, first!.roomId, "!handoff tasks");
    // "due 00:42 UTC" today, "due Tue 24 Nov 00:42 UTC" when it falls tomorrow.
    expect(list, list).to.match(new RegExp(`^Your open handoff tasks:\\n1\\. Handoff #${first!.number}, patient 1, due (\\w{3} \\d{1,2} \\w{3} )?\\d\\d:\\d\\d UTC — ${PHI.task}\\n`));
  });

  it("refuses bad input with a clear error and changes nothing: unknown or own id, malformed calls, the wrong sender, a non-participant", async function () {
    const api = await s.widgetSession(olga);
    const before = (await api.call("GET", HandoffRoute.mine)).json as unknown as MyHandoffsResponse;
    const last = Math.max(...[...before.active, ...before.recent].map((h) => h.number));
    const roomsBefore = olga.client.getRooms().length;

    expect(await s.command(olga, s.unitRoom, `!handoff start @nosuchuser:${s.hs.serverName}`)).to.equal(`@nosuchuser:${s.hs.serverName} is not a known user. Check the spelling of their Matrix id.`);
    expect(await s.command(olga, s.unitRoom, `!handoff start ${olga.userId}`)).to.equal("You cannot hand off to yourself. Name the clinician who takes over from you.");
    expect(await s.command(olga, s.unitRoom, "!handoff start ian")).to.match(/must be a Matrix user id/);
    const malformed = await api.call("POST", HandoffRoute.start, { room_id: s.unitRoom, incoming: "ian" });
    expect(malformed.status).to.equal(400);
    expect(String(malformed.json.error)).to.match(/^incoming: /);
    const noRoom = await api.call("POST", HandoffRoute.start, { incoming: ian.userId });
    expect(noRoom.status).to.equal(400);
    expect(String(noRoom.json.error)).to.match(/^room_id: /);
    // No handoff was made: no new number, the same open handoffs.
    const next = await fetch(`${s.rounds.url}/_rounds/admin/v1/handoffs/${last + 1}/audit`, { headers: { authorization: `Bearer ${s.rounds.adminToken}` } });
    expect(next.status).to.equal(404);
    const after = (await api.call("GET", HandoffRoute.mine)).json as unknown as MyHandoffsResponse;
    expect(after.active.map((h) => h.id)).to.deep.equal(before.active.map((h) => h.id));
    expect(olga.client.getRooms().length, "no handoff room was opened").to.equal(roomsBefore);

    // A handoff from Olga to Ivy, through the widget API this time.
    const { ivy, quinn } = s.people;
    const created = await api.call("POST", HandoffRoute.start, { room_id: s.unitRoom, incoming: ivy.userId });
    expect(created.status, JSON.stringify(created.json)).to.equal(200);
    const h = created.json.handoff as HandoffView;
    expect(h.number).to.equal(last + 1);
    // Both are in the handoff room before they act in it (a join can wait out Synapse's join limit).
    await s.joined(ivy, h.room_id);
    await s.joined(olga, h.room_id);

    // Ivy, who takes over, sends a patient item: only the outgoing clinician may present.
    const item = {
      handoff_id: h.id,
      entry_id: "entry-by-ivy-1",
      version: 1,
      template: "sbar",
      patient_ref: PHI.ref3,
      sbar: { situation: PHI.situation3, background: "b", assessment: "a", recommendation: "r" },
    };
    const { event_id } = await ivy.client.sendEvent(h.room_id, HandoffEventType.Item as never, item as never);
    const ivyApi = await s.widgetSession(ivy);
    const wrong = await ivyApi.call("POST", routePath(HandoffRoute.items, { id: h.id }), { room_id: h.room_id, event_id });
    expect(wrong.status, JSON.stringify(wrong.json)).to.equal(403);
    expect(String(wrong.json.error)).to.equal(`Only ${olga.userId}, who hands over, can present or change patients on handoff #${h.number}.`);
    // Olga naming Ivy's event is refused too: only events one sent oneself.
    const notHers = await api.call("POST", routePath(HandoffRoute.items, { id: h.id }), { room_id: h.room_id, event_id });
    expect(notHers.status).to.equal(403);
    const badEvent = await api.call("POST", routePath(HandoffRoute.items, { id: h.id }), { room_id: h.room_id, event_id: "not-an-event" });
    expect(badEvent.status).to.equal(400);
    expect(String(badEvent.json.error)).to.match(/^event_id: /);

    // Quinn is not in the handoff: she cannot sign it off, from its room or from another.
    const quinnApi = await s.widgetSession(quinn);
    const outsider = await quinnApi.call("POST", routePath(HandoffRoute.signOff, { id: h.id }), { room_id: h.room_id });
    expect(outsider.status).to.equal(403);
    expect(String(outsider.json.error)).to.match(/not a member of this room/);
    const ivyElsewhere = await ivyApi.call("POST", routePath(HandoffRoute.signOff, { id: h.id }), { room_id: s.unitRoom });
    expect(ivyElsewhere.status).to.equal(403);
    expect(String(ivyElsewhere.json.error)).to.match(/belongs to another room/);

    const shown = await api.call("GET", `${routePath(HandoffRoute.handoff, { id: h.id })}?room_id=${encodeURIComponent(h.room_id)}`);
    expect(shown.status, JSON.stringify(shown.json)).to.equal(200);
    const now = shown.json.handoff as HandoffView;
    expect(now).to.include({ status: "started", patient_count: 0 });
    expect(now.sign_offs).to.deep.equal([]);
    expect(now.entries).to.deep.equal([]);
    expect((await audit(h.number)).audit.map((a) => a.action)).to.deep.equal(["started"]);
    const state = await s.waitForHandoff(ivy, h.room_id, (x) => x.id === h.id);
    expect(state).to.deep.include({ status: "started", signed_off_by: [], patient_count: 0 });
  });

  it("reports handoff quality per unit to the admin API", async function () {
    const m = await s.rounds.admin<{ since: string; units: { unit: string; handoffs: number; read_back_share: number | null; questions_per_handoff: number | null; overrides: number }[] }>(
      "/_rounds/admin/v1/handoffs/metrics?unit=4west",
    );
    expect(m.units).to.have.length(1);
    // The first handoff (2 of 2 read back, 1 question) and the overridden one (0 of 1, no question).
    expect(m.units[0]).to.deep.include({ unit: "4west", handoffs: 2, overrides: 1, questions_per_handoff: 0.5 });
    expect(m.units[0]!.read_back_share).to.be.closeTo(2 / 3, 1e-9);
    const bad = await fetch(`${s.rounds.url}/_rounds/admin/v1/handoffs/metrics?since=yesterday`, { headers: { authorization: `Bearer ${s.rounds.adminToken}` } });
    expect(bad.status).to.equal(400);
  });

  it("sends an incident report to the unit's reviewers as a link, without clinical text", async function () {
    expect(first, "the first test's handoff").to.not.equal(null);
    const reply = await s.command(ian, first!.roomId, `!handoff incident 1 omission ${PHI.incident}`);
    const m = /^Thank you: incident (\d+) \(omission\) recorded for patient 1 of handoff #(\d+)\.$/.exec(reply);
    expect(m, reply).to.not.equal(null);
    expect(Number(m![2])).to.equal(first!.number);
    const dm = await s.people.quinn.waitForMessage((b) => b.startsWith(`Incident report #${m![1]}`), { sender: s.handoffBot, what: "the incident notice" });
    expect(dm.body).to.contain(`(omission) from handoff #${first!.number} on 4 West, patient 1, by ${ian.userId}`);
    expect(dm.body).to.match(new RegExp(`https://matrix\\.to/#/${encodeURIComponent(first!.roomId).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/%24`));
    for (const text of Object.values(PHI)) expect(dm.body).to.not.contain(text);
    expect((await audit(first!.number)).audit.map((a) => a.action)).to.include("incident");
  });

  it("after kill -9, a deadline that passed while Rounds was down still reminds both, once, and then escalates", async function () {
    const { ivy } = s.people;
    const { number, roomId } = await start(`4east ${ivy.userId}`, ivy);
    const started = await s.waitForHandoff(olga, roomId, (h) => h.number === number);
    await s.rounds.kill();
    // The scenario is "the deadline passes while Rounds is down": wait out the clock, not an event.
    await untilTime(started.deadline_ts + 1000);
    await s.rounds.start();
    const reminder = await ivy.waitForMessage((b) => b.startsWith(`Reminder: handoff #${number} was due`), { roomId, sender: s.handoffBot, what: "the reminder after the restart", timeoutMs: 60_000 });
    expect(reminder.event.isEncrypted()).to.equal(true);
    const escalated = await s.waitForHandoff(olga, roomId, (h) => h.number === number && h.overdue && h.escalated_to.length > 0, "the escalation after the restart");
    expect(escalated.status).to.equal("started");
    await olga.waitForMessage((b) => b.includes("(charge) has been told and invited"), { roomId, sender: s.handoffBot, what: "the escalation notice" });
    expect((await olga.messages(roomId)).filter((b) => b.startsWith(`Reminder: handoff #${number}`))).to.have.length(1);
    expect((await audit(number)).audit.filter((a) => a.action === "deadline_missed")).to.have.length(1);
  });

  it("leaves no clinical text of any handoff in Synapse's database, nor in Rounds' own logs", async function () {
    for (const f of [s.hs.dbFile, `${s.hs.dbFile}-wal`].filter(existsSync)) {
      const bytes = readFileSync(f);
      for (const [what, text] of Object.entries(PHI)) expect(bytes.includes(Buffer.from(text)), `${f} holds the ${what}`).to.equal(false);
    }
    // Debug level, so every line Rounds wrote is here.
    const logs = JSON.stringify(s.rounds.logs) + s.rounds.stderr;
    expect(logs).to.contain("handoff");
    for (const [what, text] of Object.entries(PHI)) expect(logs.includes(text), `the logs hold the ${what}`).to.equal(false);
  });
});
