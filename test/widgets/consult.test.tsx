import { expect } from "chai";
import {
  ConsultEventType,
  StateType,
  type ConsultReportContent,
  type ConsultRequestContent,
  type ConsultState,
} from "../../appservice/shared/events/index.js";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import type { ConsultApi } from "../../widgets/lib/consultApi.js";
import { ConsultApp, type ConsultRoomActions } from "../../widgets/consult-room/ConsultApp.js";
import { ConsultWidget } from "../../widgets/consult-room/ConsultWidget.js";
import { RoomFeed } from "../../widgets/lib/roomFeed.js";
import { button, click, deferred, field, fill, mount, queryButton, settle, text, useDom } from "./dom.js";
import { CARDIO, CARDIO2, NOW, REQUESTER, ROOM, consultState, consultView, fakeApi, pinClockToNow } from "./fixtures.js";

const REQUEST: ConsultRequestContent = {
  service: "cardiology",
  urgency: "urgent",
  patient_ref: "Encounter/abc-42",
  question: "Question for the consultant: anticoagulate before the procedure?",
  history: "AF, CKD 3",
  consult_id: "01JCONSULT",
  attachments: [
    {
      name: "ecg.pdf",
      mimetype: "application/pdf",
      size: 204800,
      file: { url: "mxc://rounds.test/abc", key: { kty: "oct", alg: "A256CTR", k: "k", key_ops: ["encrypt", "decrypt"], ext: true }, iv: "iv", hashes: { sha256: "h" }, v: "v2" },
    },
  ],
};

/** Re-reads at once: the test waits on the reads themselves, not on time. */
const NO_WAIT = [0] as const;

