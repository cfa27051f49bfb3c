import { expect } from "chai";
import type { IRoomEvent } from "matrix-widget-api";
import { ConsultEventType, StateType } from "../../appservice/shared/events/index.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import { ApiSession } from "../../widgets/lib/apiSession.js";
import { httpConsultApi } from "../../widgets/lib/consultApi.js";
import { downloadDecrypted, uploadEncrypted } from "../../widgets/lib/encryptedFiles.js";
import { RoomFeed } from "../../widgets/lib/roomFeed.js";
import { readWidgetParams } from "../../widgets/lib/widgetParams.js";
import { consultCapabilities } from "../../widgets/consult-room/capabilities.js";
import { readConsultRoom } from "../../widgets/consult-room/roomData.js";
import { consultsCapabilities } from "../../widgets/consult-dashboard/capabilities.js";
import { ROOM, consultState } from "./fixtures.js";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("widget start-up and API client", function () {
  it("reads Element's parameters, and refuses a page not opened by Element", function () {
    const base = "https://rounds.example/_rounds/widgets/consult-room/index.html";
    const url = `${base}?roomId=${encodeURIComponent(ROOM)}&userId=%40a%3Arounds.test&theme=dark&widgetId=rounds-consult&parentUrl=${encodeURIComponent("https://element.example/#/room/!x")}`;
    expect(readWidgetParams(url, true)).to.deep.equal({
      widgetId: "rounds-consult",
      parentOrigin: "https://element.example",
      roomId: ROOM,
      userId: "@a:rounds.test",
      theme: "dark",
    });
    expect(readWidgetParams(url.replace("theme=dark", "theme=light-high-contrast"), true)?.theme).to.equal("light-high-contrast");
    expect(readWidgetParams(url, false), "not in a frame").to.equal(null);
    expect(readWidgetParams(base, true), "no parameters").to.equal(null);
    expect(readWidgetParams(url.replace(encodeURIComponent(ROOM), "$matrix_room_id"), true), "variables not filled in").to.equal(null);
  });

  it("asks for exactly its capabilities, scoped to its own room", function () {
    expect(consultCapabilities(ROOM)).to.deep.equal([
      "org.matrix.msc2762.receive.state_event:health.rounds.consult",
      "org.matrix.msc2762.receive.state_event:m.room.create",
      "org.matrix.msc2762.receive.event:health.rounds.consult.request",
      "org.matrix.msc2762.receive.event:health.rounds.consult.report",
      "org.matrix.msc2762.send.event:health.rounds.consult.report",
      "org.matrix.msc2762.send.event:health.rounds.consult.note",
      `org.matrix.msc2762.timeline:${ROOM}`,
      "org.matrix.msc4039.download_file",
    ]);
    expect(consultsCapabilities("!dm:rounds.test")).to.deep.equal([
      "org.matrix.msc2762.send.event:health.rounds.consult.request",
      "org.matrix.msc4039.upload_file",
      "org.matrix.msc2762.timeline:!dm:rounds.test",
    ]);
  });

  it("exchanges the OpenID token, sends the bearer token, and renews an expired session once", async function () {
    const seen: { url: string; auth: string | null; body: unknown }[] = [];
    let tokens = 0;
    let expireNext = false;
    const fetcher = async (url: string, init: RequestInit) => {
      seen.push({ url, auth: new Headers(init.headers).get("authorization"), body: init.body ? JSON.parse(String(init.body)) : undefined });
      if (url.endsWith("/v1/exchange_openid")) return json(200, { token: `session${++tokens}`, userId: "@a:rounds.test" });
      if (expireNext) return ((expireNext = false), json(401, { errcode: "M_AS_BAD_TOKEN", error: "Token expired" }));
      return json(200, { incoming: [], outgoing: [], archive: [] });
    };
    const session = new ApiSession(async () => ({ access_token: "oid", matrix_server_name: "rounds.test", token_type: "Bearer", expires_in: 3600 }), fetcher);
    expect(await session.signIn()).to.equal("@a:rounds.test");
    const api = httpConsultApi(session);
    await api.mine();
    expireNext = true;
    await api.accept("01J", { room_id: ROOM, expected_minutes: 30 });
    expect(seen.map((s) => [s.url, s.auth])).to.deep.equal([
      ["/_rounds/widget/api/v1/exchange_openid", null],
      ["/_rounds/widget/api/v1/consult/mine", "Bearer session1"],
      ["/_rounds/widget/api/v1/consult/consults/01J/accept", "Bearer session1"],
      ["/_rounds/widget/api/v1/exchange_openid", null],
      ["/_rounds/widget/api/v1/consult/consults/01J/accept", "Bearer session2"],
    ]);
    expect(seen[0]!.body).to.deep.equal({ openIdToken: "oid", matrixServer: "rounds.test" });
    expect(seen[4]!.body).to.deep.equal({ room_id: ROOM, expected_minutes: 30 });
  });

  it("turns refusals into the API's own words, and says so when the server never answered", async function () {
    const answer = (res: Response | Error) => async () => {
      if (res instanceof Error) throw res;
      return res;
    };
    const creds = async () => ({ access_token: "oid", matrix_server_name: "rounds.test" });
    const fail = (fetcher: () => Promise<Response>) => new ApiSession(creds, fetcher).signIn().then(
      () => expect.fail("should fail"),
      (e: unknown) => e as ApiError,
    );
    const refused = await fail(answer(json(401, { errcode: "M_UNAUTHORIZED", error: "The Matrix OpenID token was not accepted by its homeserver." })));
    expect(refused).to.be.instanceOf(ApiError);
    expect(refused.message).to.equal("The Matrix OpenID token was not accepted by its homeserver.");
    expect((await fail(answer(new Response("<html>Bad gateway</html>", { status: 502 })))).message).to.include("HTTP 502");
    expect((await fail(answer(new TypeError("fetch failed")))).message).to.equal("Could not reach the Rounds server. Check your connection and try again.");
  });

  it("uploads only ciphertext and decrypts it back on download", async function () {
    const plain = new TextEncoder().encode("%PDF-1.7 patient ECG");
    const store = new Map<string, Blob>();
    const attachment = await uploadEncrypted(
      async (blob) => (store.set("mxc://rounds.test/1", blob), "mxc://rounds.test/1"),
      new File([plain], "ecg.pdf", { type: "application/pdf" }),
      "application/pdf",
    );
    const uploaded = new Uint8Array(await store.get("mxc://rounds.test/1")!.arrayBuffer());
    expect(store.get("mxc://rounds.test/1")!.type).to.equal("application/octet-stream");
    expect(Buffer.from(uploaded).includes(Buffer.from("patient"))).to.equal(false);
    expect(attachment).to.deep.include({ name: "ecg.pdf", mimetype: "application/pdf", size: plain.length });
    expect(attachment.file.url).to.equal("mxc://rounds.test/1");
    const back = await downloadDecrypted(async (mxc) => store.get(mxc)!, attachment);
    expect(new Uint8Array(await back.arrayBuffer())).to.deep.equal(plain);
    expect(back.type).to.equal("application/pdf");
  });
});

