import { expect } from "chai";
import { ConsultRequestContentSchema, type ConsultAttachment, type ConsultRequestContent } from "../../appservice/shared/events/index.js";
import type { ConsultResponse, MetricsResponse, MineResponse } from "../../appservice/shared/consultWidgetApi.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import type { ConsultApi } from "../../widgets/lib/consultApi.js";
import { formatTime } from "../../widgets/lib/format.js";
import { ConsultsApp } from "../../widgets/consult-dashboard/ConsultsApp.js";
import { MyConsults } from "../../widgets/consult-dashboard/MyConsults.js";
import { NewConsultForm, type RequestRoomActions } from "../../widgets/consult-dashboard/NewConsultForm.js";
import { QUESTION_TEMPLATE } from "../../widgets/consult-dashboard/questionTemplate.js";
import { act } from "preact/test-utils";
import { button, click, deferred, field, fill, mount, queryButton, settle, text, useDom } from "./dom.js";
import { CARDIO, CARDIO2, NOW, REQUESTER, SERVICES, consultView, fakeApi, pinClockToNow } from "./fixtures.js";

const DM_ROOM = "!dm:rounds.test";

describe("consults widget: new consult", function () {
  pinClockToNow();
  useDom("https://rounds.example/_rounds/widgets/consult-dashboard/index.html");

  function fakeRoom() {
    const uploads: { name: string; mimetype: string }[] = [];
    const sent: ConsultRequestContent[] = [];
    const room: RequestRoomActions = {
      uploadAttachment: async (file, mimetype): Promise<ConsultAttachment> => {
        uploads.push({ name: file.name, mimetype });
        const file_ = { url: `mxc://rounds.test/${uploads.length}`, key: { kty: "oct", alg: "A256CTR", k: "k", key_ops: ["encrypt", "decrypt"], ext: true }, iv: "iv", hashes: { sha256: "h" }, v: "v2" } as const;
        return { name: file.name, mimetype, size: file.size, file: { ...file_, key: { ...file_.key, key_ops: [...file_.key.key_ops] } } };
      },
      sendRequest: async (content) => (sent.push(content), `$request${sent.length}`),
    };
    return { room, uploads, sent };
  }

  async function showForm(impl: Partial<ConsultApi> = {}) {
    const fake = fakeApi(impl);
    const r = fakeRoom();
    const root = await mount(<NewConsultForm api={fake.api} roomId={DM_ROOM} room={r.room} />);
    return { ...fake, ...r, root };
  }

  it("has one h1, above its tabs", async function () {
    const fake = fakeApi({ mine: async () => ({ incoming: [], outgoing: [], archive: [] }) });
    const root = await mount(<ConsultsApp api={fake.api} roomId={DM_ROOM} room={fakeRoom().room} />);
    expect([...root.querySelectorAll("h1")].map((h) => h.textContent)).to.deep.equal(["Consults"]);
    expect(root.querySelector("h1")!.compareDocumentPosition(root.querySelector('[role="tablist"]')!) & Node.DOCUMENT_POSITION_FOLLOWING).to.not.equal(0);
  });

  async function pick(input: HTMLInputElement, files: File[]) {
    Object.defineProperty(input, "files", { value: files, configurable: true });
    await act(() => {
      input.dispatchEvent(new window.Event("change", { bubbles: true }));
    });
  }

  async function fillValid(root: HTMLElement) {
    await fill(field<HTMLSelectElement>(root, "Service"), "cardiology");
    await settle();
    await fill(field<HTMLSelectElement>(root, "Urgency"), "urgent");
    await fill(field(root, "Patient or encounter reference"), "Encounter/abc-42");
    await fill(field(root, "Clinical question"), "Anticoagulate before the procedure tomorrow?");
  }

  it("shows every validation message beside its field and sends nothing", async function () {
    const { root, sent, calls } = await showForm();
    await fill(field(root, "Care team members (optional)"), "@resident:rounds.test, bob");
    await fill(field(root, "Patient or encounter reference"), "MRN 12345");
    await click(button(root, "Send consult request"));
    const t = text(root);
    expect(t).to.include("Choose the service to consult.");
    expect(t).to.include("Choose how urgent it is: emergent, urgent or routine.");
    expect(t).to.include("Not a Matrix user id: bob. Use ids like @name:hospital.org.");
    expect(t).to.include("Must be a FHIR reference like Patient/123 or Encounter/abc.");
    expect(t).to.include("State the clinical question (at least 10 characters).");
    // A summary at the top of the form lists them, each a link to its field, and focus is on the first.
    const summary = root.querySelector("form .error-summary")!;
    expect(summary.getAttribute("role")).to.equal("alert");
    expect(summary.compareDocumentPosition(field(root, "Service")) & Node.DOCUMENT_POSITION_FOLLOWING).to.not.equal(0);
    const links = [...summary.querySelectorAll("a")].map((a) => a.textContent);
    expect(links[0]).to.equal("Service: Choose the service to consult.");
    expect(links).to.include("Patient or encounter reference: Must be a FHIR reference like Patient/123 or Encounter/abc.");
    expect(summary.querySelector("a")!.getAttribute("href")).to.equal("#service");
    expect(root.ownerDocument.activeElement).to.equal(field(root, "Service"));
    // Each message is tied to its field for screen readers.
    const ref = field(root, "Patient or encounter reference");
    expect(ref.getAttribute("aria-invalid")).to.equal("true");
    expect(root.querySelector(`#${ref.getAttribute("aria-describedby")!.split(" ").at(-1)}`)!.textContent).to.include("FHIR reference");
    expect(sent).to.have.length(0);
    expect(calls.map((c) => c.name)).to.not.include("createConsult");
  });

  it("inserts the question template, and refuses it unanswered", async function () {
    const { root, sent } = await showForm();
    await fillValid(root);
    await fill(field(root, "Clinical question"), "");
    await click(button(root, "Insert question template"));
    expect(field<HTMLTextAreaElement>(root, "Clinical question").value).to.equal(QUESTION_TEMPLATE);
    expect(QUESTION_TEMPLATE).to.include("Question for the consultant:").and.include("Decision this will inform:");
    await click(button(root, "Send consult request"));
    expect(text(root)).to.include("Answer the template's prompts before sending.");
    expect(sent).to.have.length(0);
    // Text already written is kept; the template goes below it.
    await fill(field(root, "Clinical question"), "Known AF.");
    await click(button(root, "Insert question template"));
    expect(field<HTMLTextAreaElement>(root, "Clinical question").value).to.equal(`Known AF.\n\n${QUESTION_TEMPLATE}`);
  });

  it("offers the chosen service's specialists with their availability", async function () {
    const { root, callsTo } = await showForm({
      specialists: async (service) => ({ service, specialists: [{ user_id: CARDIO, available: true }, { user_id: CARDIO2, available: false }] }),
    });
    expect(field<HTMLSelectElement>(root, "Preferred specialist (optional)").disabled).to.equal(true);
    await fill(field<HTMLSelectElement>(root, "Service"), "cardiology");
    await settle();
    expect(callsTo("specialists")).to.deep.equal([["cardiology"]]);
    const options = [...field<HTMLSelectElement>(root, "Preferred specialist (optional)").options].map((o) => o.textContent);
    expect(options).to.deep.equal(["Whoever is on call", `${CARDIO} (available)`, `${CARDIO2} (not available)`]);
  });

  it("refuses a wrong file type or a file over the limit, and lets a file be removed", async function () {
    const { root } = await showForm();
    const input = field(root, "Attachments (optional)");
    await pick(input, [
      new File(["%PDF-1.7"], "ecg.pdf", { type: "application/pdf" }),
      new File(["notes"], "notes.txt", { type: "text/plain" }),
      new File([new Uint8Array(2 * 1024 * 1024)], "ct.pdf", { type: "application/pdf" }),
      new File(["DICM"], "slice.dcm", { type: "" }),
    ]);
    const t = text(root);
    expect(t).to.include("notes.txt is not a PDF, an image (PNG, JPEG, GIF, WebP) or a DICOM file.");
    expect(t).to.include("ct.pdf is 2.0 MB; the limit is 1.0 MB per file.");
    expect(queryButton(root, "Remove ecg.pdf")).to.not.equal(null);
    expect(queryButton(root, "Remove slice.dcm")).to.not.equal(null);
    expect(queryButton(root, "Remove notes.txt")).to.equal(null);
    await click(button(root, "Remove ecg.pdf"));
    expect(queryButton(root, "Remove ecg.pdf")).to.equal(null);
  });

  it("uploads the attachments encrypted, sends the request, creates the consult and says who was asked", async function () {
    const { root, uploads, sent, callsTo } = await showForm({
      createConsult: async (): Promise<ConsultResponse> => ({ consult: consultView({ number: 12, candidates: [CARDIO] }) }),
    });
    await fillValid(root);
    await fill(field(root, "Care team members (optional)"), "@resident:rounds.test");
    await fill(field(root, "Relevant history (optional)"), "AF, CKD 3");
    await pick(field(root, "Attachments (optional)"), [new File(["DICM"], "slice.dcm", { type: "" })]);
    await click(button(root, "Send consult request"));

    expect(uploads).to.deep.equal([{ name: "slice.dcm", mimetype: "application/dicom" }]);
    expect(sent).to.have.length(1);
    expect(ConsultRequestContentSchema.safeParse(sent[0]).success).to.equal(true);
    expect(sent[0]).to.deep.include({ service: "cardiology", urgency: "urgent", patient_ref: "Encounter/abc-42", care_team: ["@resident:rounds.test"], history: "AF, CKD 3" });
    expect(sent[0]!.attachments![0]!.file.url).to.equal("mxc://rounds.test/1");
    expect(callsTo("createConsult")).to.deep.equal([[{ room_id: DM_ROOM, event_id: "$request1" }]]);
    expect(text(root)).to.include(`Consult #12 sent to ${CARDIO}.`);
    // The form is cleared for the next request.
    expect(field<HTMLTextAreaElement>(root, "Clinical question").value).to.equal("");
    expect(queryButton(root, "Remove slice.dcm")).to.equal(null);
  });

  it("shows the API's refusal as is and retries without sending the request twice", async function () {
    let attempts = 0;
    const { root, sent, callsTo } = await showForm({
      createConsult: async () => {
        if (++attempts === 1) throw new ApiError(409, "RND_CONSULT_NOBODY_AVAILABLE", "Nobody in Cardiology is on call right now; the coordinators were told.");
        return { consult: consultView({ number: 13, candidates: [CARDIO2] }) };
      },
    });
    await fillValid(root);
    await click(button(root, "Send consult request"));
    expect(text(root)).to.include("Nobody in Cardiology is on call right now; the coordinators were told.");
    expect(button(root, "Send consult request").disabled).to.equal(false);
    await click(button(root, "Send consult request"));
    expect(sent).to.have.length(1);
    expect(callsTo("createConsult")).to.deep.equal([[{ room_id: DM_ROOM, event_id: "$request1" }], [{ room_id: DM_ROOM, event_id: "$request1" }]]);
    expect(text(root)).to.include(`Consult #13 sent to ${CARDIO2}.`);
  });

  it("shows the form at once: the question can be written while the services load", async function () {
    const services = deferred<typeof SERVICES>();
    const { root } = await showForm({ services: () => services.promise });
    const select = field<HTMLSelectElement>(root, "Service");
    expect(select.disabled).to.equal(true);
    expect(select.options[0]!.textContent).to.equal("Loading services…");
    expect(field(root, "Clinical question").disabled).to.equal(false);
    await fill(field(root, "Clinical question"), "Anticoagulate before the procedure tomorrow?");
    services.resolve(SERVICES);
    await settle();
    expect(field<HTMLSelectElement>(root, "Service").disabled).to.equal(false);
    expect(field<HTMLTextAreaElement>(root, "Clinical question").value).to.equal("Anticoagulate before the procedure tomorrow?");
  });

  it("says when the services cannot be loaded, and tries again on request", async function () {
    let fail = true;
    const { root } = await showForm({
      services: async () => {
        if (fail) throw new ApiError(401, "M_UNAUTHORIZED", "Your Rounds session has ended. Reload the widget.");
        return SERVICES;
      },
    });
    expect(text(root)).to.include("Your Rounds session has ended. Reload the widget.");
    fail = false;
    await click(button(root, "Try again"));
    expect(field<HTMLSelectElement>(root, "Service").options.length).to.equal(3);
  });
});