describe("consult widget", function () {
  pinClockToNow();
  useDom();

  /** Renders the app as `viewer` sees `state`; the API's view of the consult matches the state. */
  async function show(state: ConsultState, viewer: string, impl: Partial<ConsultApi> = {}, extra: { view?: Partial<ConsultView>; report?: ConsultReportContent; room?: Partial<ConsultRoomActions> } = {}) {
    const fake = fakeApi({ consult: async () => ({ consult: consultView({ ...state, ...extra.view }) }), ...impl });
    const room: ConsultRoomActions = { sendReport: async () => "$report1", sendNote: async () => "$note1", ...extra.room };
    const root = await mount(
      <ConsultApp api={fake.api} roomId={ROOM} viewer={viewer} room={room} consult={state} request={{ eventId: "$request", content: REQUEST }} report={extra.report ?? null} />,
    );
    return { ...fake, root };
  }

  it("shows status, deadline and the decrypted request with its attachments", async function () {
    const { root } = await show(consultState({ accept_by_ts: NOW - 3 * 60_000, overdue: true }), "@someone:rounds.test");
    const t = text(root);
    expect(t).to.include("Consult #7 · Cardiology");
    expect(t).to.include("Urgent");
    expect(t).to.include("Waiting for a specialist to accept");
    expect(t).to.include(`${CARDIO} (asked now)`);
    expect(t).to.match(/Accept by.*overdue by 3 min/);
    expect(t).to.include("Encounter/abc-42");
    expect(t).to.include("anticoagulate before the procedure?");
    expect(t).to.include("ecg.pdf PDF, 200 kB");
    expect(queryButton(root, "Accept")).to.equal(null);
    expect(queryButton(root, "Cancel consult")).to.equal(null);
  });

  it("lets the asked specialist accept with the urgency's default response time", async function () {
    const accepted = consultView({ status: "accepted", consultant: CARDIO, accepted_ts: NOW, expected_response_minutes: 45 });
    const { root, callsTo } = await show(consultState(), CARDIO, { accept: async () => ({ consult: accepted }) });
    // The urgency's default (60 minutes) in its best unit, and in words.
    const minutes = field(root, "Expected response time");
    const unit = root.querySelector<HTMLSelectElement>('select[aria-label="Unit of expected response time"]')!;
    expect([minutes.value, unit.value]).to.deep.equal(["1", "hours"]);
    expect(text(root)).to.include("= 1 h");
    await fill(unit, "minutes");
    await fill(minutes, "45");
    expect(text(root)).to.include("= 45 min");
    await click(button(root, "Accept"));
    expect(callsTo("accept")).to.deep.equal([["01JCONSULT", { room_id: ROOM, expected_minutes: 45 }]]);
    // The API's answer shows at once, before the state event arrives.
    expect(text(root)).to.include("You accepted this consult");
    expect(queryButton(root, "Start consult")).to.not.equal(null);
  });

  it("requires a reason to decline, then sends it as an encrypted note and only its event id to the API", async function () {
    const next = consultView({ candidates: [CARDIO, CARDIO2], declined_by: [CARDIO] });
    const notes: unknown[] = [];
    const { root, callsTo } = await show(consultState(), CARDIO, { decline: async () => ({ consult: next }) }, { room: { sendNote: async (c) => (notes.push(c), "$note1") } });
    await click(button(root, "Decline"));
    expect(text(root)).to.include("Give a reason for declining (at least 3 characters)");
    expect(callsTo("decline")).to.have.length(0);
    expect(notes).to.have.length(0);
    await fill(field(root, "Reason for declining"), "Not my subspecialty; ask electrophysiology");
    await click(button(root, "Decline"));
    expect(notes).to.deep.equal([{ consult_id: "01JCONSULT", kind: "decline", text: "Not my subspecialty; ask electrophysiology" }]);
    expect(callsTo("decline")).to.deep.equal([["01JCONSULT", { room_id: ROOM, reason_event_id: "$note1" }]]);
    expect(text(root)).to.include("You declined this consult.");
    expect(queryButton(root, "Accept")).to.equal(null);
  });

  it("disables the buttons while a call runs and shows the API's error as is", async function () {
    const pending = deferred<{ consult: ConsultView }>();
    const { root } = await show(consultState(), CARDIO, { accept: () => pending.promise });
    await click(button(root, "Accept"));
    expect(button(root, "Accept").disabled).to.equal(true);
    expect(button(root, "Decline").disabled).to.equal(true);
    expect(text(root)).to.include("Accepting…");
    pending.reject(new ApiError(409, "RND_CONSULT_INVALID_TRANSITION", "Dr Lee accepted this consult a moment ago."));
    await settle();
    expect(text(root)).to.include("Dr Lee accepted this consult a moment ago.");
    expect(button(root, "Accept").disabled).to.equal(false);
  });

  it("rejects an expected response time outside the allowed range", async function () {
    const { root, callsTo } = await show(consultState(), CARDIO);
    await fill(root.querySelector<HTMLSelectElement>('select[aria-label="Unit of expected response time"]')!, "minutes");
    await fill(field(root, "Expected response time"), "2");
    await click(button(root, "Accept"));
    expect(text(root)).to.include("Give a whole number, from 5 minutes to 7 days.");
    expect(callsTo("accept")).to.have.length(0);
  });

  it("lets the consultant start, then complete with an encrypted report and billing inputs", async function () {
    const state = consultState({ status: "accepted", consultant: CARDIO, accepted_ts: NOW, respond_by_ts: NOW + 3_600_000 });
    const started = consultView({ ...state, status: "in_progress", started_ts: NOW });
    const sent: ConsultReportContent[] = [];
    let completeAttempts = 0;
    const { root, callsTo } = await show(
      state,
      CARDIO,
      {
        start: async () => ({ consult: started }),
        complete: async () => {
          if (++completeAttempts === 1) throw new ApiError(404, "M_NOT_FOUND", "Rounds cannot read that report yet. Wait a moment and try again.");
          return { consult: consultView({ ...started, status: "completed", completed_ts: NOW }) };
        },
      },
      { room: { sendReport: async (c) => (sent.push(c), "$report1") } },
    );
    expect(text(root)).to.match(/Respond by.*in 1 h/);
    await click(button(root, "Start consult"));
    expect(callsTo("start")).to.deep.equal([["01JCONSULT", { room_id: ROOM }]]);

    await click(button(root, "Complete consult"));
    const t = text(root);
    for (const msg of ["Findings are required.", "An assessment is required.", "Recommendations are required.", "Choose the consult type.", "Choose the setting.", "Choose the complexity.", "Enter the minutes you spent, from 1 to 1440."]) {
      expect(t).to.include(msg);
    }
    expect(sent).to.have.length(0);

    await fill(field(root, "Findings"), "Rate-controlled AF");
    await fill(field(root, "Assessment"), "Low bleeding risk");
    await fill(field(root, "Recommendations"), "Hold apixaban 48 h before");
    await fill(field<HTMLSelectElement>(root, "Consult type"), "initial");
    await fill(field<HTMLSelectElement>(root, "Setting"), "inpatient");
    await fill(field<HTMLSelectElement>(root, "Complexity"), "moderate");
    await fill(field(root, "Time spent (minutes)"), "35");
    await click(button(root, "Complete consult"));
    expect(text(root)).to.include("Rounds cannot read that report yet. Wait a moment and try again.");
    await click(button(root, "Complete consult"));

    // One report event, reused by the retry; the API gets only its id and the billing inputs.
    expect(sent).to.have.length(1);
    expect(sent[0]).to.deep.include({ consult_id: "01JCONSULT", findings: "Rate-controlled AF", follow_up: "" });
    expect(sent[0]!["m.relates_to"]).to.deep.equal({ rel_type: "m.reference", event_id: "$request" });
    const billing = { consult_type: "initial", setting: "inpatient", complexity: "moderate", minutes: 35 };
    expect(callsTo("complete")).to.deep.equal([
      ["01JCONSULT", { room_id: ROOM, report_event_id: "$report1", billing }],
      ["01JCONSULT", { room_id: ROOM, report_event_id: "$report1", billing }],
    ]);
  });

  it("lets the requester cancel an open consult, with an optional reason", async function () {
    const { root, callsTo } = await show(consultState(), REQUESTER, { cancel: async () => ({ consult: consultView({ status: "cancelled", cancelled_ts: NOW }) }) });
    expect(queryButton(root, "Accept")).to.equal(null);
    await click(button(root, "Cancel consult"));
    expect(callsTo("cancel")).to.deep.equal([["01JCONSULT", { room_id: ROOM }]]);
    expect(text(root)).to.include("Cancelled");
    expect(queryButton(root, "Cancel consult")).to.equal(null);
  });

  it("sends a cancel reason as an encrypted note, and reuses that note when the call is retried after a failure", async function () {
    const notes: unknown[] = [];
    let calls = 0;
    const { root, callsTo } = await show(
      consultState(),
      REQUESTER,
      {
        cancel: async () => {
          if (++calls === 1) throw new Error("Rounds is restarting");
          return { consult: consultView({ status: "cancelled", cancelled_ts: NOW }) };
        },
      },
      { room: { sendNote: async (c) => (notes.push(c), `$note${notes.length}`) } },
    );
    await fill(field(root, "Reason for cancelling (optional)"), "Patient transferred to another hospital");
    await click(button(root, "Cancel consult"));
    expect(text(root)).to.include("Rounds is restarting");
    await click(button(root, "Cancel consult"));
    expect(notes).to.deep.equal([{ consult_id: "01JCONSULT", kind: "cancel", text: "Patient transferred to another hospital" }]);
    expect(callsTo("cancel")).to.deep.equal([
      ["01JCONSULT", { room_id: ROOM, reason_event_id: "$note1" }],
      ["01JCONSULT", { room_id: ROOM, reason_event_id: "$note1" }],
    ]);
    expect(text(root)).to.include("Cancelled");
  });

  const completed = () => consultState({ status: "completed", consultant: CARDIO, accepted_ts: NOW - 3_600_000, started_ts: NOW - 3_000_000, completed_ts: NOW, report_event_id: "$report1" });
  const suggestion = { code: "99253", description: "Inpatient consultation, moderate", rationale: "Initial inpatient consult of moderate complexity." };
  const report: ConsultReportContent = { consult_id: "01JCONSULT", findings: "Rate-controlled AF", assessment: "Low bleeding risk", recommendations: "Hold apixaban 48 h before", follow_up: "" };

  it("shows everyone the report and the billing suggestion, labelled as a suggestion", async function () {
    const { root } = await show(completed(), "@nurse:rounds.test", {}, { view: { billing_suggestion: suggestion }, report });
    const t = text(root);
    expect(t).to.include("Hold apixaban 48 h before");
    expect(t).to.include("Billing suggestion");
    expect(t).to.include("A suggestion only");
    expect(t).to.include("99253 — Inpatient consultation, moderate");
    expect(t).to.include("Why: Initial inpatient consult of moderate complexity.");
    expect(queryButton(root, "Send feedback")).to.equal(null);
  });

  it("asks the requester for feedback once the consult is completed", async function () {
    const { root, callsTo } = await show(
      completed(),
      REQUESTER,
      { feedback: async () => ({ consult: consultView({ ...completed(), rating: 5, outcome: "advice_followed", billing_suggestion: suggestion }) }) },
      { view: { billing_suggestion: suggestion }, report },
    );
    await click(button(root, "Send feedback"));
    expect(text(root)).to.include("Rate from 1 to 5.");
    expect(text(root)).to.include("Choose what happened after the consult.");
    await fill(field<HTMLSelectElement>(root, "Rating"), "5");
    await fill(field<HTMLSelectElement>(root, "Outcome"), "advice_followed");
    await click(button(root, "Send feedback"));
    expect(callsTo("feedback")).to.deep.equal([["01JCONSULT", { room_id: ROOM, rating: 5, outcome: "advice_followed" }]]);
    expect(text(root)).to.include("Requester's feedback: 5 of 5, advice followed.");
    expect(queryButton(root, "Send feedback")).to.equal(null);
  });

  /** Whether `a` comes before `b` in the document, and so in the tab order (no widget sets tabindex). */
  const before = (a: Element, b: Element) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  const section = (root: Element, label: string) => root.querySelector(`section[aria-label="${label}"]`)!;

  it("puts what the clinician must read before what they decide: the request before accept and decline, the report before feedback", async function () {
    const asked = await show(consultState(), CARDIO);
    expect(before(section(asked.root, "Request"), button(asked.root, "Accept")), "request before Accept").to.equal(true);
    expect(before(section(asked.root, "Request"), button(asked.root, "Decline")), "request before Decline").to.equal(true);
    expect(before(section(asked.root, "Request"), field(asked.root, "Expected response time")), "request before the first field").to.equal(true);

    const done = await show(completed(), REQUESTER, {}, { view: { billing_suggestion: suggestion }, report });
    expect(before(section(done.root, "Report"), button(done.root, "Send feedback")), "report before feedback").to.equal(true);
    expect(before(section(done.root, "Report"), field<HTMLSelectElement>(done.root, "Rating")), "report before the rating").to.equal(true);
  });

  it("reads the request again until its client has decrypted it, as a widget is given only newer events", async function () {
    const bot = "@rounds_consult:rounds.test";
    const feed = new RoomFeed(ROOM);
    feed.addState([{ type: StateType.Consult, state_key: "01JCONSULT", sender: bot, room_id: ROOM, event_id: "$state", origin_server_ts: NOW, unsigned: {}, content: { ...consultState(), request_event_id: "$request" } }]);
    const relayed = { type: ConsultEventType.Request, sender: bot, room_id: ROOM, event_id: "$request", origin_server_ts: NOW, unsigned: {}, content: { ...REQUEST, consult_id: "01JCONSULT" } };
    let reads = 0;
    const third = deferred<void>();
    const release = deferred<void>();
    // The key arrives between the second and the third read; the first waits for the test's look.
    const rereadRequests = async () => {
      reads++;
      await release.promise;
      if (reads < 3) return [];
      third.resolve();
      return [relayed];
    };
    const fake = fakeApi({ consult: async () => ({ consult: consultView(consultState()) }) });
    const room: ConsultRoomActions = { sendReport: async () => "$report1", sendNote: async () => "$note1" };
    const root = await mount(<ConsultWidget feed={feed} api={fake.api} roomId={ROOM} viewer={CARDIO} room={room} rereadRequests={rereadRequests} rereadAfterMs={NO_WAIT} />);
    expect(text(root)).to.include("Element has not loaded the request yet");
    release.resolve();
    await third.promise;
    await settle();
    expect(text(root)).to.include(REQUEST.question);
    expect(text(root)).to.not.include("Element has not loaded the request yet");
    const after = reads;
    await settle();
    expect(reads, "no more reads once it is there").to.equal(after);
  });

  it("reads the report through the request's relations when its client no longer holds it (a gappy sync)", async function () {
    const bot = "@rounds_consult:rounds.test";
    const feed = new RoomFeed(ROOM);
    const stateEvent = (content: Record<string, unknown>) => ({ type: StateType.Consult, state_key: "01JCONSULT", sender: bot, room_id: ROOM, event_id: "$state", origin_server_ts: NOW, unsigned: {}, content });
    feed.addState([stateEvent({ ...completed(), request_event_id: "$request" })]);
    const asked: string[] = [];
    const reportsFor = async (requestEventId: string) => {
      asked.push(requestEventId);
      // A report from anyone but the consultant is not trusted, wherever it was found.
      return [
        { type: ConsultEventType.Report, sender: "@intruder:rounds.test", room_id: ROOM, event_id: "$forged", origin_server_ts: NOW - 2, unsigned: {}, content: { ...report, recommendations: "Forged advice" } },
        { type: ConsultEventType.Report, sender: CARDIO, room_id: ROOM, event_id: "$report-fields", origin_server_ts: NOW - 1, unsigned: {}, content: report },
      ];
    };
    const fake = fakeApi({ consult: async () => ({ consult: consultView({ ...completed(), billing_suggestion: suggestion }) }) });
    const room: ConsultRoomActions = { sendReport: async () => "$report1", sendNote: async () => "$note1" };
    const root = await mount(<ConsultWidget feed={feed} api={fake.api} roomId={ROOM} viewer="@nurse:rounds.test" room={room} reportsFor={reportsFor} />);
    await settle();
    expect(asked).to.deep.equal(["$request"]);
    expect(text(root)).to.include("Hold apixaban 48 h before");
    expect(text(root)).not.to.include("Forged advice");
  });
});
