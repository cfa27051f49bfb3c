import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { decryptAttachment } from "../../appservice/shared/attachmentCrypto.js";
import { ConsultStateSchema, StateType, WidgetStateType } from "../../appservice/shared/events/index.js";
import { WidgetRoute } from "../../appservice/shared/consultWidgetApi.js";
import { routePath } from "../../appservice/shared/widgetApiPaths.js";
import type { TestClinician } from "../harness/clinician.js";
import { startConsultScenario, type ConsultScenario } from "../harness/consultScenario.js";
import { waitUntil } from "../harness/waitUntil.js";

/** Clinical text used below; none of it may reach Synapse's database in plaintext. */
const PHI = {
  question: "Is the new broad complex tachycardia in this patient ventricular in origin",
  ref: "Encounter/enc-778201",
  findings: "Fusion beats seen on the rhythm strip",
  reason: "Outside my subspecialty please ask electrophysiology",
};

describe("specialist consultations by chat and widget API (real Synapse, E2EE clients)", function () {
  let s: ConsultScenario;
  let wendy: TestClinician;
  let lena: TestClinician;
  let liam: TestClinician;

  before(async function () {
    s = await startConsultScenario({ ROUNDS_CONSULT_ACCEPT_EMERGENT: "3", ROUNDS_WIDGET_SESSION_SECONDS: "20", ROUNDS_WIDGET_RATE_LIMIT: "60" });
    ({ wendy, lena, liam } = s.people);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") s.rounds.dumpLogs(120);
  });
  after(async () => s?.stop());

  /** Sends a consult request from Wendy's DM and returns the consult room and number. */
  async function request(text: string): Promise<{ number: number; roomId: string; reply: string }> {
    const cmd = await wendy.send(s.dm, text);
    const reply = await wendy.waitForNotice(s.dm, s.consultBot, { after: cmd });
    const m = /^Consult #(\d+) sent to .* It is discussed in https:\/\/matrix\.to\/#\/(!\S+?)\.?$/s.exec(reply.body);
    expect(m, reply.body).to.not.equal(null);
    return { number: Number(m![1]), roomId: m![2]!, reply: reply.body };
  }

  it("routes a consult to the on-call, which accepts, starts and completes it with a report and an encrypted attachment", async function () {
    const { number, roomId, reply } = await request(`!consult cardiology urgent ${PHI.ref} ${PHI.question}?`);
    expect(reply).to.contain(`sent to ${lena.userId}`);

    // Lena is invited and rung: an encrypted m.text that mentions her, with the question.
    const msg = await lena.waitForMessage((b) => b.includes(`#${number}`) && b.includes(PHI.question), { roomId, what: "the consult request" });
    expect(msg.event.isEncrypted()).to.equal(true);
    expect(msg.event.getContent()["m.mentions"]).to.deep.equal({ user_ids: [lena.userId] });

    // The room: bot-only consult state with no PHI, and the consult widget pinned.
    const state = await s.waitForConsult(lena, roomId, (c) => c.number === number && c.status === "requested");
    expect(state.candidates).to.deep.equal([lena.userId]);
    expect(JSON.stringify(state)).to.not.contain("tachycardia").and.not.contain("enc-778201");
    const widget = lena.state(roomId, WidgetStateType.Widget, "rounds-consult");
    expect(String(widget?.url)).to.match(/\/_rounds\/widgets\/consult-room\/index\.html\?roomId=\$matrix_room_id/);
    expect(lena.state(roomId, WidgetStateType.Layout, "")).to.deep.include({ widgets: { "rounds-consult": { container: "top", index: 0, width: 100, height: 40 } } });

    const acceptId = await lena.send(roomId, "!consult accept 45m");
    expect((await lena.waitForNotice(roomId, s.consultBot, { after: acceptId })).body).to.match(new RegExp(`^You accepted consult #${number}\\. Expected response by`));
    const accepted = await s.waitForConsult(wendy, roomId, (c) => c.status === "accepted");
    expect(accepted.consultant).to.equal(lena.userId);
    expect(accepted.expected_response_minutes).to.equal(45);
    expect(accepted.respond_by_ts! - accepted.accepted_ts!).to.equal(45 * 60_000);

    // Starting is optional (!consult complete on an accepted consult starts it too); this clinician starts first.
    const startId = await lena.send(roomId, "!consult start");
    expect((await lena.waitForNotice(roomId, s.consultBot, { after: startId })).body).to.equal(`Consult #${number} is in progress.`);
    const done = await lena.send(
      roomId,
      `!consult complete\nFindings: ${PHI.findings}\nAssessment: Ventricular tachycardia likely\nRecommendations: Amiodarone load; EP review\nFollow-up: Review in clinic in 2 weeks\nBilling: initial inpatient moderate 50`,
    );
    expect((await lena.waitForNotice(roomId, s.consultBot, { after: done })).body).to.equal(`Consult #${number} is complete; the report is posted in its room.`);

    // The report: an encrypted message and an encrypted Markdown attachment, with the billing suggestion.
    const report = await wendy.waitForMessage((b) => b.includes(PHI.findings) && /Recommendations/.test(b), { roomId, sender: s.consultBot, what: "the report" });
    expect(report.event.isEncrypted()).to.equal(true);
    expect(report.body).to.match(/99254/).and.match(/suggestion/i);
    const file = await wendy.waitForMessage((_b, ev) => ev.getContent().msgtype === "m.file", { roomId, what: "the report attachment" });
    const content = file.event.getContent() as { file: { url: string } & Parameters<typeof decryptAttachment>[1]; info: { mimetype: string } };
    expect(content.info.mimetype).to.equal("text/markdown");
    const media = await fetch(wendy.client.mxcUrlToHttp(content.file.url, undefined, undefined, undefined, false, true, true)!, {
      headers: { authorization: `Bearer ${wendy.client.getAccessToken()}` },
    });
    const cipher = new Uint8Array(await media.arrayBuffer());
    expect(Buffer.from(cipher).includes(Buffer.from(PHI.findings))).to.equal(false);
    const markdown = new TextDecoder().decode(await decryptAttachment(cipher, content.file));
    for (const heading of ["Findings", "Assessment", "Recommendations", "Follow-up"]) expect(markdown).to.contain(heading);
    expect(markdown).to.contain(PHI.findings).and.contain(PHI.ref);

    const completed = await s.waitForConsult(wendy, roomId, (c) => c.status === "completed");
    expect(completed.report_event_id).to.equal(report.event.getId());

    const rate = await wendy.send(roomId, "!consult rate 5 advice_followed");
    expect((await wendy.waitForNotice(roomId, s.consultBot, { after: rate })).body).to.equal(`Thank you: consult #${number} rated 5/5.`);
  });

  it("routes to an available preferred specialist through the widget API, and declines re-route with the request quoted again", async function () {
    // The widget path: the structured request is an encrypted event in Wendy's room with the bot.
    const { event_id } = await wendy.client.sendEvent(s.dm, "health.rounds.consult.request" as never, {
      service: "cardiology",
      urgency: "routine",
      preferred_specialist: liam.userId,
      patient_ref: PHI.ref,
      question: `${PHI.question} (second opinion)`,
    } as never);
    const api = await s.widgetSession(wendy);
    const created = await api.call("POST", WidgetRoute.createConsult, { room_id: s.dm, event_id });
    expect(created.status, JSON.stringify(created.json)).to.equal(200);
    const consult = created.json.consult as { id: string; number: number; room_id: string; candidates: string[] };
    expect(consult.candidates).to.deep.equal([liam.userId]);
    // The same event again (the widget retried, or the inbox saw it) is the same consult.
    const again = await api.call("POST", WidgetRoute.createConsult, { room_id: s.dm, event_id });
    expect((again.json.consult as { id: string }).id).to.equal(consult.id);

    await liam.waitForMessage((b) => b.includes(`#${consult.number}`) && b.includes("second opinion"), { roomId: consult.room_id, what: "the request" });
    const liamApi = await s.widgetSession(liam);
    const decline = (body: Record<string, unknown>) => liamApi.call("POST", routePath(WidgetRoute.decline, { id: consult.id }), { room_id: consult.room_id, ...body });
    // A decline needs a reason, and the reason's text never crosses the API: it is an encrypted note named by its id.
    const noReason = await decline({ reason: PHI.reason });
    expect(noReason.status).to.equal(400);
    expect(String(noReason.json.error)).to.match(/^reason: this widget is out of date: close and reopen it/);
    expect(String(noReason.json.error)).to.not.contain(PHI.reason);
    const noNote = await decline({});
    expect(noNote.status).to.equal(400);
    expect(String(noNote.json.error)).to.match(/reason_event_id/);
    const note = (who: TestClinician, text: string) =>
      who.client.sendEvent(consult.room_id, "health.rounds.consult.note" as never, { consult_id: consult.id, kind: "decline", text } as never).then((r) => r.event_id);
    const wendysNote = await decline({ reason_event_id: await note(wendy, PHI.reason) });
    expect(wendysNote.status).to.equal(400);
    expect(String(wendysNote.json.error)).to.match(/not your encrypted reason for declining/);
    const declined = await decline({ reason_event_id: await note(liam, PHI.reason) });
    expect(declined.status, JSON.stringify(declined.json)).to.equal(200);

    // Lena, invited after the request was sent, gets it quoted again and can read it.
    const requoted = await lena.waitForMessage((b) => b.includes(`#${consult.number}`) && b.includes("second opinion"), { roomId: consult.room_id, what: "the re-quoted request" });
    expect(requoted.event.isEncrypted()).to.equal(true);
    await wendy.waitForMessage((b) => b.includes(PHI.reason), { roomId: consult.room_id, what: "the decline reason" });
    const state = await s.waitForConsult(wendy, consult.room_id, (c) => c.candidates.length === 2);
    expect(state.candidates).to.deep.equal([liam.userId, lena.userId]);
    expect(state.declined_by).to.deep.equal([liam.userId]);
    expect(JSON.stringify(state)).to.not.contain("electrophysiology");

    // Liam declined: he can no longer accept, and the refusal changes nothing.
    const late = await liamApi.call("POST", routePath(WidgetRoute.accept, { id: consult.id }), { room_id: consult.room_id });
    expect(late.status).to.be.oneOf([403, 409]);
    expect(ConsultStateSchema.parse(wendy.state(consult.room_id, StateType.Consult, consult.id)).status).to.equal("requested");
    // ✅ on the quoted request accepts for Lena.
    await lena.react(consult.room_id, requoted.event.getId()!, "✅");
    const accepted = await s.waitForConsult(wendy, consult.room_id, (c) => c.status === "accepted");
    expect(accepted.consultant).to.equal(lena.userId);
  });

  it("routes to the on-call when the preferred specialist is absent, and says so", async function () {
    const today = new Date().toISOString().slice(0, 10);
    await s.rounds.admin("/_rounds/admin/v1/absences?force=1", { method: "POST", body: JSON.stringify({ user: s.people.sam.userId, start: today, end: today }) });
    const { event_id } = await wendy.client.sendEvent(s.dm, "health.rounds.consult.request" as never, {
      service: "cardiology",
      urgency: "urgent",
      preferred_specialist: s.people.sam.userId,
      patient_ref: PHI.ref,
      question: "Please review the echo findings before discharge",
    } as never);
    const api = await s.widgetSession(wendy);
    const created = await api.call("POST", WidgetRoute.createConsult, { room_id: s.dm, event_id });
    const consult = created.json.consult as { number: number; room_id: string; candidates: string[] };
    expect(consult.candidates).to.deep.equal([lena.userId]);
    await lena.waitForMessage((b) => b.includes(`#${consult.number}`) && b.includes("not available"), { roomId: consult.room_id, what: "the routing note" });
  });

  it("escalates a consult nobody accepts in time, then tells the coordinator when nobody is left", async function () {
    const { number, roomId } = await request(`!consult cardiology emergent ${PHI.ref} Sudden hypotension after cardioversion, advice needed`);
    // 3 s to accept: then Liam (the next step) is invited and gets the request.
    await liam.waitForMessage((b) => b.includes(`#${number}`) && b.includes("hypotension"), { roomId, what: "the escalated request", timeoutMs: 30_000 });
    const escalated = await s.waitForConsult(wendy, roomId, (c) => c.candidates.length === 2);
    expect(escalated.candidates).to.deep.equal([lena.userId, liam.userId]);
    // Another 3 s: nobody left, so the coordinator hears of it (without clinical text).
    const exhausted = await s.waitForConsult(wendy, roomId, (c) => c.exhausted, "exhausted consult");
    expect(exhausted.status).to.equal("requested");
    const dm = await s.people.cora.waitForMessage((b) => b.includes(`#${number}`), { what: "the coordinator's notice", timeoutMs: 30_000 });
    expect(dm.body).to.not.contain("hypotension");
    // Earlier candidates may still accept.
    const acceptId = await lena.send(roomId, "!consult accept");
    expect((await lena.waitForNotice(roomId, s.consultBot, { after: acceptId })).body).to.match(/^You accepted consult/);
  });

  it("refuses forged consult state and widget state from a clinician (power levels)", async function () {
    const { roomId } = await request(`!consult cardiology routine ${PHI.ref} Routine review of anticoagulation plan please`);
    await s.waitForConsult(lena, roomId, (c) => c.status === "requested");
    const forge = (type: string, key: string, content: Record<string, unknown>) =>
      lena.client.sendStateEvent(roomId, type as never, content as never, key).then(
        () => "accepted",
        (err: { errcode?: string }) => err.errcode,
      );
    expect(await forge(StateType.Consult, "forged", { status: "completed" })).to.equal("M_FORBIDDEN");
    expect(await forge(WidgetStateType.Widget, "rounds-consult", { url: "https://evil.example/" })).to.equal("M_FORBIDDEN");
  });

  it("refuses forged widget API calls: a bad OpenID token, a user not in the room, an expired session; and rate-limits", async function () {
    const bad = await fetch(`${s.rounds.url}/_rounds/widget/api/v1/exchange_openid`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ openIdToken: "not-a-real-token", matrixServer: s.hs.serverName }),
    });
    expect(bad.status).to.equal(401);
    const noToken = await fetch(`${s.rounds.url}/_rounds/widget/api${WidgetRoute.mine}`);
    expect(noToken.status).to.equal(401);

    const { number, roomId } = await request(`!consult cardiology routine ${PHI.ref} Review of the pacemaker check results please`);
    const state = await s.waitForConsult(lena, roomId, (c) => c.number === number);
    // Sam is not in the consult room: his valid session cannot act on it.
    const sam = await s.widgetSession(s.people.sam);
    const intruder = await sam.call("POST", routePath(WidgetRoute.accept, { id: state.id }), { room_id: roomId });
    expect(intruder.status).to.equal(403);
    expect(String(intruder.json.error)).to.match(/not a member of this room/);
    expect(ConsultStateSchema.parse(lena.state(roomId, StateType.Consult, state.id)).status).to.equal("requested");
    // Naming a room he is in does not help: the consult belongs to another room.
    const elsewhere = await sam.call("POST", routePath(WidgetRoute.accept, { id: state.id }), { room_id: s.dm });
    expect(elsewhere.status).to.equal(403);
    // Malformed input names the field.
    const lenaApi = await s.widgetSession(lena);
    const malformed = await lenaApi.call("POST", routePath(WidgetRoute.accept, { id: state.id }), { room_id: roomId, expected_minutes: "soon" });
    expect(malformed.status).to.equal(400);
    expect(String(malformed.json.error)).to.match(/^expected_minutes:/);

    // Sessions expire (20 s here).
    const madeAt = Date.now();
    const expiring = await s.widgetSession(s.people.cora);
    expect((await expiring.call("GET", WidgetRoute.mine)).status).to.equal(200);
    // Nothing announces an expiry: wait out the lifetime on the clock, then the same token is refused.
    await waitUntil(async () => Date.now() > madeAt + 20_500, "the session lifetime to pass", 45_000);
    const expired = await expiring.call("GET", WidgetRoute.mine);
    expect(expired.status).to.equal(401);
    expect(String(expired.json.error)).to.match(/expired/i);

    // 60 calls a minute per session; the 61st is refused.
    const busy = await s.widgetSession(lena);
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await busy.call("GET", WidgetRoute.services)).status);
    expect(statuses.slice(0, 50).every((c) => c === 200), statuses.join(",")).to.equal(true);
    expect(statuses.at(-1), statuses.join(",")).to.equal(429);
  });

  it("refuses an oversized attachment on every path, without naming the file, and makes no consult", async function () {
    const before = (await (await s.widgetSession(wendy)).call("GET", WidgetRoute.mine)).json as { outgoing: unknown[] };
    const huge = {
      service: "cardiology",
      urgency: "routine",
      patient_ref: PHI.ref,
      question: "Please review the attached angiogram series",
      attachments: [
        {
          name: "angio.dcm",
          mimetype: "application/dicom",
          size: 26 * 1024 * 1024,
          file: { url: "mxc://rounds.test/abc", key: { kty: "oct", alg: "A256CTR", k: "a2V5", key_ops: ["encrypt", "decrypt"], ext: true }, iv: "aXY", hashes: { sha256: "aGFzaA" }, v: "v2" },
        },
      ],
    };
    const { event_id } = await wendy.client.sendEvent(s.dm, "health.rounds.consult.request" as never, huge as never);
    const api = await s.widgetSession(wendy);
    const refused = await api.call("POST", WidgetRoute.createConsult, { room_id: s.dm, event_id });
    expect(refused.status).to.equal(400);
    expect(String(refused.json.error)).to.match(/^An attachment is larger than 25 MB/).and.not.contain("angio");
    // The inbox sees the same event and refuses it too, saying why.
    const notice = await wendy.waitForNotice(s.dm, s.consultBot, { after: event_id });
    expect(notice.body).to.match(/larger than 25 MB/);

    const after = (await api.call("GET", WidgetRoute.mine)).json as { outgoing: unknown[] };
    expect(after.outgoing.length).to.equal(before.outgoing.length);
  });

  it("limits token guessing per address, whatever Authorization header each call carries", async function () {
    // 60 a minute per user here, so 300 per address before authentication.
    const statuses: number[] = [];
    for (let i = 0; i < 320 && !statuses.includes(429); i++) {
      const res = await fetch(`${s.rounds.url}/_rounds/widget/api${WidgetRoute.mine}`, { headers: { authorization: `Bearer guess-${i}` } });
      statuses.push(res.status);
    }
    expect(statuses[0]).to.equal(401);
    expect(statuses.at(-1)).to.equal(429);
  });

  it("leaves no clinical text of any consult in Synapse's database", async function () {
    for (const f of [s.hs.dbFile, `${s.hs.dbFile}-wal`].filter(existsSync)) {
      const bytes = readFileSync(f);
      for (const [what, text] of Object.entries(PHI)) expect(bytes.includes(Buffer.from(text)), `${f} holds the ${what}`).to.equal(false);
      expect(bytes.includes(Buffer.from("Sudden hypotension")), `${f} holds a question`).to.equal(false);
    }
  });
});