describe("consults widget: my consults", function () {
  pinClockToNow();
  useDom();

  it("groups incoming and outgoing consults by status, with response times, and lists the archive", async function () {
    const mine: MineResponse = {
      incoming: [
        consultView({ id: "a", number: 1, requester: REQUESTER, candidates: [CARDIO] }),
        consultView({ id: "b", number: 2, status: "in_progress", consultant: CARDIO, time_to_accept_s: 240, overdue: true }),
        consultView({ id: "c", number: 3, requester: REQUESTER, candidates: [CARDIO] }),
      ],
      outgoing: [consultView({ id: "d", number: 4, service: "nephrology", urgency: "emergent", status: "accepted", consultant: CARDIO2, time_to_accept_s: 45 })],
      archive: [consultView({ id: "e", number: 5, status: "completed", time_to_accept_s: 300, time_to_complete_s: 5400, completed_ts: NOW })],
    };
    const metrics: MetricsResponse = {
      since: new Date(NOW - 30 * 86_400_000).toISOString(),
      services: [{ service: "cardiology", accept: { count: 4, p50_s: 420, p90_s: 1200 }, complete: { count: 3, p50_s: 7200, p90_s: 14_400 } }],
    };
    const fake = fakeApi({ mine: async () => mine, metrics: async () => metrics });
    const root = await mount(<MyConsults api={fake.api} />);

    const section = (name: string) => root.querySelector(`section[aria-label="${name}"]`) as HTMLElement;
    const headings = (el: HTMLElement) => [...el.querySelectorAll("h3")].map((h) => text(h as HTMLElement));
    expect(headings(section("Incoming"))).to.deep.equal(["Waiting for a specialist to accept (2)", "In progress (1)"]);
    expect(headings(section("Outgoing"))).to.deep.equal(["Accepted (1)"]);
    expect(text(section("Incoming"))).to.include("#2 Cardiology").and.include("Overdue").and.include("time to accept 4 min");
    expect(text(section("Outgoing"))).to.include("Emergent").and.include(`→ ${CARDIO2}`).and.include("time to accept 45 s");
    expect(text(section("Archive"))).to.include("#5 Cardiology").and.include("time to accept 5 min").and.include("time to complete 1 h 30 min");
    const cells = [...section("Response times").querySelectorAll("tbody td")].map((td) => text(td as HTMLElement));
    expect(cells).to.deep.equal(["cardiology", "7 min / 20 min", "2 h / 4 h", "4"]);
  });

  it("shows each consult's times in its service's zone", async function () {
    const created = NOW - 3 * 3_600_000;
    const mine: MineResponse = {
      incoming: [consultView({ id: "a", number: 1, requester: REQUESTER, candidates: [CARDIO], created_ts: created })],
      outgoing: [consultView({ id: "d", number: 4, service: "nephrology", status: "accepted", consultant: CARDIO2, created_ts: created })],
      archive: [],
    };
    const services = { ...SERVICES, services: [SERVICES.services[0]!, { id: "nephrology", name: "Nephrology", timezone: "America/New_York" }] };
    const fake = fakeApi({ mine: async () => mine, metrics: async () => Promise.reject(new Error("none")), services: async () => services });
    const root = await mount(<MyConsults api={fake.api} />);
    await settle();
    const section = (name: string) => text(root.querySelector(`section[aria-label="${name}"]`) as HTMLElement);
    expect(section("Outgoing")).to.include(`requested ${formatTime(created, Date.now(), "America/New_York")}`);
    expect(section("Incoming")).to.include(`requested ${formatTime(created, Date.now(), "Europe/London")}`);
    expect(formatTime(created, Date.now(), "America/New_York")).to.not.equal(formatTime(created, Date.now(), "Europe/London"));
  });

  it("shows the API's error when the consults cannot be loaded", async function () {
    const fake = fakeApi({ mine: async () => Promise.reject(new ApiError(503, "M_UNKNOWN", "Rounds is restarting; try again in a minute.")), metrics: async () => Promise.reject(new Error("x")) });
    const root = await mount(<MyConsults api={fake.api} />);
    expect(text(root)).to.include("Rounds is restarting; try again in a minute.");
  });
});
