import { expect } from "chai";
import type { IRoomEvent } from "matrix-widget-api";
import { HandoffEventType, HandoffItemContentSchema, type HandoffItemContent, type HandoffState } from "../../appservice/shared/events/index.js";
import type { HandoffEntryView, HandoffView } from "../../appservice/shared/handoffApi.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import { formatTime } from "../../widgets/lib/format.js";
import { knownZone } from "../../widgets/lib/zone.js";
import { ApiSession } from "../../widgets/lib/apiSession.js";
import { httpHandoffApi, type HandoffApi } from "../../widgets/lib/handoffApi.js";
import { handoffCapabilities } from "../../widgets/handoff-room/capabilities.js";
import { HandoffWidget } from "../../widgets/handoff-room/HandoffWidget.js";
import { handoffsCapabilities } from "../../widgets/handoff-dashboard/capabilities.js";
import { act } from "preact/test-utils";
import { button, click, field, fill, mount, queryButton, settle, text, useDom } from "./dom.js";
import { NOW, pinClockToNow } from "./fixtures.js";
import {
  ANCHOR,
  BOT,
  HANDOFF_ID,
  HANDOFF_ROOM,
  IN,
  OUT,
  entryView,
  fakeHandoffApi,
  fakeHandoffRoom,
  handoffState,
  handoffView,
  questionView,
  roomEvent,
  sbarItem,
  stateEvent,
} from "./handoffFixtures.js";

const CLIENT_ID = /^[A-Za-z0-9_-]{6,40}$/;
const reference = (eventId: string) => ({ rel_type: "m.reference", event_id: eventId });

