import { expect } from "chai";
import type { HandoffMetricsResponse, MyHandoffsResponse, UnitsResponse } from "../../appservice/shared/handoffApi.js";
import { ApiError } from "../../widgets/lib/apiFetch.js";
import type { HandoffApi } from "../../widgets/lib/handoffApi.js";
import { HandoffsApp } from "../../widgets/handoff-dashboard/HandoffsApp.js";
import { MyHandoffs } from "../../widgets/handoff-dashboard/MyHandoffs.js";
import { StartHandoffForm } from "../../widgets/handoff-dashboard/StartHandoffForm.js";
import { UnitQuality } from "../../widgets/handoff-dashboard/UnitQuality.js";
import { button, click, field, fill, mount, settle, text, useDom } from "./dom.js";
import { NOW, pinClockToNow } from "./fixtures.js";
import { HANDOFF_ROOM, IN, OUT, entryView, fakeHandoffApi, handoffView } from "./handoffFixtures.js";

const DM_ROOM = "!handoffs:rounds.test";
const UNITS: UnitsResponse = { units: [{ id: "4west", name: "4 West", template: "sbar", checklist: [], room_id: null }] };
const TWO_UNITS: UnitsResponse = { units: [...UNITS.units, { id: "icu", name: "Intensive care", template: "ipass", checklist: ["Lines checked"], room_id: "!icu:rounds.test" }] };

describe("handoffs widget: start a handoff", function () {
  pinClockToNow();
  useDom("https://rounds.example/_rounds/widgets/handoff-dashboard/index.html");

  async function showForm(impl: Partial<HandoffApi> = {}) {
    const fake = fakeHandoffApi({ units: async () => UNITS, ...impl });
    const root = await mount(<StartHandoffForm api={fake.api} roomId={DM_ROOM} viewer={OUT} />);
    return { ...fake, root };
  }

  it("refuses a malformed Matrix id and a handoff to yourself, then starts one and links to its room", async function () {
    const { root, callsTo } = await showForm({ start: async () => ({ handoff: handoffView({ number: 9 }) }) });
    expect(field<HTMLSelectElement>(root, "Unit").value, "the only unit is preselected").to.equal("4west");

    await fill(field(root, "Incoming clinician"), "night nurse");
    await click(button(root, "Start handoff"));
    expect(text(root)).to.include("Choose the incoming clinician from the list, or type their full Matrix id, like @name:hospital.org.");
    expect(field(root, "Incoming clinician").getAttribute("aria-invalid")).to.equal("true");

    await fill(field(root, "Incoming clinician"), OUT);
    await click(button(root, "Start handoff"));
    expect(text(root)).to.include("You cannot hand off to yourself");
    expect(callsTo("start")).to.have.length(0);

    await fill(field(root, "Incoming clinician"), ` ${IN} `);
    await click(button(root, "Start handoff"));
    expect(callsTo("start")).to.deep.equal([[{ room_id: DM_ROOM, unit: "4west", incoming: IN }]]);
    const status = root.querySelector('[role="status"]') as HTMLElement;
    expect(text(status)).to.include("Handoff #9 started.");
    expect(status.querySelector("a")!.getAttribute("href")).to.equal(`https://matrix.to/#/${HANDOFF_ROOM}`);
  });

  it("asks for a unit when there are several, and shows the server's refusal as given", async function () {
    const { root, callsTo } = await showForm({
      units: async () => TWO_UNITS,
      start: async () => Promise.reject(new ApiError(404, "RND_HANDOFF_UNKNOWN_USER", `${IN} is not known to Rounds.`)),
    });
    expect([...field<HTMLSelectElement>(root, "Unit").options].map((o) => o.textContent)).to.deep.equal(["Choose a unit…", "4 West (SBAR)", "Intensive care (I-PASS)"]);
    await fill(field(root, "Incoming clinician"), IN);
    await click(button(root, "Start handoff"));
    expect(text(root)).to.include("Choose the unit.");
    expect(callsTo("start")).to.have.length(0);
    await fill(field<HTMLSelectElement>(root, "Unit"), "icu");
    await click(button(root, "Start handoff"));
    expect(callsTo("start")).to.deep.equal([[{ room_id: DM_ROOM, unit: "icu", incoming: IN }]]);
    expect(text(root)).to.include(`${IN} is not known to Rounds.`);
  });

  it("offers the chosen unit's next shift and room members first in the picker", async function () {
    const { root, callsTo } = await showForm({ units: async () => TWO_UNITS, unitPeople: async (unit) => ({ people: unit === "icu" ? [IN] : [] }) });
    await fill(field<HTMLSelectElement>(root, "Unit"), "icu");
    await settle();
    expect(callsTo("unitPeople")).to.deep.equal([["icu"]]);
    await fill(field(root, "Incoming clinician"), IN.slice(1, 4));
    await settle();
    const options = [...root.querySelectorAll('[role="option"]')].map((o) => o.textContent ?? "");
    expect(options[0]).to.include(IN.slice(1, IN.indexOf(":")));
  });

  it("in a unit's own room, preselects that unit among several", async function () {
    const fake = fakeHandoffApi({ units: async () => TWO_UNITS });
    const root = await mount(<StartHandoffForm api={fake.api} roomId="!icu:rounds.test" viewer={OUT} />);
    expect(field<HTMLSelectElement>(root, "Unit").value).to.equal("icu");
  });
});