describe("consult room data", function () {
  let n = 0;
  const ev = (type: string, content: Record<string, unknown>, extra: Partial<IRoomEvent> = {}): IRoomEvent => ({
    type,
    content,
    sender: "@rounds-consult:rounds.test",
    event_id: `$e${++n}`,
    room_id: ROOM,
    origin_server_ts: 1000 + n,
    unsigned: {},
    ...extra,
  });
  const report = (over: Record<string, unknown> = {}) => ({ consult_id: "01JCONSULT", findings: "f", assessment: "a", recommendations: "r", ...over });

  const warnings: unknown[][] = [];
  const warn = console.warn;
  before(() => (console.warn = (...args: unknown[]) => warnings.push(args)));
  after(() => (console.warn = warn));

  it("follows the consult state, the bot's relayed request and the consultant's report, ignoring forgeries", function () {
    const feed = new RoomFeed(ROOM);
    let changes = 0;
    feed.subscribe(() => changes++);
    expect(readConsultRoom(feed)).to.deep.equal({ consult: null, request: null, report: null });

    const intruder = { sender: "@care-team:rounds.test" };
    const consultant = { sender: "@cardio:rounds.test" };
    feed.addState([ev(StateType.Consult, consultState({ status: "in_progress", consultant: consultant.sender }), { state_key: "01JCONSULT" }), ev(StateType.Consult, { id: "bad" }, { state_key: "02" })]);
    feed.addEvents([
      ev(ConsultEventType.Request, { service: "cardiology", urgency: "urgent", patient_ref: "Patient/1", question: "Is this a question?", consult_id: "other" }),
      ev(ConsultEventType.Request, { service: "cardiology", urgency: "urgent", patient_ref: "Patient/1", question: "The relayed question?", consult_id: "01JCONSULT" }, { event_id: "$relayed" }),
      ev(ConsultEventType.Request, { question: "invalid" }),
      ev(ConsultEventType.Report, report({ findings: "draft" }), consultant),
      ev(ConsultEventType.Report, report({ findings: "final" }), { event_id: "$final", ...consultant }),
      ev("m.room.message", { body: "hi" }, { room_id: "!elsewhere:rounds.test" }),
      // Anyone in the room can send these (power levels cannot guard encrypted events): ignored.
      ev(ConsultEventType.Request, { service: "cardiology", urgency: "urgent", patient_ref: "Patient/666", question: "A forged question here?", consult_id: "01JCONSULT" }, intruder),
      ev(ConsultEventType.Report, report({ findings: "forged" }), intruder),
    ]);
    const data = readConsultRoom(feed);
    expect(data.consult?.number).to.equal(7);
    expect(data.request).to.deep.include({ eventId: "$relayed" });
    expect(data.request?.content.question).to.equal("The relayed question?");
    expect(data.report?.findings).to.equal("final");
    expect(changes).to.equal(2);

    // Invalid events are dropped with one log line each, naming the event and nothing of its content.
    expect(warnings.map((w) => String(w[0]))).to.deep.equal(["Rounds: ignoring an invalid event $e2", `Rounds: ignoring an invalid event $e${n - 5}`]);

    // Content {} removes the state.
    feed.addState([ev(StateType.Consult, {}, { state_key: "01JCONSULT" })]);
    expect(readConsultRoom(feed).consult).to.equal(null);
  });
});