/** A `datetime-local` value and the instant it means here, built from local components. */
function localDue(hoursAhead: number) {
  const d = new Date(NOW + hoursAhead * 3_600_000);
  d.setSeconds(0, 0);
  const p = (n: number) => String(n).padStart(2, "0");
  return { input: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`, ts: d.getTime() };
}

describe("handoff widget", function () {
  pinClockToNow();
  useDom("https://rounds.example/_rounds/widgets/handoff-room/index.html");

  /** Renders the widget as `viewer` sees the room; the API's view matches the state unless given. */
  async function show(viewer: string, opts: { state?: HandoffState; view?: HandoffView; events?: IRoomEvent[]; impl?: Partial<HandoffApi> } = {}) {
    const state = opts.state ?? handoffState();
    const view = opts.view ?? handoffView(state);
    const r = fakeHandoffRoom(viewer, state, opts.events);
    const fake = fakeHandoffApi({ handoff: async () => ({ handoff: view }), ...opts.impl });
    const root = await mount(<HandoffWidget feed={r.feed} api={fake.api} roomId={HANDOFF_ROOM} viewer={viewer} room={r.room} />);
    return { ...fake, ...r, root, view };
  }

  /** One presented patient (item event $item1), with overrides for its entry, item and the view. */
  function onePatient(over: { entry?: Partial<HandoffEntryView>; item?: Partial<HandoffItemContent>; view?: Partial<HandoffView>; state?: Partial<HandoffState> } = {}) {
    const state = handoffState({ patient_count: 1, ...over.state });
    const view = handoffView({ ...state, entries: [entryView({ entry_id: "entry-aaaa01", item_event_id: "$item1", ...over.entry })], ...over.view });
    return { state, view, events: [roomEvent(HandoffEventType.Item, sbarItem(over.item), { event_id: "$item1" })] };
  }

  const patient = (root: HTMLElement, n: number) => {
    const el = root.querySelector(`section[aria-label="Patient ${n}"]`);
    if (!el) throw new Error(`no patient ${n}`);
    return el as HTMLElement;
  };

  it("shows the unit, format, people, an overdue deadline and the counts", async function () {
    const state = handoffState({ deadline_ts: NOW - 3 * 60_000, overdue: true, patient_count: 2, read_back_count: 1, open_questions: 1, checklist_done: 1, checklist_total: 3 });
    const { root } = await show(IN, { state });
    const t = text(root);
    expect(t).to.include("Handoff #4 · 4 West");
    expect(t).to.include("Status: Presenting patients");
    expect(t).to.include(`${OUT} → ${IN}`);
    expect(t).to.include("SBAR, face to face");
    expect(t).to.match(/Complete by.*overdue by 3 min/);
    expect(root.querySelector(".badge.overdue")).to.not.equal(null);
    expect(t).to.include("2 patients · 1 of 2 read back · 1 open question · checklist 1 of 3");
  });

  it("shows every time in the unit's zone, named, whatever the device's zone", async function () {
    const state = handoffState({ deadline_ts: NOW + 20 * 60_000 });
    const { root } = await show(IN, { state, view: handoffView({ ...state, time_zone: "America/New_York" }) });
    const t = text(root.querySelector('[aria-label="Handoff status"]') as HTMLElement);
    expect(t).to.include(formatTime(state.deadline_ts, NOW, "America/New_York"));
    expect(formatTime(state.deadline_ts, NOW, "America/New_York")).to.not.equal(formatTime(state.deadline_ts, NOW));
    // A zone the runtime does not know leaves the device's, and the page still renders.
    expect(knownZone("Not/A_Zone")).to.equal(undefined);
    const unknown = await show(IN, { state, view: handoffView({ ...state, time_zone: "Not/A_Zone" }) });
    expect(text(unknown.root.querySelector('[aria-label="Handoff status"]') as HTMLElement)).to.include(formatTime(state.deadline_ts, NOW));
  });

  it("shows the Situation error beside its field and sends nothing when Situation is missing", async function () {
    const { root, sent, callsTo } = await show(OUT, { state: handoffState({ status: "started" }) });
    await click(button(root, "New patient"));
    await fill(field(root, "Patient or encounter reference"), "Encounter/enc-77");
    await fill(field(root, "Background"), "Admitted with pneumonia");
    await fill(field(root, "Assessment"), "Improving on antibiotics");
    await fill(field(root, "Recommendation"), "Switch to oral tomorrow");
    await click(button(root, "Add patient"));
    const situation = field<HTMLTextAreaElement>(root, "Situation");
    expect(situation.getAttribute("aria-invalid")).to.equal("true");
    expect(root.querySelector(`#${situation.getAttribute("aria-describedby")!.split(" ").at(-1)}`)!.textContent).to.equal("Situation is required.");
    // Summarised at the top, with a link to the field, and focus moved there.
    const summary = root.querySelector('form[aria-label="New patient"] .error-summary')!;
    expect([...summary.querySelectorAll("a")].map((a) => a.textContent)).to.deep.equal(["Situation: Situation is required."]);
    expect(root.ownerDocument.activeElement).to.equal(situation);
    expect(sent).to.have.length(0);
    expect(callsTo("items")).to.have.length(0);
  });

  it("asks for critical alerts and medication changes before the SBAR narrative", async function () {
    const { root } = await show(OUT, { state: handoffState({ status: "started" }) });
    await click(button(root, "New patient"));
    const labels = [...root.querySelectorAll('form[aria-label="New patient"] label')].map((l) => l.textContent);
    const at = (label: string) => labels.indexOf(label);
    expect(at("Critical alerts (optional)")).to.be.greaterThan(-1).and.lessThan(at("Situation"));
    expect(at("Medication changes (optional)")).to.be.greaterThan(at("Critical alerts (optional)")).and.lessThan(at("Situation"));
  });

  it("sends a complete SBAR item with tasks and contingencies, related to the handoff's anchor, then records it", async function () {
    const due = localDue(2);
    const { root, sent, callsTo } = await show(OUT, {
      state: handoffState({ status: "started" }),
      impl: {
        items: async (_id, body) =>
          ({ handoff: handoffView({ patient_count: 1, entries: [entryView({ entry_id: String(sent[0]!.content.entry_id), item_event_id: body.event_id })] }) }),
      },
    });
    await click(button(root, "New patient"));
    await fill(field(root, "Patient or encounter reference"), " Encounter/enc-77 ");
    await fill(field(root, "Label (optional)"), "Bed 3");
    await fill(field(root, "Situation"), "Post-op day 1, febrile 38.6");
    await fill(field(root, "Background"), "Laparotomy yesterday");
    await fill(field(root, "Assessment"), "Possible atelectasis");
    await fill(field(root, "Recommendation"), "Chest physio, repeat temperature at 22:00");
    await fill(field(root, "Critical alerts (optional)"), "Latex allergy\n\n Difficult airway ");
    await fill(field(root, "Medication changes (optional)"), "Started enoxaparin 40 mg");
    await fill(field(root, "Code status (optional)"), "Full code");
    await click(button(root, "Add task"));
    expect(field(root, "Owner").value, "a new task belongs to the outgoing clinician").to.equal(OUT);
    await fill(field(root, "Task"), "Repeat lactate");
    await fill(field(root, "Due (optional)"), due.input);
    await click(button(root, "Add contingency"));
    await fill(field(root, "If"), "temperature above 39");
    await fill(field(root, "Then"), "blood cultures and call the surgical registrar");
    await click(button(root, "Add patient"));

    expect(sent).to.have.length(1);
    const { type, content } = sent[0]!;
    expect(type).to.equal(HandoffEventType.Item);
    expect(HandoffItemContentSchema.safeParse(content).success).to.equal(true);
    expect(content.entry_id).to.match(CLIENT_ID);
    expect(content).to.deep.include({
      handoff_id: HANDOFF_ID,
      version: 1,
      template: "sbar",
      patient_ref: "Encounter/enc-77",
      label: "Bed 3",
      critical_alerts: ["Latex allergy", "Difficult airway"],
      medication_changes: ["Started enoxaparin 40 mg"],
      code_status: "Full code",
      recent_events: "",
      contingencies: [{ if: "temperature above 39", then: "blood cultures and call the surgical registrar" }],
    });
    expect(content).to.not.have.property("replaces");
    expect(content.sbar).to.deep.equal({
      situation: "Post-op day 1, febrile 38.6",
      background: "Laparotomy yesterday",
      assessment: "Possible atelectasis",
      recommendation: "Chest physio, repeat temperature at 22:00",
    });
    const tasks = content.tasks as { id: string }[];
    expect(tasks).to.have.length(1);
    expect(tasks[0]!.id).to.match(CLIENT_ID);
    expect(tasks[0]).to.deep.equal({ id: tasks[0]!.id, text: "Repeat lactate", owner: OUT, due_ts: due.ts });
    expect(content["m.relates_to"]).to.deep.equal(reference(ANCHOR));
    // The API hears only where the encrypted item is.
    expect(callsTo("items")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, event_id: "$sent1" }]]);
    expect(queryButton(root, "Add patient"), "the form closes").to.equal(null);
    expect(text(patient(root, 1))).to.include("1. Bed 3 · Encounter/enc-77").and.include("Repeat lactate");
  });

  it("asks for the I-PASS sections when the handoff's template is I-PASS", async function () {
    const { root, sent } = await show(OUT, {
      state: handoffState({ status: "started", template: "ipass" }),
      impl: { items: async () => ({ handoff: handoffView({ template: "ipass" }) }) },
    });
    await click(button(root, "New patient"));
    const labels = [...root.querySelectorAll("label")].map((l) => text(l as HTMLElement));
    expect(labels).to.include.members(["Illness severity", "Patient summary", "Action list", "Situation awareness"]);
    expect(labels).to.not.include("Situation");
    await fill(field(root, "Patient or encounter reference"), "Patient/p-2");
    await click(button(root, "Add patient"));
    expect(text(root)).to.include("Choose the illness severity.").and.include("Patient summary is required.");
    expect(sent).to.have.length(0);

    await fill(field<HTMLSelectElement>(root, "Illness severity"), "watcher");
    await fill(field(root, "Patient summary"), "COPD exacerbation, day 3");
    await fill(field(root, "Action list"), "Wean oxygen to 88-92 %");
    await fill(field(root, "Situation awareness"), "If drowsy, check a blood gas");
    await click(button(root, "Add patient"));
    expect(sent).to.have.length(1);
    expect(sent[0]!.content).to.deep.include({
      template: "ipass",
      ipass: { illness_severity: "watcher", patient_summary: "COPD exacerbation, day 3", action_list: "Wean oxygen to 88-92 %", situation_awareness: "If drowsy, check a blood gas" },
    });
    expect(sent[0]!.content).to.not.have.property("sbar");
  });

  it("sends an edit as version 2 naming the version it replaces, keeping the entry and task ids, and shows the earlier version", async function () {
    const p = onePatient();
    const { root, sent, callsTo } = await show(OUT, {
      ...p,
      impl: {
        items: async (_id, body) => ({ handoff: { ...p.view, entries: [entryView({ entry_id: "entry-aaaa01", item_event_id: body.event_id, version: 2, history: ["$item1"] })] } }),
      },
    });
    await click(button(patient(root, 1), "Edit"));
    expect(field<HTMLTextAreaElement>(root, "Situation").value).to.equal(sbarItem().sbar!.situation);
    await fill(field(root, "Situation"), "Delirium settling after the oxycodone reduction");
    await click(button(root, "Save changes"));

    expect(sent).to.have.length(1);
    const content = sent[0]!.content;
    expect(content).to.deep.include({ entry_id: "entry-aaaa01", version: 2, replaces: "$item1", patient_ref: "Patient/p-1001" });
    expect((content.sbar as { situation: string }).situation).to.equal("Delirium settling after the oxycodone reduction");
    // The server tracks tasks by id; the due time is kept to the millisecond.
    expect(content.tasks).to.deep.equal(sbarItem().tasks);
    expect(content["m.relates_to"]).to.deep.equal(reference(ANCHOR));
    expect(callsTo("items")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, event_id: "$sent1" }]]);

    const t = text(patient(root, 1));
    expect(t).to.include("Version 2, edited").and.include("Delirium settling");
    await click(button(patient(root, 1), "Show earlier versions"));
    expect(text(patient(root, 1))).to.include("Version 1").and.include("new confusion since 16:00");
  });

  it("posts the whole new order when a patient is moved", async function () {
    const state = handoffState({ patient_count: 2 });
    const entries = [entryView({ entry_id: "entry-aaaa01", item_event_id: "$item1" }), entryView({ entry_id: "entry-bbbb02", item_event_id: "$item2", number: 2 })];
    const events = [
      roomEvent(HandoffEventType.Item, sbarItem(), { event_id: "$item1" }),
      roomEvent(HandoffEventType.Item, sbarItem({ entry_id: "entry-bbbb02", patient_ref: "Patient/p-2002", label: "Bed 14" }), { event_id: "$item2" }),
    ];
    // The server answers in the new order; each patient keeps their number.
    const swapped = [entries[1]!, entries[0]!];
    const { root, callsTo } = await show(OUT, { state, view: handoffView({ ...state, entries }), events, impl: { order: async () => ({ handoff: handoffView({ ...state, entries: swapped }) }) } });
    expect(button(patient(root, 1), "Move up").disabled).to.equal(true);
    expect(button(patient(root, 2), "Move down").disabled).to.equal(true);
    await click(button(patient(root, 1), "Move down"));
    expect(callsTo("order")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, entry_ids: ["entry-bbbb02", "entry-aaaa01"] }]]);
    const shown = [...root.querySelectorAll("section.patient")].map((el) => el.getAttribute("aria-label"));
    expect(shown).to.deep.equal(["Patient 2", "Patient 1"]);
    expect(text(patient(root, 2))).to.include("Bed 14");
    // Moved first, patient 2 can now only move down.
    expect(button(patient(root, 2), "Move up").disabled).to.equal(true);
  });

  it("gives the incoming clinician read-back and question forms, and the outgoing clinician neither", async function () {
    const p = onePatient();
    const outgoing = await show(OUT, p);
    expect(queryButton(patient(outgoing.root, 1), "Send read-back")).to.equal(null);
    expect(queryButton(patient(outgoing.root, 1), "Ask question")).to.equal(null);
    expect(queryButton(patient(outgoing.root, 1), "Edit")).to.not.equal(null);

    const readBackView = { ...p.view, read_back_count: 1, entries: [entryView({ entry_id: "entry-aaaa01", item_event_id: "$item1", read_back: true, readback_event_id: "$sent1", readback_by: IN, readback_ts: NOW })] };
    const incoming = await show(IN, {
      ...p,
      impl: {
        readBacks: async () => ({ handoff: readBackView }),
        questions: async () => ({ handoff: { ...readBackView, open_questions: 1, questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$sent2" })] } }),
      },
    });
    const mine = patient(incoming.root, 1);
    expect(queryButton(mine, "Edit")).to.equal(null);
    expect(queryButton(incoming.root, "New patient")).to.equal(null);
    expect(text(mine)).to.include("Not read back yet");
    // The item comes before the read-back, in the DOM and so in tab order: read, then decide.
    const alerts = mine.querySelector('[aria-label="Critical alerts"]')!;
    expect(alerts.compareDocumentPosition(mine.querySelector('form[aria-label="Read back patient 1"]')!) & Node.DOCUMENT_POSITION_FOLLOWING).to.not.equal(0);

    await fill(field(mine, "Read back in your own words"), "too short");
    await click(button(mine, "Send read-back"));
    expect(text(mine)).to.include("Read back in your own words (at least 10 characters).");
    expect(incoming.sent).to.have.length(0);

    await fill(field(mine, "Read back in your own words"), "Delirious 84-year-old, reduce oxycodone, sodium in the morning");
    await click(button(mine, "Send read-back"));
    expect(incoming.sent[0]!.type).to.equal(HandoffEventType.ReadBack);
    expect(incoming.sent[0]!.content).to.deep.equal({
      handoff_id: HANDOFF_ID,
      entry_id: "entry-aaaa01",
      item_event_id: "$item1",
      summary: "Delirious 84-year-old, reduce oxycodone, sodium in the morning",
      "m.relates_to": reference("$item1"),
    });
    expect(incoming.callsTo("readBacks")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, event_id: "$sent1" }]]);
    expect(text(patient(incoming.root, 1))).to.include("Read back").and.include("reduce oxycodone, sodium in the morning");
    expect(queryButton(patient(incoming.root, 1), "Send read-back")).to.equal(null);

    await fill(field(patient(incoming.root, 1), "Ask a question"), "Is the sodium already requested?");
    await click(button(patient(incoming.root, 1), "Ask question"));
    expect(incoming.sent[1]!.type).to.equal(HandoffEventType.Question);
    expect(incoming.sent[1]!.content).to.deep.equal({ handoff_id: HANDOFF_ID, entry_id: "entry-aaaa01", text: "Is the sodium already requested?", "m.relates_to": reference("$item1") });
    expect(incoming.callsTo("questions")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, event_id: "$sent2" }]]);
    expect(text(patient(incoming.root, 1))).to.include("Question 1").and.include("Is the sodium already requested?").and.include("Not answered yet");
  });

  it("asks the incoming clinician to read back again when the patient was edited after the read-back", async function () {
    const p = onePatient({ entry: { version: 2, history: ["$item0"], read_back: false, readback_event_id: "$rb1", readback_by: IN, readback_ts: NOW - 120_000 } });
    const events = [...p.events, roomEvent(HandoffEventType.ReadBack, { handoff_id: HANDOFF_ID, entry_id: "entry-aaaa01", item_event_id: "$item0", summary: "Confused, on oxycodone" }, { event_id: "$rb1", sender: IN })];
    const { root } = await show(IN, { ...p, events });
    const t = text(patient(root, 1));
    expect(t).to.include("Edited since the read-back");
    expect(t).to.include("This patient was edited after your read-back. Read it back again.");
    expect(t).to.include("Read-back of an earlier version by");
    expect(queryButton(patient(root, 1), "Send read-back")).to.not.equal(null);
  });

  it("highlights critical alerts, emphasises medication changes, and shows tasks, contingencies and code status", async function () {
    const p = onePatient({ view: { tasks: [{ task_id: "task-aaaa01", entry_id: "entry-aaaa01", item_event_id: "$item1", owner: OUT, due_ts: NOW + 2 * 3_600_000, status: "open", transferred_from: null, transferred_ts: null }] } });
    const { root } = await show(IN, p);
    const entry = patient(root, 1);
    const alerts = entry.querySelector(".critical-alerts")!;
    expect(alerts.getAttribute("aria-label")).to.equal("Critical alerts");
    expect([...alerts.querySelectorAll("li strong")].map((s) => s.textContent)).to.deep.equal(["Penicillin allergy: anaphylaxis"]);
    // Alerts come before everything else in the patient's details.
    expect(entry.querySelector(".item")!.firstElementChild).to.equal(alerts);
    expect([...entry.querySelectorAll(".med-changes li strong")].map((s) => s.textContent)).to.deep.equal(["Oxycodone reduced to 5 mg"]);
    const task = text(entry.querySelector(".tasks li") as HTMLElement);
    expect(task).to.include("Check sodium result").and.include(`owner ${OUT}`).and.include("due");
    const t = text(entry);
    expect(t).to.include("If agitated and pulling lines then call the on-call registrar");
    expect(t).to.match(/Code status\s*Full code/);
    expect(t).to.match(/Recent events\s*Fell at 14:00 without injury/);
  });

  it("ignores items from anyone but the outgoing clinician or the handoff bot, and read-backs from anyone but the incoming", async function () {
    const state = handoffState({ patient_count: 3 });
    const entries = [
      entryView({ entry_id: "entry-aaaa01", item_event_id: "$forged", read_back: true, readback_event_id: "$rbForged", readback_by: IN }),
      entryView({ entry_id: "entry-bbbb02", item_event_id: "$relayed", number: 2 }),
      entryView({ entry_id: "entry-cccc03", item_event_id: "$botForOther", number: 3 }),
    ];
    const events = [
      roomEvent(HandoffEventType.Item, sbarItem({ patient_ref: "Patient/forged-1", sbar: { ...sbarItem().sbar!, situation: "Forged situation text" } }), { event_id: "$forged", sender: "@visitor:rounds.test" }),
      roomEvent(HandoffEventType.Item, sbarItem({ entry_id: "entry-bbbb02", patient_ref: "Patient/relayed-2", presented_by: OUT }), { event_id: "$relayed", sender: BOT }),
      roomEvent(HandoffEventType.Item, sbarItem({ entry_id: "entry-cccc03", patient_ref: "Patient/other-3", presented_by: "@visitor:rounds.test" }), { event_id: "$botForOther", sender: BOT }),
      roomEvent(HandoffEventType.ReadBack, { handoff_id: HANDOFF_ID, entry_id: "entry-aaaa01", item_event_id: "$forged", summary: "A read-back the outgoing wrote" }, { event_id: "$rbForged", sender: OUT }),
    ];
    const { root } = await show(IN, { state, view: handoffView({ ...state, entries }), events });
    const t = text(root);
    expect(t).to.not.include("Forged situation text");
    expect(t).to.not.include("Patient/forged-1");
    expect(t).to.not.include("A read-back the outgoing wrote");
    expect(text(patient(root, 1))).to.include("Element has not loaded this patient's details yet").and.include("Element has not loaded the read-back yet.");
    expect(text(patient(root, 2))).to.include("Patient/relayed-2");
    expect(t).to.not.include("Patient/other-3");
  });

  it("shows what blocks the sign-off, requires a reason to override, sends it as a note and signs off with its event id", async function () {
    const p = onePatient({
      state: { open_questions: 1, checklist_total: 1 },
      view: { outstanding: { missing_read_back: [1], open_questions: [2], checklist: ["Bed board updated"] } },
    });
    const signed = {
      ...p.view,
      status: "signing" as const,
      signed_off_by: [OUT],
      overridden: true,
      sign_offs: [{ user_id: OUT, ts: NOW, override_event_id: "$sent1", outstanding: p.view.outstanding }],
    };
    const { root, sent, callsTo } = await show(OUT, { ...p, impl: { signOff: async () => ({ handoff: signed }) } });
    const panel = root.querySelector('section[aria-label="Sign off"]') as HTMLElement;
    const t = text(panel);
    expect(t).to.include("Not ready to sign off:");
    expect(t).to.include("Read-back missing for patient 1").and.include("Question 2 not answered").and.include("Checklist not done: Bed board updated");
    expect(queryButton(root, "Sign off"), "no plain sign-off while something is outstanding").to.equal(null);

    const overrideForm = root.querySelector('form[aria-label="Sign off anyway"]') as HTMLElement;
    await click(button(root, "Sign off anyway (override)"));
    expect(text(overrideForm)).to.include("Give the reason for overriding (at least 5 characters).");
    await fill(field(root, "Reason for signing off anyway"), "ok  ");
    await click(button(root, "Sign off anyway (override)"));
    expect(text(overrideForm)).to.include("Give the reason for overriding (at least 5 characters).");
    expect(sent).to.have.length(0);
    expect(callsTo("signOff")).to.have.length(0);

    await fill(field(root, "Reason for signing off anyway"), "Night nurse will read back at the bedside at 20:00");
    await click(button(root, "Sign off anyway (override)"));
    expect(sent).to.have.length(1);
    expect(sent[0]!.type).to.equal(HandoffEventType.Note);
    expect(sent[0]!.content).to.deep.equal({ handoff_id: HANDOFF_ID, kind: "override", text: "Night nurse will read back at the bedside at 20:00", "m.relates_to": reference(ANCHOR) });
    expect(callsTo("signOff")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, override_event_id: "$sent1" }]]);
    const after = text(root.querySelector('section[aria-label="Sign off"]') as HTMLElement);
    expect(after).to.include(`Signed off by ${OUT}`).and.include("override").and.include("Night nurse will read back at the bedside");
    expect(after).to.include(`Waiting for ${IN} to sign off.`);
  });

  it("signs off plainly when nothing is outstanding, and shows the server's refusal as given", async function () {
    const p = onePatient({ entry: { read_back: true, readback_event_id: "$rb1", readback_by: IN, readback_ts: NOW } });
    const { root, callsTo } = await show(IN, {
      ...p,
      impl: { signOff: async () => Promise.reject(new ApiError(409, "RND_HANDOFF_SIGN_OFF_BLOCKED", "Patient 1 was edited after its read-back; read it back again before signing off.")) },
    });
    expect(text(root)).to.include("Every patient is read back, every question answered and the checklist done.");
    await click(button(root, "Sign off"));
    expect(callsTo("signOff")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM }]]);
    expect(text(root)).to.include("Patient 1 was edited after its read-back; read it back again before signing off.");
  });

  it("lets a participant answer an open question: the answer refers to the question and is recorded", async function () {
    const p = onePatient({ state: { open_questions: 1 }, view: { questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$q1" })] } });
    const events = [...p.events, roomEvent(HandoffEventType.Question, { handoff_id: HANDOFF_ID, entry_id: "entry-aaaa01", text: "Any IV access issues?" }, { event_id: "$q1", sender: IN })];
    const answered = { ...p.view, open_questions: 0, questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$q1", answer_event_id: "$sent1", answered_by: OUT, answered_ts: NOW })] };
    const { root, sent, callsTo } = await show(OUT, { ...p, events, impl: { answers: async () => ({ handoff: answered }) } });
    const form = root.querySelector('form[aria-label="Answer question 1"]') as HTMLElement;
    expect(text(patient(root, 1))).to.include("Any IV access issues?").and.include("Not answered yet");
    await fill(field(form, "Answer"), "Left forearm cannula, flushes well");
    await click(button(form, "Send answer"));
    expect(sent[0]!.type).to.equal(HandoffEventType.Answer);
    expect(sent[0]!.content).to.deep.equal({ handoff_id: HANDOFF_ID, question_event_id: "$q1", text: "Left forearm cannula, flushes well", "m.relates_to": reference("$q1") });
    expect(callsTo("answers")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, event_id: "$sent1" }]]);
    const t = text(patient(root, 1));
    expect(t).to.include(`Answer from ${OUT}`).and.include("Left forearm cannula, flushes well");
    expect(root.querySelector('form[aria-label="Answer question 1"]')).to.equal(null);
  });

  it("offers no answer form to the clinician who asked: the other one answers", async function () {
    const p = onePatient({ state: { open_questions: 1 }, view: { questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$q1", asked_by: IN })] } });
    const events = [...p.events, roomEvent(HandoffEventType.Question, { handoff_id: HANDOFF_ID, entry_id: "entry-aaaa01", text: "Any IV access issues?" }, { event_id: "$q1", sender: IN })];
    const { root } = await show(IN, { ...p, events });
    expect(root.querySelector('form[aria-label="Answer question 1"]')).to.equal(null);
    expect(text(patient(root, 1))).to.include(`Waiting for ${OUT} to answer.`);
  });

  it("ticks a checklist item through the API", async function () {
    const checklist = [
      { label: "Bed board updated", done: false, by: null, ts: null },
      { label: "Controlled drugs counted", done: true, by: IN, ts: NOW - 60_000 },
    ];
    const p = onePatient({ state: { checklist_total: 2, checklist_done: 1 }, view: { checklist } });
    const { root, callsTo } = await show(IN, { ...p, impl: { checklist: async () => ({ handoff: { ...p.view, checklist: checklist.map((c) => ({ ...c, done: true, by: IN })) } }) } });
    expect(field(root, "Controlled drugs counted").checked).to.equal(true);
    await click(field(root, "Bed board updated"));
    expect(callsTo("checklist")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, index: 0, done: true }]]);
    expect(text(root)).to.include("Checklist (2 of 2)");
  });

  it("reports an incident: the description as an encrypted note, the category to the API", async function () {
    const p = onePatient();
    const { root, sent, callsTo } = await show(IN, { ...p, impl: { incidents: async () => ({ handoff: p.view, incident: 3 }) } });
    await click(button(patient(root, 1), "Report an incident"));
    const options = [...field<HTMLSelectElement>(root, "What went wrong").options].map((o) => o.textContent);
    expect(options).to.include("Something was left out").and.include("A handed-over task was not done");
    await click(button(root, "Report incident"));
    expect(text(root)).to.include("Choose what went wrong.");
    expect(sent).to.have.length(0);
    await fill(field<HTMLSelectElement>(root, "What went wrong"), "omission");
    await fill(field(root, "What happened (optional)"), "The penicillin allergy was not mentioned");
    await click(button(root, "Report incident"));
    expect(sent[0]!.type).to.equal(HandoffEventType.Note);
    expect(sent[0]!.content).to.deep.equal({ handoff_id: HANDOFF_ID, kind: "incident", text: "The penicillin allergy was not mentioned", entry_id: "entry-aaaa01", "m.relates_to": reference(ANCHOR) });
    expect(callsTo("incidents")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, entry_id: "entry-aaaa01", category: "omission", note_event_id: "$sent1" }]]);
    expect(text(root)).to.include("Incident #3 reported.");
  });

  it("keeps the override and the cancel behind More actions, closed, each with its consequence stated first", async function () {
    const p = onePatient({ view: { outstanding: { missing_read_back: [1], open_questions: [], checklist: [] } } });
    const { root } = await show(OUT, p);
    const more = [...root.querySelectorAll("details")].find((d) => d.querySelector("summary")?.textContent === "More actions")!;
    expect(more, "a More actions disclosure").to.not.equal(undefined);
    expect(more.open, "closed until opened").to.equal(false);
    expect(more.contains(button(root, "Sign off anyway (override)"))).to.equal(true);
    expect(more.contains(button(root, "Cancel handoff"))).to.equal(true);
    expect(text(more)).to.include("your reason and what was outstanding stay on the handoff's record").and.include("nothing is signed off, and the patients are not handed over");
    const consequence = [...more.querySelectorAll("p")].find((x) => x.textContent!.includes("not handed over"))!;
    expect(consequence.compareDocumentPosition(button(root, "Cancel handoff")) & Node.DOCUMENT_POSITION_FOLLOWING, "the consequence before the button").to.not.equal(0);
    // Outside the disclosure: the not-ready list, and no plain sign-off.
    expect(more.contains(root.querySelector('[aria-label="Not ready to sign off"]'))).to.equal(false);
  });

  it("links each not-ready item to what is missing, and says when no patient was presented", async function () {
    const p = onePatient({
      state: { open_questions: 1, checklist_total: 1 },
      view: {
        outstanding: { missing_read_back: [1], open_questions: [2], checklist: ["Bed board updated"] },
        questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$q2", number: 2 })],
        checklist: [{ label: "Bed board updated", done: false, by: null, ts: null }],
      },
    });
    const { root } = await show(OUT, p);
    const links = [...root.querySelectorAll('[aria-label="Not ready to sign off"] a')] as HTMLAnchorElement[];
    expect(links.map((a) => a.textContent)).to.deep.equal(["Read-back missing for patient 1", "Question 2 not answered", "Checklist not done: Bed board updated"]);
    for (const a of links) {
      const target = root.querySelector(a.getAttribute("href")!);
      expect(target, a.textContent!).to.not.equal(null);
    }
    expect(root.querySelector(links[0]!.getAttribute("href")!)!.getAttribute("aria-label")).to.equal("Patient 1");
    expect(root.querySelector(links[2]!.getAttribute("href")!)!.getAttribute("aria-label")).to.equal("Checklist");

    const empty = await show(OUT, {
      view: handoffView({ outstanding: { missing_read_back: [], open_questions: [], checklist: ["Bed board updated"] }, checklist: [{ label: "Bed board updated", done: false, by: null, ts: null }] }),
    });
    expect(empty.root.querySelector('[aria-label="Not ready to sign off"] a')!.getAttribute("href")).to.equal("#patients");
    expect(empty.root.querySelector("#patients")!.getAttribute("aria-label")).to.equal("Patients");
    const emptyLinks = [...empty.root.querySelectorAll('[aria-label="Not ready to sign off"] a')].map((a) => a.textContent);
    expect(emptyLinks).to.deep.equal(["No patient presented", "Checklist not done: Bed board updated"]);
  });

  it("hides Remove once the patient is read back", async function () {
    const before = await show(OUT, onePatient());
    expect(queryButton(patient(before.root, 1), "Remove")).to.not.equal(null);
    const after = await show(OUT, onePatient({ entry: { read_back: true, readback_event_id: "$rb1", readback_by: IN, readback_ts: NOW } }));
    expect(queryButton(patient(after.root, 1), "Remove")).to.equal(null);
    expect(queryButton(patient(after.root, 1), "Edit")).to.not.equal(null);
  });

  it("puts a patient's actions in one menu, closed, that closes again once one is chosen", async function () {
    const { root } = await show(OUT, onePatient());
    const menu = patient(root, 1).querySelector<HTMLDetailsElement>("details.action-menu")!;
    expect(menu.open).to.equal(false);
    expect(menu.querySelector("summary")!.textContent).to.equal("Actions for patient 1");
    const inMenu = [...menu.querySelectorAll(".action-menu-items button")].map((b) => b.textContent);
    expect(inMenu).to.deep.equal(["Edit", "Move up", "Move down", "Remove", "Report an incident"]);
    // Outside the menu, the card has no buttons of its own.
    const outside = [...patient(root, 1).querySelectorAll("button")].filter((b) => !menu.contains(b));
    expect(outside.map((b) => b.textContent)).to.deep.equal([]);
    menu.open = true;
    await click(button(menu, "Remove"));
    expect(menu.open).to.equal(false);
    expect(root.ownerDocument.activeElement).to.equal(button(patient(root, 1), "Keep"));
  });

  it("folds a read-back patient to its title and read-back, opens it on request, and open while a question is unanswered", async function () {
    const readBack = { read_back: true, readback_event_id: "$rb1", readback_by: IN, readback_ts: NOW };
    const { root } = await show(IN, onePatient({ entry: readBack }));
    const card = patient(root, 1);
    const fold = card.querySelector<HTMLDetailsElement>("details.patient-details")!;
    expect(fold.open).to.equal(false);
    expect(fold.querySelector("summary")!.textContent).to.equal("Show the details of patient 1");
    expect(fold.contains(card.querySelector('[aria-label="Critical alerts"]'))).to.equal(true);
    expect(text(card)).to.include("Read back");
    fold.open = true;
    fold.dispatchEvent(new Event("toggle"));
    await settle();
    expect(fold.querySelector("summary")!.textContent).to.equal("Hide the details of patient 1");

    const asked = onePatient({ entry: readBack, view: { open_questions: 1, questions: [questionView({ entry_id: "entry-aaaa01", event_id: "$q1" })] } });
    const stillOpen = await show(IN, asked);
    expect(patient(stillOpen.root, 1).querySelector<HTMLDetailsElement>("details.patient-details")!.open).to.equal(true);
    // The question form sits in the fold, where it stays whether the question is open or answered.
    expect(patient(stillOpen.root, 1).querySelector("details.patient-details form[aria-label='Ask about patient 1']")).to.not.equal(null);
    // Not read back yet: shown in full, nothing folded.
    const fresh = await show(IN, onePatient());
    expect(patient(fresh.root, 1).querySelector("details.patient-details")).to.equal(null);
  });

  it("cancels with a reason sent as an encrypted note", async function () {
    const { root, sent, callsTo } = await show(IN, { impl: { cancel: async () => ({ handoff: handoffView({ status: "cancelled", cancelled_ts: NOW }) }) } });
    await fill(field(root, "Reason for cancelling (optional)"), "Started by mistake");
    await click(button(root, "Cancel handoff"));
    expect(sent[0]!.content).to.deep.equal({ handoff_id: HANDOFF_ID, kind: "cancel", text: "Started by mistake", "m.relates_to": reference(ANCHOR) });
    expect(callsTo("cancel")).to.deep.equal([[HANDOFF_ID, { room_id: HANDOFF_ROOM, note_event_id: "$sent1" }]]);
    expect(text(root)).to.include("This handoff was cancelled").and.include("Reason: Started by mistake");
    expect(queryButton(root, "Cancel handoff")).to.equal(null);
  });

  it("shows a completed handoff: duration, sign-offs and overrides, the tasks passed to the incoming, and the report", async function () {
    const p = onePatient({
      state: { status: "completed", completed_ts: NOW, signed_off_by: [OUT, IN], overridden: true, report_event_id: "$report" },
      entry: { read_back: true, readback_event_id: "$rb1", readback_by: IN, readback_ts: NOW - 60_000 },
      view: {
        duration_s: 1500,
        sign_offs: [
          { user_id: OUT, ts: NOW - 30_000, override_event_id: null, outstanding: null },
          { user_id: IN, ts: NOW, override_event_id: "$override", outstanding: { missing_read_back: [], open_questions: [], checklist: ["Bed board updated"] } },
        ],
        tasks: [{ task_id: "task-aaaa01", entry_id: "entry-aaaa01", item_event_id: "$item1", owner: IN, due_ts: NOW + 2 * 3_600_000, status: "open", transferred_from: OUT, transferred_ts: NOW }],
      },
    });
    const events = [...p.events, roomEvent(HandoffEventType.Note, { handoff_id: HANDOFF_ID, kind: "override", text: "Bed board is down" }, { event_id: "$override", sender: IN })];
    const { root } = await show(IN, { ...p, events });
    const done = text(root.querySelector('section[aria-label="Completed"]') as HTMLElement);
    expect(done).to.include("after 25 min");
    expect(done).to.include(`${OUT} signed off at`).and.include(`${IN} signed off at`).and.include("(override)");
    expect(done).to.include(`Tasks now with ${IN}`).and.include("Check sodium result").and.include(`passed on from ${OUT}`);
    expect(done).to.include("The handoff report was posted in this room.");
    expect(text(root)).to.include("Bed board is down");
    for (const name of ["Sign off", "Cancel handoff", "New patient", "Edit", "Send read-back"]) expect(queryButton(root, name), name).to.equal(null);
  });

  it("reloads the server's view whenever the handoff's state changes", async function () {
    const state = handoffState();
    const r = fakeHandoffRoom(IN, state);
    let version = 0;
    const fake = fakeHandoffApi({ handoff: async () => ({ handoff: handoffView({ ...state, patient_count: version }) }) });
    const root = await mount(<HandoffWidget feed={r.feed} api={fake.api} roomId={HANDOFF_ROOM} viewer={IN} room={r.room} />);
    expect(fake.callsTo("handoff")).to.deep.equal([[HANDOFF_ID, HANDOFF_ROOM]]);
    version = 1;
    await act(() => r.feed.addState([stateEvent(handoffState({ patient_count: 1 }))]));
    await settle();
    expect(fake.callsTo("handoff")).to.have.length(2);
    expect(text(root)).to.include("1 patient · 0 of 1 read back");
  });
});