describe("handoffs widget: my handoffs and unit quality", function () {
  pinClockToNow();
  useDom();

  it("lists active and recent handoffs with counterpart, progress and deadline, and my open tasks without their text", async function () {
    const active = handoffView({
      id: "h1",
      number: 4,
      room_id: "!h1:rounds.test",
      patient_count: 3,
      read_back_count: 1,
      open_questions: 2,
      deadline_ts: NOW - 5 * 60_000,
      overdue: true,
      entries: [entryView({ entry_id: "entry-aaaa01", item_event_id: "$i1", number: 2 })],
    });
    const incoming = handoffView({ id: "h2", number: 5, outgoing: "@evening.nurse:rounds.test", incoming: OUT, room_id: "!h2:rounds.test", deadline_ts: NOW + 15 * 60_000 });
    const recent = handoffView({ id: "h0", number: 3, status: "completed", completed_ts: NOW - 86_400_000, duration_s: 1800, room_id: "!h0:rounds.test" });
    const mine: MyHandoffsResponse = {
      active: [active, incoming],
      recent: [recent],
      tasks: [
        {
          task_id: "task-aaaa01",
          entry_id: "entry-aaaa01",
          item_event_id: "$i1",
          owner: OUT,
          due_ts: NOW - 10 * 60_000,
          status: "open",
          transferred_from: null,
          transferred_ts: null,
          handoff_id: "h1",
          handoff_number: 4,
          room_id: "!h1:rounds.test",
        },
      ],
    };
    const fake = fakeHandoffApi({ mine: async () => mine });
    const root = await mount(<MyHandoffs api={fake.api} viewer={OUT} />);
    const section = (name: string) => root.querySelector(`section[aria-label="${name}"]`) as HTMLElement;

    const items = [...section("Active handoffs").querySelectorAll("li")].map((li) => text(li as HTMLElement));
    expect(items[0]).to.include("#4 4 West").and.include(`to ${IN}`).and.include("Presenting patients").and.include("Overdue");
    expect(items[0]).to.include("3 patients, 1 read back, 2 open questions").and.include("overdue by 5 min");
    expect(items[1]).to.include("#5 4 West").and.include("from @evening.nurse:rounds.test").and.include("(in 15 min)");
    expect(section("Active handoffs").querySelector("a")!.getAttribute("href")).to.equal("https://matrix.to/#/!h1:rounds.test");

    const task = text(section("My tasks"));
    expect(task).to.include("Handoff #4, patient 2").and.include("overdue by 10 min").and.include("Open the handoff room");
    expect(section("My tasks").querySelector("a")!.getAttribute("href")).to.equal("https://matrix.to/#/!h1:rounds.test");
    expect(text(section("Recent handoffs"))).to.include("#3 4 West").and.include("Completed").and.include("took 30 min");
  });

  it("shows each unit's handoff quality: durations, read-back share, questions, overrides and overdue", async function () {
    const metrics: HandoffMetricsResponse = {
      since: new Date(NOW - 30 * 86_400_000).toISOString(),
      units: [
        { unit: "4west", handoffs: 12, duration_p50_s: 900, duration_p90_s: 2400, read_back_share: 0.917, questions_per_handoff: 1.25, overrides: 2, overdue: 1 },
        { unit: "er", handoffs: 0, duration_p50_s: null, duration_p90_s: null, read_back_share: null, questions_per_handoff: null, overrides: 0, overdue: 0 },
      ],
    };
    const fake = fakeHandoffApi({ metrics: async () => metrics, units: async () => UNITS });
    const root = await mount(<UnitQuality api={fake.api} />);
    const headers = [...root.querySelectorAll("thead th")].map((th) => text(th as HTMLElement));
    expect(headers).to.deep.equal(["Unit", "Handoffs", "Duration", "Read back", "Questions per handoff", "Overrides", "Overdue"]);
    const rows = [...root.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => text(td as HTMLElement)));
    expect(rows).to.deep.equal([
      ["4 West", "12", "15 min / 40 min", "92 %", "1.3", "2", "1"],
      ["er", "0", "— / —", "—", "—", "0", "0"],
    ]);
  });

  it("tells a clinician from another server plainly that unit quality is not shown to them", async function () {
    const fake = fakeHandoffApi({
      metrics: async () => Promise.reject(new ApiError(403, "M_FORBIDDEN", "Only local users may see unit metrics.")),
      units: async () => UNITS,
    });
    const root = await mount(<UnitQuality api={fake.api} />);
    expect(text(root)).to.equal("Unit quality figures are shown to this hospital's own clinicians only.");
    expect(root.querySelector('[role="alert"]')).to.equal(null);
  });

  it("opens on the start form and loads unit quality only when its tab is chosen", async function () {
    const fake = fakeHandoffApi({ units: async () => UNITS, mine: async () => ({ active: [], recent: [], tasks: [] }), metrics: async () => ({ since: new Date(NOW).toISOString(), units: [] }) });
    const root = await mount(<HandoffsApp api={fake.api} roomId={DM_ROOM} viewer={OUT} />);
    expect([...root.querySelectorAll("h1")].map((h) => h.textContent), "one h1").to.deep.equal(["Handoffs"]);
    expect((root.querySelector("#panel-start") as HTMLElement).hidden).to.equal(false);
    expect(fake.callsTo("metrics")).to.have.length(0);
    await click(button(root, "Unit quality"));
    expect(fake.callsTo("metrics")).to.have.length(1);
    expect(text(root.querySelector("#panel-quality") as HTMLElement)).to.include("No completed handoffs yet.");
  });
});
