import { expect } from "chai";
import { MatrixEventEvent, RoomEvent, type MatrixEvent } from "matrix-js-sdk";
import type { IRoomEvent } from "matrix-widget-api";
import { installedWidgets, openWidget, type OpenWidgetOptions, type WidgetHandle, type WidgetTimings } from "../harness/browser.js";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { waitUntil } from "../harness/waitUntil.js";
import { DOWNLOAD_FILE, PROBE_EVENT, PROBE_STATE, probeCapabilities } from "./fixtures/probe/capabilities.js";
import "./fixtures/probe/probeApi.js";
import { serveProbe, type ProbeServer } from "./fixtures/probe/serve.js";

/** Resolves with the event once `t`'s client has it decrypted. */
function decryptedBy(t: TestClinician, roomId: string, eventId: string, timeoutMs = 30_000): Promise<MatrixEvent> {
  return new Promise((resolve, reject) => {
    const consider = async (ev: MatrixEvent) => {
      if (ev.getId() !== eventId) return;
      await t.client.decryptEventIfNeeded(ev);
      if (ev.isDecryptionFailure() || ev.getType() === "m.room.encrypted") return;
      cleanup();
      resolve(ev);
    };
    const onEvent = (ev: MatrixEvent) => void consider(ev);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${t.userId} did not decrypt ${eventId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      t.client.off(RoomEvent.Timeline, onEvent);
      t.client.off(MatrixEventEvent.Decrypted, onEvent);
    };
    t.client.on(RoomEvent.Timeline, onEvent);
    t.client.on(MatrixEventEvent.Decrypted, onEvent);
    const known = t.client.getRoom(roomId)?.findEventById(eventId);
    if (known) void consider(known);
  });
}

