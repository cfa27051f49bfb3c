import { expect } from "chai";
import type { IRoomEvent } from "matrix-widget-api";
import { ConsultEventType, StateType } from "../../appservice/shared/events/index.js";
import { consultCapabilities, consultWatch } from "../../widgets/consult-room/capabilities.js";
import { mountWidget } from "../../widgets/lib/mountWidget.js";
import { connectWidget } from "../../widgets/lib/widgetSession.js";
import type { WidgetParams } from "../../widgets/lib/widgetParams.js";
import { setUrl } from "./dom.js";
import { FakeElement, embedIn, installFrame } from "./fakeElement.js";
import { ROOM, consultState } from "./fixtures.js";

describe("widget session with Element", function () {
  let restore: () => Promise<void>;
  const logged: unknown[] = [];
  const log = console.log;
  before(function () {
    console.log = (...args: unknown[]) => logged.push(args);
    restore = installFrame();
  });
  after(async function () {
    console.log = log;
    await restore();
  });

  const params: WidgetParams = { widgetId: "rounds-consult", parentOrigin: "https://element.example", roomId: ROOM, userId: null, theme: "light" };
  const event = (type: string, content: Record<string, unknown>, extra: Partial<IRoomEvent> = {}): IRoomEvent => ({
    type,
    content,
    sender: "@rounds-consult:rounds.test",
    event_id: `$${type}`,
    room_id: ROOM,
    origin_server_ts: 1,
    unsigned: {},
    ...extra,
  });

  it("negotiates its capabilities, takes update_state pushes, and reads past events of its own room", async function () {
    const request = event(ConsultEventType.Request, { service: "cardiology", urgency: "urgent", patient_ref: "Patient/1", question: "A question?" });
    const host = new FakeElement(["0.0.2", "org.matrix.msc2871", "org.matrix.msc2762_update_state"], [request]);
    embedIn(host);
    const themes: string[] = [];
    const session = connectWidget(params, consultCapabilities(ROOM), consultWatch, (t) => themes.push(t));

    await host.approveAll();
    await session.ready;
    const offered = host.fromWidget.find((m) => m.action === "capabilities" && m.response);
    expect(offered?.response?.capabilities).to.deep.equal(consultCapabilities(ROOM));

    const state = event(StateType.Consult, consultState(), { state_key: "01JCONSULT" });
    expect(await host.request("update_state", { state: [state] })).to.deep.equal({});
    expect(session.feed.stateOf(StateType.Consult)).to.have.length(1);

    await session.load();
    const reads = host.fromWidget.filter((m) => m.action === "org.matrix.msc2876.read_events" && !m.response);
    expect(reads.map((m) => [m.data.type, m.data.room_ids])).to.deep.equal([
      [ConsultEventType.Request, [ROOM]],
      [ConsultEventType.Report, [ROOM]],
    ]);
    expect(session.feed.eventsOf(ConsultEventType.Request).map((e) => e.event_id)).to.deep.equal([request.event_id]);

    // Live events and theme changes are acknowledged too, never left to the library's "unsupported" reply.
    const report = event(ConsultEventType.Report, { consult_id: "01JCONSULT", findings: "f", assessment: "a", recommendations: "r" });
    expect(await host.request("send_event", report as unknown as Record<string, unknown>)).to.deep.equal({});
    expect(session.feed.eventsOf(ConsultEventType.Report)).to.have.length(1);
    expect(await host.request("theme_change", { name: "dark" })).to.deep.equal({});
    expect(themes).to.deep.equal(["dark"]);

    // Replies carry no copy of the event, and nothing the widget posts is logged.
    const reportReply = host.fromWidget.find((m) => m.action === "send_event" && m.response);
    expect(reportReply?.data).to.deep.equal({});
    expect(logged).to.deep.equal([]);
  });

  describe("start-up messages", function () {
    const page = (query: string) => `https://rounds.example/_rounds/widgets/consult-room/index.html${query}`;
    const inElement = `?roomId=${encodeURIComponent(ROOM)}&theme=light&widgetId=rounds-consult&parentUrl=${encodeURIComponent("https://element.example/")}`;
    const fetchBefore = globalThis.fetch;
    let app: HTMLElement;
    beforeEach(function () {
      app = document.createElement("div");
      document.body.append(app);
    });
    afterEach(function () {
      globalThis.fetch = fetchBefore;
      app.remove();
      embedIn(null);
    });
    const open = (url: string, host: FakeElement | null) => {
      setUrl(url);
      embedIn(host);
      return mountWidget(app, { capabilities: consultCapabilities, watch: consultWatch, app: ({ viewer }) => <p>Signed in as {viewer}</p> });
    };

    it("says where to open the widget when it is not in Element", async function () {
      await open(page(""), null);
      expect(app.textContent).to.include("Open this widget from a Rounds room in Element.");
    });

    it("shows the API's reason when the OpenID exchange fails, and renders once it succeeds", async function () {
      const creds = { state: "allowed", access_token: "oid", matrix_server_name: "rounds.test", token_type: "Bearer", expires_in: 3600 };
      // A new Response per call: a body can be read once, and a stray second call must not spoil the next answer.
      let answer = () => new Response(JSON.stringify({ errcode: "M_UNAUTHORIZED", error: "The Matrix OpenID token was not accepted by its homeserver." }), { status: 401 });
      globalThis.fetch = async () => answer();
      let host = new FakeElement(["org.matrix.msc2871"], [], creds);
      let started = open(page(inElement), host);
      expect(app.textContent).to.include("Connecting to Element");
      await host.approveAll();
      await started;
      expect(app.textContent).to.include("Could not sign in to Rounds");
      expect(app.textContent).to.include("The Matrix OpenID token was not accepted by its homeserver.");

      answer = () => new Response(JSON.stringify({ token: "t", userId: "@a:rounds.test" }), { status: 200 });
      // The first widget's transport still listens on this window: the reload is a widget of another id, as Element gives a new frame.
      host = new FakeElement(["org.matrix.msc2871"], [], creds);
      host.widgetId = "rounds-consult-reload";
      started = open(page(inElement.replace("widgetId=rounds-consult", "widgetId=rounds-consult-reload")), host);
      await host.approveAll();
      await started;
      expect(app.textContent).to.equal("Signed in as @a:rounds.test");
    });

    it("names the capabilities Element refused", async function () {
      const host = new FakeElement(["org.matrix.msc2871"], []);
      const started = open(page(inElement), host);
      const caps = await host.request("capabilities", {});
      await host.request("notify_capabilities", { requested: caps.capabilities, approved: (caps.capabilities as string[]).slice(0, 4) });
      await started;
      expect(app.textContent).to.include(`Element did not grant what this widget needs (org.matrix.msc2762.send.event:health.rounds.consult.report, org.matrix.msc2762.send.event:health.rounds.consult.note, org.matrix.msc2762.timeline:${ROOM}, org.matrix.msc4039.download_file).`);
    });
  });
});