describe("handoff widgets: capabilities and API client", function () {
  it("asks for exactly the capabilities each widget needs", function () {
    const events = ["item", "readback", "question", "answer", "note"].map((v) => `health.rounds.handoff.${v}`);
    expect(handoffCapabilities(HANDOFF_ROOM)).to.deep.equal([
      "org.matrix.msc2762.receive.state_event:health.rounds.handoff",
      ...events.map((e) => `org.matrix.msc2762.receive.event:${e}`),
      ...events.map((e) => `org.matrix.msc2762.send.event:${e}`),
      `org.matrix.msc2762.timeline:${HANDOFF_ROOM}`,
    ]);
    expect(handoffsCapabilities("!dm:rounds.test")).to.deep.equal([]);
  });

  it("calls the handoff routes, naming the room on reads", async function () {
    const seen: { method: string; url: string; body: unknown }[] = [];
    const fetcher = async (url: string, init: RequestInit) => {
      seen.push({ method: String(init.method), url, body: init.body ? JSON.parse(String(init.body)) : undefined });
      const body = url.endsWith("/exchange_openid") ? { token: "t", userId: OUT } : { handoff: handoffView() };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    };
    const api = httpHandoffApi(new ApiSession(async () => ({ access_token: "oid", matrix_server_name: "rounds.test" }), fetcher));
    await api.handoff(HANDOFF_ID, HANDOFF_ROOM);
    await api.removeItem(HANDOFF_ID, "entry-aaaa01", { room_id: HANDOFF_ROOM });
    await api.signOff(HANDOFF_ID, { room_id: HANDOFF_ROOM, override_event_id: "$n" });
    await api.start({ room_id: "!dm:rounds.test", unit: "4west", incoming: IN });
    expect(seen.slice(1).map((s) => [s.method, s.url])).to.deep.equal([
      ["GET", `/_rounds/widget/api/v1/handoff/handoffs/${HANDOFF_ID}?room_id=${encodeURIComponent(HANDOFF_ROOM)}`],
      ["POST", `/_rounds/widget/api/v1/handoff/handoffs/${HANDOFF_ID}/items/entry-aaaa01/remove`],
      ["POST", `/_rounds/widget/api/v1/handoff/handoffs/${HANDOFF_ID}/signoff`],
      ["POST", "/_rounds/widget/api/v1/handoff/handoffs"],
    ]);
    expect(seen[3]!.body).to.deep.equal({ room_id: HANDOFF_ROOM, override_event_id: "$n" });
  });
});