describe("widget host: a widget in real Chromium, driven by a real E2EE client (real Synapse)", function () {
  let hs: TestHomeserver;
  let alice: TestClinician;
  let bob: TestClinician;
  let roomId: string;
  let probe: ProbeServer;
  let opened = 0;
  const open: WidgetHandle[] = [];
  const timings: WidgetTimings[] = [];

  before(async function () {
    hs = await getHomeserver();
    [alice, bob, probe] = await Promise.all([
      TestClinician.create(hs, "alice", "Dr Alice Widget"),
      TestClinician.create(hs, "bob", "Dr Bob Widget"),
      serveProbe(),
    ]);
    bob.acceptInvites();
    roomId = await alice.openEncryptedDm(bob.userId);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  after(async () => {
    alice?.stop();
    bob?.stop();
    await probe?.close();
    if (timings.length > 0) {
      const spread = (ms: number[]) => `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)} ms`;
      const loaded = timings.flatMap((t) => (t.iframeLoadedMs === null ? [] : [t.iframeLoadedMs - t.iframeCreatedMs]));
      console.log(
        `      probe widget over ${timings.length} opens: iframe created → loaded ${spread(loaded)}, → widget API ready ${spread(timings.map((t) => t.iframeToReadyMs))}`,
      );
    }
  });

  /** Opens the probe for alice in the room and waits until the widget itself says it is ready. */
  async function openProbe(extra: Partial<OpenWidgetOptions> = {}): Promise<WidgetHandle> {
    const handle = await openWidget({ clinician: alice, roomId, widget: { id: `probe-${++opened}`, url: probe.templateUrl, name: "Probe" }, ...extra });
    open.push(handle);
    timings.push(handle.timings);
    await handle.frame.getByLabel("Probe status").filter({ hasText: "ready" }).waitFor();
    return handle;
  }

  /** Waits until the widget has received an event matching `match` (evaluated in the widget). */
  async function received(h: WidgetHandle, via: "update_state" | "send_event", match: Partial<IRoomEvent> & { content?: Record<string, unknown> }): Promise<IRoomEvent> {
    const found = await h.frame.waitForFunction(
      ([v, m]) =>
        window.probe.received.find(
          (r) =>
            r.via === v &&
            Object.entries(m).every(([k, want]) =>
              k === "content"
                ? Object.entries(want as object).every(([ck, cv]) => (r.event.content as Record<string, unknown>)[ck] === cv)
                : (r.event as unknown as Record<string, unknown>)[k] === want,
            ),
        )?.event,
      [via, match] as const,
      { timeout: 30_000 },
    );
    return (await found.jsonValue()) as IRoomEvent;
  }

  it("opens a widget installed in the room from its own origin, with Element's template variables, widgetId and parentUrl", async function () {
    const installed = { id: "probe-installed", type: "m.custom", url: probe.templateUrl, name: "Probe", data: {} };
    await alice.client.sendStateEvent(roomId, "im.vector.modular.widgets" as never, installed as never, installed.id);
    const widget = await waitUntil(async () => installedWidgets(alice, roomId).find((w) => w.id === installed.id), "alice to sync the widget");

    const h = await openProbe({ widget });
    const params = await h.frame.evaluate(() => window.probe.params);
    expect(params).to.include({
      room: roomId,
      user: alice.userId,
      name: "Dr Alice Widget",
      widget: "probe-installed",
      theme: "light",
      lang: "en",
      hs: hs.url,
      widgetId: "probe-installed",
      parentUrl: h.page.url(),
    });
    expect(new URL(h.frame.url()).origin).to.equal(probe.origin);
    expect(new URL(h.page.url()).origin).to.not.equal(probe.origin);
    expect(h.timings.readyMs).to.be.greaterThan(h.timings.iframeCreatedMs);
  });

  it("negotiates capabilities: the host sees exactly the widget's list, and a denied one is not approved", async function () {
    const h = await openProbe({ capabilities: { deny: [DOWNLOAD_FILE] } });
    expect(await h.requestedCapabilities()).to.have.same.members([...probeCapabilities]);
    const granted = probeCapabilities.filter((c) => c !== DOWNLOAD_FILE);
    expect(await h.approvedCapabilities()).to.have.same.members(granted);

    const seen = await h.frame.evaluate((denied) => ({ notified: window.probe.notified, canDownload: window.probe.hasCapability(denied) }), DOWNLOAD_FILE);
    expect(seen.notified?.approved).to.have.same.members(granted);
    expect(seen.canDownload).to.equal(false);
    const refusal = await h.frame.evaluate(() => window.probe.download("mxc://rounds.test/nothing").then(() => "downloaded", (e: Error) => e.message));
    expect(refusal).to.equal("Missing capability");
  });

  it("pushes room state set by another clinician to the widget, then a later change live", async function () {
    const key = `consult-${Date.now()}`;
    await bob.client.sendStateEvent(roomId, PROBE_STATE as never, { status: "requested" } as never, key);
    await waitUntil(async () => alice.state(roomId, PROBE_STATE, key)?.status === "requested", "alice to sync the state");

    const h = await openProbe();
    const initial = await received(h, "update_state", { type: PROBE_STATE, state_key: key, content: { status: "requested" } });
    expect(initial.sender).to.equal(bob.userId);
    const read = await h.frame.evaluate(([t, k]) => window.probe.readState(t, k), [PROBE_STATE, key] as const);
    expect(read.map((e) => e.content)).to.deep.include({ status: "requested" });

    await bob.client.sendStateEvent(roomId, PROBE_STATE as never, { status: "accepted" } as never, key);
    const update = await received(h, "update_state", { type: PROBE_STATE, state_key: key, content: { status: "accepted" } });
    expect(update.room_id).to.equal(roomId);
  });

  it("sends the widget's event encrypted: the server holds m.room.encrypted, another clinician decrypts the original", async function () {
    const h = await openProbe();
    const content = { note: `probe note ${Date.now()}`, step: 3 };
    const sent = await h.frame.evaluate(([t, c]) => window.probe.send(t, c), [PROBE_EVENT, content] as const);
    expect(sent.room_id).to.equal(roomId);
    const eventId = sent.event_id!;

    const res = await fetch(`${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, {
      headers: { Authorization: `Bearer ${alice.client.getAccessToken()}` },
    });
    const raw = (await res.json()) as { type: string; content: Record<string, unknown> };
    expect(raw.type).to.equal("m.room.encrypted");
    expect(raw.content.algorithm).to.equal("m.megolm.v1.aes-sha2");
    expect(JSON.stringify(raw)).to.not.include(content.note);

    const atBob = await decryptedBy(bob, roomId, eventId);
    expect(atBob.getType()).to.equal(PROBE_EVENT);
    expect(atBob.getContent()).to.deep.equal(content);
    expect(atBob.getSender()).to.equal(alice.userId);
  });

  it("gives the widget another clinician's encrypted message decrypted, live and when it reads", async function () {
    const h = await openProbe();
    const body = `Please review the overnight observations (${Date.now()})`;
    const eventId = await bob.send(roomId, body);

    const live = await received(h, "send_event", { event_id: eventId });
    expect(live.type).to.equal("m.room.message");
    expect(live.sender).to.equal(bob.userId);
    expect(live.content).to.include({ msgtype: "m.text", body });

    const read = await h.frame.evaluate(() => window.probe.readMessages());
    expect(read.find((e) => e.event_id === eventId)?.content).to.include({ body });
  });

  it("reads events related to the widget's own event (m.reference), decrypted", async function () {
    const h = await openProbe();
    const root = await h.frame.evaluate(([t]) => window.probe.send(t, { note: "root" }), [PROBE_EVENT] as const);
    const reply = { note: "step from bob", "m.relates_to": { rel_type: "m.reference", event_id: root.event_id } };
    const { event_id } = await bob.client.sendEvent(roomId, PROBE_EVENT as never, reply as never);

    const related = await h.frame.evaluate(([id, t]) => window.probe.relations(id, "m.reference", t), [root.event_id!, PROBE_EVENT] as const);
    expect(related.map((e) => [e.event_id, e.type, e.sender, e.content])).to.deep.equal([[event_id, PROBE_EVENT, bob.userId, reply]]);
  });

  it("passes the homeserver's refusal to the widget as Element does (matrix_api_error)", async function () {
    // A room where alice may not send events at all. (A per-type level for the probe's event would
    // not do: in an encrypted room the server only sees m.room.encrypted.)
    const { room_id: guarded } = await bob.client.createRoom({
      invite: [alice.userId],
      power_level_content_override: { events_default: 100 },
    });
    await alice.client.joinRoom(guarded);
    // The host sends through alice's client, which must know the room and its power levels first;
    // before its sync has them, the send fails in the client, not at the server.
    await waitUntil(async () => (alice.client.getRoom(guarded)?.getMyMembership() === "join" && alice.client.getRoom(guarded)?.currentState.getStateEvents("m.room.power_levels", "") ? true : null), "alice's client to see the guarded room");
    const h = await openProbe({ roomId: guarded });
    const refusal = await h.frame.evaluate(([t]) =>
      window.probe.send(t, { note: "not allowed" }).then(
        () => null,
        (e: Error & { data?: { matrix_api_error?: { http_status: number; response: { errcode: string } } } }) => ({
          status: e.data?.matrix_api_error?.http_status,
          errcode: e.data?.matrix_api_error?.response.errcode,
        }),
      ),
    [PROBE_EVENT] as const);
    expect(refusal).to.deep.equal({ status: 403, errcode: "M_FORBIDDEN" });
  });

  it("hands the widget an OpenID token that Synapse maps back to the clinician", async function () {
    const h = await openProbe();
    const token = await h.frame.evaluate(() => window.probe.openId());
    expect(token.matrix_server_name).to.equal(hs.serverName);
    const res = await fetch(`${hs.url}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token.access_token ?? "")}`);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { sub: string }).sub).to.equal(alice.userId);
  });

  it("tells the widget when the clinician blocks its OpenID request", async function () {
    const h = await openProbe({ openId: "block" });
    const outcome = await h.frame.evaluate(() => window.probe.openId().then(() => "token", (e: Error) => e.message));
    expect(outcome).to.equal("User declined to verify their identity");
  });

  it("uploads the widget's bytes to the media repository, where the clinician's client can fetch them", async function () {
    const h = await openProbe();
    const text = `attachment bytes ${Date.now()}`;
    const mxc = await h.frame.evaluate((t) => window.probe.upload(t), text);
    const [, server, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc) ?? [];
    expect(server).to.equal(hs.serverName);

    const res = await fetch(`${hs.url}/_matrix/client/v1/media/download/${server}/${mediaId}`, {
      headers: { Authorization: `Bearer ${alice.client.getAccessToken()}` },
    });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal(text);
    expect(await h.frame.evaluate((u) => window.probe.download(u), mxc)).to.equal(text);
  });
});
