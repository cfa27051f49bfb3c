import { expect } from "chai";
import type { HandoffActions, SentEvent } from "../../appservice/handoff/handoffActions.js";
import { HandoffError } from "../../appservice/handoff/handoffErrors.js";
import type { OpenRoomOptions, RoomWidget, RoomWriter } from "../../appservice/ports/roomWriter.js";
import { HandoffEventType, INCIDENT_CATEGORIES, clientId, type HandoffItemContent } from "../../appservice/shared/events/index.js";
import type { HandoffEntryView, HandoffView, MyHandoffsResponse } from "../../appservice/shared/handoffApi.js";
import { HANDOFF_BOT } from "../../bots/handoffBot.js";
import { handoffCommands } from "../../bots/handoffCommands.js";
import { CommandTable, type CommandContext } from "../../bots/commands.js";
import { type HandoffUnit } from "../../appservice/handoff/handoffUnitSchema.js";

const OUT = "@amy:x.org";
const IN = "@bob:x.org";
const ROOM = "!handoff:x.org";
const SENT_AT = new Date("2026-05-12T15:00:00Z");

function entry(n: number, over: Partial<HandoffEntryView> = {}): HandoffEntryView {
  return {
    entry_id: `entry-${n}-abc`,
    number: n,
    version: 1,
    item_event_id: `$item${n}`,
    history: [],
    presented_by: OUT,
    presented_ts: SENT_AT.getTime(),
    read_back: false,
    readback_event_id: null,
    readback_by: null,
    readback_ts: null,
    ...over,
  };
}

function view(over: Partial<HandoffView> = {}): HandoffView {
  return {
    id: "01HANDOFF",
    number: 7,
    unit: "4west",
    unit_name: "4 West",
    template: "sbar",
    time_zone: "Europe/London",
    mode: "face_to_face",
    status: "presenting",
    outgoing: OUT,
    incoming: IN,
    patient_count: 0,
    read_back_count: 0,
    open_questions: 0,
    checklist_done: 0,
    checklist_total: 0,
    signed_off_by: [],
    scheduled_for_ts: null,
    created_ts: SENT_AT.getTime(),
    deadline_ts: Date.parse("2026-05-12T15:30:00Z"),
    overdue: false,
    escalated_to: [],
    escalated_ts: null,
    completed_ts: null,
    cancelled_ts: null,
    anchor_event_id: "$anchor",
    report_event_id: null,
    overridden: false,
    room_id: ROOM,
    entries: [],
    questions: [],
    tasks: [],
    checklist: [],
    sign_offs: [],
    outstanding: { missing_read_back: [], open_questions: [], checklist: [] },
    duration_s: null,
    ...over,
  };
}

const UNIT: HandoffUnit = {
  id: "4west",
  name: "4 West",
  template: "sbar",
  timezone: "UTC",
  shift_times: [],
  mode: "face_to_face",
  checklist: [],
  incident_reviewers: [],
};

type Call = { method: string; args: unknown[] };

/** Records every call; returns canned views. `fail` makes the named method refuse. */
class FakeHandoffs implements HandoffActions {
  calls: Call[] = [];
  current: HandoffView | null = view();
  /** What the next acting call returns; the current view when unset. */
  next: HandoffView | null = null;
  item: HandoffItemContent | null = null;
  mine: MyHandoffsResponse = { active: [], recent: [], tasks: [] };
  texts = new Map<string, string>();
  /** What each request id already did, as the service would have recorded it. */
  removedByRequest = new Map<string, { entry_id: string; number: number }>();
  doneByRequest = new Map<string, { handoff_id: string; handoff_number: number; task_id: string }>();
  fail: { method: string; error: Error } | null = null;

  private record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.fail?.method === method) throw this.fail.error;
  }
  private result(): HandoffView {
    return this.next ?? this.current ?? view();
  }
  called(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  async saveUnit(input: unknown) {
    this.record("saveUnit", [input]);
    return UNIT;
  }
  async listUnits() {
    this.record("listUnits", []);
    return [UNIT];
  }
  async start(input: { actor: string; incoming: string; unit?: string; sourceRoomId: string; scheduledFor?: Date }) {
    this.record("start", [input]);
    return this.result();
  }
  async get(id: string) {
    this.record("get", [id]);
    return this.result();
  }
  async inRoom(roomId: string) {
    this.record("inRoom", [roomId]);
    return this.current;
  }
  async recordItem(actor: string, event: SentEvent) {
    this.record("recordItem", [actor, event]);
    return this.result();
  }
  async recordReadBack(actor: string, event: SentEvent) {
    this.record("recordReadBack", [actor, event]);
    return this.result();
  }
  async recordQuestion(actor: string, event: SentEvent) {
    this.record("recordQuestion", [actor, event]);
    return this.result();
  }
  async recordAnswer(actor: string, event: SentEvent) {
    this.record("recordAnswer", [actor, event]);
    return this.result();
  }
  async presentItem(id: string, actor: string, input: unknown, txnKey: string) {
    this.record("presentItem", [id, actor, input, txnKey]);
    return this.result();
  }
  async readBack(id: string, actor: string, entryNumber: number, summary: string, txnKey: string) {
    this.record("readBack", [id, actor, entryNumber, summary, txnKey]);
    return this.result();
  }
  async ask(id: string, actor: string, entryNumber: number, text: string, txnKey: string) {
    this.record("ask", [id, actor, entryNumber, text, txnKey]);
    return this.result();
  }
  async answer(id: string, actor: string, questionNumber: number, text: string, txnKey: string) {
    this.record("answer", [id, actor, questionNumber, text, txnKey]);
    return this.result();
  }
  async readItem(id: string, entryNumber: number) {
    this.record("readItem", [id, entryNumber]);
    return this.item;
  }
  async removeEntry(id: string, actor: string, entryId: string, requestId?: string) {
    this.record("removeEntry", [id, actor, entryId, requestId]);
    return this.result();
  }
  async removedBy(id: string, requestId: string | undefined) {
    this.record("removedBy", [id, requestId]);
    return (requestId && this.removedByRequest.get(requestId)) || null;
  }
  async reorder(id: string, actor: string, entryIds: string[]) {
    this.record("reorder", [id, actor, entryIds]);
    return this.result();
  }
  async setChecklist(id: string, actor: string, index: number, done: boolean) {
    this.record("setChecklist", [id, actor, index, done]);
    return this.result();
  }
  async signOff(id: string, actor: string, override?: unknown) {
    this.record("signOff", [id, actor, override]);
    return this.result();
  }
  async cancel(id: string, actor: string, note?: unknown) {
    this.record("cancel", [id, actor, note]);
    return this.result();
  }
  async reportIncident(id: string, actor: string, input: unknown) {
    this.record("reportIncident", [id, actor, input]);
    return { handoff: this.result(), incident: 3 };
  }
  async forUser(userId: string) {
    this.record("forUser", [userId]);
    return this.mine;
  }
  async completeTask(handoffId: string, actor: string, taskId: string, requestId?: string) {
    this.record("completeTask", [handoffId, actor, taskId, requestId]);
    return this.result();
  }
  async taskDoneBy(actor: string, requestId: string | undefined) {
    this.record("taskDoneBy", [actor, requestId]);
    return (requestId && this.doneByRequest.get(requestId)) || null;
  }
  async taskText(handoffId: string, taskId: string) {
    this.record("taskText", [handoffId, taskId]);
    return this.texts.get(taskId) ?? null;
  }
  async quality(): Promise<never> {
    throw new Error("not used");
  }
  async audit(): Promise<never> {
    throw new Error("not used");
  }
}

/** Only what the handoff commands use: opening a room with the widget's state. */
class FakeRooms {
  opened: { key: string; opts: OpenRoomOptions }[] = [];
  async openRoom(key: string, opts: OpenRoomOptions): Promise<string> {
    this.opened.push({ key, opts });
    return "!dashboard:x.org";
  }
  widgetState(widget: RoomWidget) {
    return [{ type: "im.vector.modular.widgets", stateKey: widget.id, content: { url: widget.url, name: widget.name } }];
  }
}

function setup() {
  const handoffs = new FakeHandoffs();
  const rooms = new FakeRooms();
  const built = handoffCommands(handoffs, rooms as unknown as RoomWriter, { dashboardWidgetUrl: "https://rounds.x.org/widgets/handoff-dashboard/" });
  const table = CommandTable.forBot(HANDOFF_BOT, built.commands);
  for (const h of built.eventHandlers ?? []) table.eventHandlers.set(h.type, h);
  const errors: unknown[] = [];
  let seq = 0;
  const ctx = (over: Partial<CommandContext> = {}): CommandContext => ({ sender: OUT, roomId: ROOM, sentAt: SENT_AT, eventId: `$cmd${++seq}`, encrypted: true, ...over });
  const run = async (body: string, over: Partial<CommandContext> = {}) => {
    const c = ctx(over);
    const result = await table.dispatch(body, { ...c, body }, (e) => errors.push(e));
    return { ...result!, eventId: c.eventId };
  };
  return { handoffs, rooms, table, built, run, ctx, errors };
}

const threePatients = () =>
  view({
    entries: [entry(1, { read_back: true, readback_by: IN }), entry(2), entry(3)],
    questions: [
      { number: 1, entry_id: "entry-2-abc", event_id: "$q1", asked_by: IN, asked_ts: 1, answer_event_id: null, answered_by: null, answered_ts: null },
      { number: 2, entry_id: "entry-1-abc", event_id: "$q2", asked_by: IN, asked_ts: 1, answer_event_id: "$a2", answered_by: OUT, answered_ts: 2 },
    ],
    checklist: [
      { label: "Bed board updated", done: true, by: OUT, ts: 1 },
      { label: "Controlled drugs counted", done: false, by: null, ts: null },
    ],
    outstanding: { missing_read_back: [2, 3], open_questions: [1], checklist: ["Controlled drugs counted"] },
  });

describe("handoff bot commands", function () {
  it("names the bot and lists every sub-command in the help", async function () {
    const { table } = setup();
    expect(HANDOFF_BOT).to.include({ name: "handoff", displayName: "Rounds Handoffs" });
    const help = table.help();
    for (const sub of ["start", "add", "edit", "remove", "move", "list", "show", "readback", "question", "answer", "check", "uncheck", "status", "signoff", "cancel", "incident", "tasks", "done"]) {
      expect(help).to.contain(`!handoff ${sub}`);
    }
  });

  it("!handoff opens the clinician's own Handoffs room with the widget pinned at creation", async function () {
    const { run, rooms, handoffs } = setup();
    const r = await run("!handoff");
    expect(r.outcome).to.equal("ok");
    expect(r.reply).to.contain("https://matrix.to/#/!dashboard:x.org");
    expect(rooms.opened).to.have.length(1);
    const { key, opts } = rooms.opened[0]!;
    expect(key).to.equal(`handoffs:${OUT}`);
    expect(opts).to.deep.include({ name: "Handoffs", members: [OUT], direct: true });
    expect(opts.initialState).to.deep.equal([{ type: "im.vector.modular.widgets", stateKey: "rounds-handoffs", content: { url: "https://rounds.x.org/widgets/handoff-dashboard/", name: "Handoffs" } }]);
    expect(handoffs.calls).to.deep.equal([]);
  });

  describe("start", function () {
    it("refuses an incoming clinician that is not a Matrix user id, without calling the service", async function () {
      const { run, handoffs } = setup();
      for (const body of ["!handoff start notauser", "!handoff start", "!handoff start 4west bob", "!handoff start a b @bob:x.org"]) {
        const r = await run(body, { roomId: "!ward:x.org" });
        expect(r.outcome, body).to.equal("user_error");
        expect(r.reply, body).to.contain("Matrix");
        expect(r.reply, body).to.contain("@bob:example.org");
      }
      expect(handoffs.called("start")).to.deep.equal([]);
    });

    it("starts with the unit and incoming, and replies with the number, both people, the deadline and the room", async function () {
      const { run, handoffs } = setup();
      const r = await run(`!handoff start 4West ${IN}`, { roomId: "!ward:x.org" });
      expect(r.outcome).to.equal("ok");
      expect(handoffs.called("start")[0]!.args).to.deep.equal([{ actor: OUT, incoming: IN, unit: "4west", sourceRoomId: "!ward:x.org" }]);
      expect(r.reply).to.contain("Handoff #7").and.contain(OUT).and.contain(IN).and.contain("15:30 UTC").and.contain(`https://matrix.to/#/${ROOM}`).and.contain("widget pinned");

      await run(`!handoff start ${IN}`, { roomId: "!ward:x.org" });
      expect(handoffs.called("start")[1]!.args).to.deep.equal([{ actor: OUT, incoming: IN, unit: undefined, sourceRoomId: "!ward:x.org" }]);
      await run(`!handoff start ${IN} 4west`, { roomId: "!ward:x.org" });
      expect(handoffs.called("start")[2]!.args).to.deep.equal([{ actor: OUT, incoming: IN, unit: "4west", sourceRoomId: "!ward:x.org" }]);
    });
  });

  it("outside a handoff room, says to use the handoff room or start one", async function () {
    const { run, handoffs } = setup();
    handoffs.current = null;
    const r = await run("!handoff list", { roomId: "!elsewhere:x.org" });
    expect(r.outcome).to.equal("user_error");
    expect(r.reply).to.contain("handoff room").and.contain("!handoff start @incoming");
    expect(handoffs.called("inRoom")[0]!.args).to.deep.equal(["!elsewhere:x.org"]);
  });

  describe("add", function () {
    it("parses the SBAR sections (multi-line, tasks with owner and due, alerts, meds, contingencies) and presents them keyed by the event", async function () {
      const { run, handoffs } = setup();
      handoffs.current = view({ entries: [entry(1)] });
      handoffs.next = view({ entries: [entry(1), entry(2)] });
      const body = [
        "!handoff add Patient/p-123 bed 4",
        "S: 72M day 2 post hip ORIF",
        "confused overnight",
        "B: AF on apixaban",
        "A: delirium likely",
        "R: neuro obs 4-hourly",
        "Alert: penicillin allergy",
        "Med: apixaban held",
        "Task: chase sodium @carol:x.org due 16:30",
        "If: agitated then haloperidol 0.5 mg",
        "Code: full escalation",
      ].join("\n");
      const r = await run(body);
      expect(r.outcome, r.reply).to.equal("ok");
      const [call] = handoffs.called("presentItem");
      const [id, actor, input, txnKey] = call!.args as [string, string, { sections: Record<string, unknown> & { tasks: { id: string }[] } }, string];
      expect([id, actor, txnKey]).to.deep.equal(["01HANDOFF", OUT, r.eventId]);
      expect(input).to.have.keys(["sections"]);
      const taskId = input.sections.tasks[0]!.id;
      expect(clientId.safeParse(taskId).success).to.equal(true);
      expect(input.sections).to.deep.equal({
        patient_ref: "Patient/p-123",
        label: "bed 4",
        sbar: { situation: "72M day 2 post hip ORIF\nconfused overnight", background: "AF on apixaban", assessment: "delirium likely", recommendation: "neuro obs 4-hourly" },
        critical_alerts: ["penicillin allergy"],
        medication_changes: ["apixaban held"],
        tasks: [{ id: taskId, text: "chase sodium", owner: "@carol:x.org", due_ts: Date.parse("2026-05-12T16:30:00Z") }],
        contingencies: [{ if: "agitated", then: "haloperidol 0.5 mg" }],
        code_status: "full escalation",
      });
      expect(r.reply).to.contain("Patient 2 added to handoff #7").and.contain(`!handoff readback 2`);
      expect(r.reply).not.to.contain("p-123");
    });

    it("refuses an item without a Recommendation, naming it, and calls nothing", async function () {
      const { run, handoffs } = setup();
      const r = await run("!handoff add Encounter/e-9\nS: s\nB: b\nA: a");
      expect(r.outcome).to.equal("user_error");
      expect(r.reply).to.contain("missing Recommendation (R:)");
      expect(r.reply).not.to.contain("e-9");
      expect(handoffs.called("presentItem")).to.deep.equal([]);
    });

    it("refuses a missing or malformed patient reference without echoing it", async function () {
      const { run, handoffs } = setup();
      const r = await run("!handoff add MRN-445566 John\nS: s\nB: b\nA: a\nR: r");
      expect(r.outcome).to.equal("user_error");
      expect(r.reply).to.contain("Patient/").and.not.contain("445566").and.not.contain("John");
      expect(handoffs.called("presentItem")).to.deep.equal([]);
    });

    it("refuses clinical text from an unencrypted room", async function () {
      const { run, handoffs } = setup();
      const r = await run("!handoff add Patient/1\nS: s\nB: b\nA: a\nR: r", { encrypted: false });
      expect(r.outcome).to.equal("user_error");
      expect(r.reply).to.contain("not end-to-end encrypted");
      expect(handoffs.called("presentItem")).to.deep.equal([]);
    });

    it("parses I-PASS sections in an I-PASS handoff", async function () {
      const { run, handoffs } = setup();
      handoffs.current = view({ template: "ipass" });
      const r = await run("!handoff add Encounter/e1\nSeverity: unstable\nSummary: 45F DKA\nActions: hourly glucose\nAwareness: watch K+");
      expect(r.outcome, r.reply).to.equal("ok");
      const sections = (handoffs.called("presentItem")[0]!.args[2] as { sections: Record<string, unknown> }).sections;
      expect(sections).to.deep.equal({
        patient_ref: "Encounter/e1",
        ipass: { illness_severity: "unstable", patient_summary: "45F DKA", action_list: "hourly glucose", situation_awareness: "watch K+" },
      });
    });
  });

  describe("edit", function () {
    it("passes the entry number and only the given sections, SBAR fields merged onto the current version", async function () {
      const { run, handoffs } = setup();
      handoffs.current = view({ entries: [entry(1), entry(2)] });
      handoffs.item = {
        handoff_id: "01HANDOFF",
        entry_id: "entry-2-abc",
        version: 1,
        template: "sbar",
        patient_ref: "Patient/2",
        sbar: { situation: "s", background: "b", assessment: "a", recommendation: "old" },
        critical_alerts: [],
        tasks: [],
        medication_changes: [],
        recent_events: "",
        code_status: "",
        contingencies: [],
      };
      const r = await run("!handoff edit 2\nR: new plan\nAlert: latex allergy");
      expect(r.outcome, r.reply).to.equal("ok");
      expect(handoffs.called("readItem")[0]!.args).to.deep.equal(["01HANDOFF", 2]);
      expect(handoffs.called("presentItem")[0]!.args).to.deep.equal([
        "01HANDOFF",
        OUT,
        { entryNumber: 2, sections: { sbar: { situation: "s", background: "b", assessment: "a", recommendation: "new plan" }, critical_alerts: ["latex allergy"] } },
        r.eventId,
      ]);

      await run("!handoff edit 1\nCode: DNACPR");
      expect(handoffs.called("presentItem")[1]!.args[2]).to.deep.equal({ entryNumber: 1, sections: { code_status: "DNACPR" } });
    });

    it("refuses an edit with no sections or of a patient that does not exist", async function () {
      const { run, handoffs } = setup();
      handoffs.current = view({ entries: [entry(1)] });
      expect((await run("!handoff edit 1")).reply).to.contain("Nothing to change");
      expect((await run("!handoff edit 5\nR: x")).reply).to.contain("has no patient 5");
      expect(handoffs.called("presentItem")).to.deep.equal([]);
    });
  });

  it("move computes the new order of entry ids from the list", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    await run("!handoff move 3 1");
    await run("!handoff move 1 3");
    await run("!handoff move 2 2");
    expect(handoffs.called("reorder").map((c) => c.args)).to.deep.equal([
      ["01HANDOFF", OUT, ["entry-3-abc", "entry-1-abc", "entry-2-abc"]],
      ["01HANDOFF", OUT, ["entry-2-abc", "entry-3-abc", "entry-1-abc"]],
      ["01HANDOFF", OUT, ["entry-1-abc", "entry-2-abc", "entry-3-abc"]],
    ]);
    const bad = await run("!handoff move 1 4");
    expect(bad.reply).to.contain("from 1 to 3");
    expect(handoffs.called("reorder")).to.have.length(3);

    // Numbers stay with the patients: the list order is the server's, not the numbers'.
    const reordered = threePatients();
    handoffs.current = { ...reordered, entries: [reordered.entries[2]!, reordered.entries[0]!, reordered.entries[1]!] };
    const moved = await run("!handoff move 1 1");
    expect(handoffs.called("reorder")[3]!.args[2]).to.deep.equal(["entry-1-abc", "entry-3-abc", "entry-2-abc"]);
    expect(moved.reply).to.contain("Patient 1 is now at position 1 on the list (still patient 1)");
    expect((await run("!handoff list")).reply.split("\n").slice(1, 4).map((l) => l.split(".")[0])).to.deep.equal(["3", "1", "2"]);
  });

  it("remove names the entry by its id", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    await run("!handoff remove 2", { eventId: "$remove" });
    expect(handoffs.called("removeEntry")[0]!.args).to.deep.equal(["01HANDOFF", OUT, "entry-2-abc", "$remove"]);
  });

  it("remove retried after its patient left the list finishes that removal, named by what the request recorded", async function () {
    const { run, handoffs } = setup();
    const three = threePatients();
    handoffs.current = { ...three, entries: three.entries.filter((e) => e.number !== 2) };
    handoffs.removedByRequest.set("$remove", { entry_id: "entry-2-abc", number: 2 });
    const r = await run("!handoff remove 2", { eventId: "$remove" });
    expect(r.outcome, r.reply).to.equal("ok");
    expect(r.reply).to.match(/^Patient 2 is off handoff #\d+; 2 patients left/);
    expect(handoffs.called("removeEntry")[0]!.args).to.deep.equal(["01HANDOFF", OUT, "entry-2-abc", "$remove"]);
    // Another command naming the same number is told the patient is not on the list.
    expect((await run("!handoff remove 2", { eventId: "$other" })).reply).to.match(/no patient 2/);
    expect(handoffs.called("removeEntry")).to.have.length(1);
  });

  it("list shows numbers, read-back marks and open questions, and no clinical content", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    const r = await run("!handoff list", { encrypted: false });
    expect(r.reply).to.contain("1. ✓ read back\n2. ✗ not read back, open question #1\n3. ✗ not read back");
    expect(r.reply).to.contain("!handoff show <n>");
    expect(handoffs.called("readItem")).to.deep.equal([]);
  });

  it("show renders every section, critical alerts first, and requires an encrypted room", async function () {
    const { run, handoffs } = setup();
    handoffs.current = view({
      entries: [entry(1)],
      tasks: [{ task_id: "task-aaaaaa", entry_id: "entry-1-abc", item_event_id: "$item1", owner: IN, due_ts: Date.parse("2026-05-12T16:30:00Z"), status: "open", transferred_from: OUT, transferred_ts: 1 }],
    });
    handoffs.item = {
      handoff_id: "01HANDOFF",
      entry_id: "entry-1-abc",
      version: 1,
      template: "sbar",
      patient_ref: "Patient/p1",
      label: "bed 4",
      sbar: { situation: "sit", background: "back", assessment: "assess", recommendation: "rec" },
      critical_alerts: ["anaphylaxis to penicillin"],
      tasks: [{ id: "task-aaaaaa", text: "chase sodium" }],
      medication_changes: ["apixaban held"],
      recent_events: "fall at 03:00",
      code_status: "DNACPR",
      contingencies: [{ if: "agitated", then: "haloperidol" }],
    };
    const refused = await run("!handoff show 1", { encrypted: false });
    expect(refused.outcome).to.equal("user_error");
    expect(handoffs.called("readItem")).to.deep.equal([]);

    const r = await run("!handoff show 1");
    const lines = r.reply.split("\n");
    expect(lines[0]).to.equal(`Patient 1 — Patient/p1 · bed 4 (version 1, presented by ${OUT})`);
    expect(lines[1]).to.equal("⚠️ CRITICAL: anaphylaxis to penicillin");
    expect(lines[2]).to.equal("Code status: DNACPR");
    for (const part of ["Situation: sit", "Background: back", "Assessment: assess", "Recommendation: rec", "💊 MEDICATION CHANGES:", "💊 apixaban held", `chase sodium — ${IN}, due 16:30 UTC`, "If agitated then haloperidol", "Recent events: fall at 03:00", "Not read back yet"]) {
      expect(r.reply).to.contain(part);
    }
  });

  it("readback requires encryption, then passes the number, the summary with its line breaks and the event id", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    const refused = await run("!handoff readback 2 stable overnight, recheck sodium", { encrypted: false, sender: IN });
    expect(refused.outcome).to.equal("user_error");
    expect(refused.reply).to.contain("not end-to-end encrypted");
    expect(handoffs.called("readBack")).to.deep.equal([]);

    const r = await run("!handoff readback 2 stable overnight,\nrecheck sodium at 6", { sender: IN });
    expect(handoffs.called("readBack")[0]!.args).to.deep.equal(["01HANDOFF", IN, 2, "stable overnight,\nrecheck sodium at 6", r.eventId]);
    expect(r.reply).to.contain("Patient 2 read back");
  });

  it("question and answer pass their numbers and text", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    const q = await run("!handoff question 3 what is the target sodium?", { sender: IN });
    expect(handoffs.called("ask")[0]!.args).to.deep.equal(["01HANDOFF", IN, 3, "what is the target sodium?", q.eventId]);
    const a = await run("!handoff answer 1 above 130");
    expect(handoffs.called("answer")[0]!.args).to.deep.equal(["01HANDOFF", OUT, 1, "above 130", a.eventId]);
    expect((await run("!handoff question 3 why?", { encrypted: false })).outcome).to.equal("user_error");
    expect(handoffs.called("ask")).to.have.length(1);
  });

  it("check and uncheck turn the 1-based item into a 0-based index, and list the checklist when out of range", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    await run("!handoff check 2");
    await run("!handoff uncheck 1");
    expect(handoffs.called("setChecklist").map((c) => c.args)).to.deep.equal([
      ["01HANDOFF", OUT, 1, true],
      ["01HANDOFF", OUT, 0, false],
    ]);
    const bad = await run("!handoff check 3");
    expect(bad.reply).to.contain("1. ☑ Bed board updated\n2. ☐ Controlled drugs counted");
    expect(handoffs.called("setChecklist")).to.have.length(2);
  });

  it("status gives counts and what is outstanding in plain words", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    const r = await run("!handoff status");
    expect(r.reply).to.contain("Patients: 3, read back 1 of 3. Questions: 1 open of 2. Checklist: 1 of 2 ticked.");
    expect(r.reply).to.contain('Still to do: patients 2, 3 not read back; question #1 not answered; checklist item 2 "Controlled drugs counted" not ticked.');
    expect(r.reply).to.contain("Deadline: 15:30 UTC");
  });

  it("signoff override passes the reason and the event id as txnKey; plain signoff passes none", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    handoffs.next = view({ status: "signing", signed_off_by: [OUT] });
    const r = await run("!handoff signoff override incoming has read the chart,\npatient 3 discussed by phone");
    expect(handoffs.called("signOff")[0]!.args).to.deep.equal(["01HANDOFF", OUT, { reason: "incoming has read the chart,\npatient 3 discussed by phone", txnKey: r.eventId }]);
    expect(r.reply).to.contain(`Waiting for ${IN}`);
    await run("!handoff signoff", { sender: IN });
    expect(handoffs.called("signOff")[1]!.args).to.deep.equal(["01HANDOFF", IN, undefined]);
    expect((await run("!handoff signoff override")).reply).to.contain("Say why");
    expect(handoffs.called("signOff")).to.have.length(2);
  });

  it("a HandoffError becomes its human message", async function () {
    const { run, handoffs, errors } = setup();
    handoffs.current = threePatients();
    handoffs.fail = { method: "signOff", error: new HandoffError("sign_off_blocked", "Patients 2 and 3 are not read back yet. Read them back, or sign off with !handoff signoff override <reason>.") };
    const r = await run("!handoff signoff");
    expect(r).to.deep.include({ verb: "handoff", outcome: "user_error", reply: "Patients 2 and 3 are not read back yet. Read them back, or sign off with !handoff signoff override <reason>." });
    expect(errors).to.deep.equal([]);
  });

  describe("hostile input", function () {
    const OBJECT_WORDS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

    it("answers a word of Object's (constructor, __proto__, …) as an unknown sub-command, with the help hint", async function () {
      const { run, handoffs, errors } = setup();
      for (const word of OBJECT_WORDS) {
        const r = await run(`!handoff ${word} 1`);
        expect(r, word).to.deep.include({ verb: "handoff", outcome: "user_error" });
        expect(r.reply, word).to.equal(
          `I don't know "!handoff ${word}". The handoff commands are: start, add, edit, remove, move, list, show, readback, question, answer, check, uncheck, status, signoff, cancel, incident, tasks, done. Send !handoff help to see how to use them.`,
        );
      }
      expect(handoffs.calls).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
    });

    it("keeps a line that starts with a word of Object's as text of the section before it", async function () {
      const { run, handoffs } = setup();
      handoffs.current = view();
      const body = ["!handoff add Patient/p-1", "S: new confusion", ...OBJECT_WORDS.map((w) => `${w}: noted`), "B: AF", "A: delirium", "R: obs"].join("\n");
      const r = await run(body);
      expect(r.outcome, r.reply).to.equal("ok");
      const input = handoffs.called("presentItem")[0]!.args[2] as { sections: { sbar: { situation: string } } };
      expect(input.sections.sbar.situation).to.equal(["new confusion", ...OBJECT_WORDS.map((w) => `${w}: noted`)].join("\n"));
    });

    it("answers a refusal a sub-command let through unmapped, instead of failing for a retry", async function () {
      const { run, handoffs, errors } = setup();
      handoffs.fail = { method: "listUnits", error: new HandoffError("unknown_unit", "There is no unit 4west any more.") };
      handoffs.mine = { active: [], recent: [], tasks: [{ handoff_id: "01HANDOFF", handoff_number: 7, task_id: "t1", entry_id: "entry-1-abc", room_id: ROOM, owner: OUT, due_ts: null, status: "open" }] } as unknown as MyHandoffsResponse;
      const r = await run("!handoff tasks");
      expect(r).to.deep.include({ outcome: "user_error", reply: "There is no unit 4west any more." });
      expect(errors).to.deep.equal([]);
    });

    it("quotes at most a short, cleaned prefix of a long unknown sub-command", async function () {
      const { run } = setup();
      const r = await run(`!handoff ${"x".repeat(20_000)}`);
      expect(r.reply).to.contain(`"!handoff ${"x".repeat(39)}…"`);
      expect(r.reply.length).to.be.below(400);
    });
  });

  it("cancel passes an optional reason; incident checks the category and names the entry", async function () {
    const { run, handoffs } = setup();
    handoffs.current = threePatients();
    const c = await run("!handoff cancel wrong incoming");
    expect(handoffs.called("cancel")[0]!.args).to.deep.equal(["01HANDOFF", OUT, { reason: "wrong incoming", txnKey: c.eventId }]);
    await run("!handoff cancel");
    expect(handoffs.called("cancel")[1]!.args).to.deep.equal(["01HANDOFF", OUT, undefined]);

    const bad = await run("!handoff incident 2 sloppy it went wrong");
    expect(bad.outcome).to.equal("user_error");
    expect(bad.reply).to.contain(INCIDENT_CATEGORIES.join(", "));
    expect(handoffs.called("reportIncident")).to.deep.equal([]);
    const i = await run("!handoff incident 2 wrong-information dose was wrong");
    expect(handoffs.called("reportIncident")[0]!.args).to.deep.equal(["01HANDOFF", OUT, { entryId: "entry-2-abc", category: "wrong_information", requestKey: i.eventId, note: { description: "dose was wrong", txnKey: i.eventId } }]);
    expect(i.reply).to.contain("incident 3");
  });

  describe("tasks", function () {
    const task = (id: string, handoffNumber: number, due: string | null) => ({
      task_id: id,
      entry_id: "entry-1-abc",
      item_event_id: "$item1",
      owner: IN,
      due_ts: due ? Date.parse(due) : null,
      status: "open" as const,
      transferred_from: OUT,
      transferred_ts: 1,
      handoff_id: `h${handoffNumber}`,
      handoff_number: handoffNumber,
      room_id: `!h${handoffNumber}:x.org`,
    });
    const mine = (): MyHandoffsResponse => ({
      active: [],
      recent: [],
      tasks: [task("task-nodue", 3, null), task("task-late", 5, "2026-05-12T18:00:00Z"), task("task-soon-h9", 9, "2026-05-12T16:00:00Z"), task("task-soon-h4", 4, "2026-05-12T16:00:00Z")],
    });

    it("numbers the open tasks by due time (none last), then handoff number, with texts only in the clinician's own encrypted Handoffs room", async function () {
      const { run, handoffs } = setup();
      handoffs.current = null; // anywhere
      handoffs.mine = mine();
      handoffs.texts = new Map([
        ["task-nodue", "review pain"],
        ["task-late", "chase CT"],
        ["task-soon-h9", "repeat K+"],
        ["task-soon-h4", "call family"],
      ]);
      // "!dashboard:x.org" is what the fake gives as the clinician's own Handoffs room.
      const r = await run("!handoff tasks", { sender: IN, roomId: "!dashboard:x.org" });
      expect(handoffs.called("forUser")[0]!.args).to.deep.equal([IN]);
      expect(r.reply.split("\n").slice(1, 5)).to.deep.equal([
        "1. Handoff #4, due 16:00 UTC — call family",
        "2. Handoff #9, due 16:00 UTC — repeat K+",
        "3. Handoff #5, due 18:00 UTC — chase CT",
        "4. Handoff #3, no due time — review pain",
      ]);

      const before = handoffs.called("taskText").length;
      const plain = await run("!handoff tasks", { sender: IN, roomId: "!mine:x.org", encrypted: false });
      expect(handoffs.called("taskText")).to.have.length(before);
      expect(plain.reply).to.contain("1. Handoff #4, due 16:00 UTC\n");
      expect(plain.reply).not.to.contain("call family");
      expect(plain.reply).to.contain("not end-to-end encrypted");

      // A shared (if encrypted) ward room gets the list without the texts, and a link to the own room.
      const shared = await run("!handoff tasks", { sender: IN, roomId: "!ward:x.org" });
      expect(handoffs.called("taskText")).to.have.length(before);
      expect(shared.reply).to.contain("1. Handoff #4, due 16:00 UTC\n");
      expect(shared.reply).not.to.contain("call family");
      expect(shared.reply).to.contain("https://matrix.to/#/!dashboard:x.org");

      // In a task's own handoff room, that task's text is shown.
      const inRoom = await run("!handoff tasks", { sender: IN, roomId: "!h9:x.org" });
      expect(inRoom.reply).to.contain("2. Handoff #9, due 16:00 UTC — repeat K+");
      expect(inRoom.reply).not.to.contain("call family");
    });

    it("done <n> completes the n-th task of that listing", async function () {
      const { run, handoffs } = setup();
      handoffs.mine = mine();
      const r = await run("!handoff done 2", { sender: IN, encrypted: false });
      expect(r.outcome, r.reply).to.equal("ok");
      expect(handoffs.called("completeTask")[0]!.args).to.deep.equal(["h9", IN, "task-soon-h9", r.eventId]);
      expect(r.reply).to.contain("Task 2 (handoff #9) is done");
      const bad = await run("!handoff done 5", { sender: IN });
      expect(bad.reply).to.contain("You have 4 open tasks");
      expect(handoffs.called("completeTask")).to.have.length(1);
    });

    it("done <n> retried finishes the task its first attempt marked done, not the one that moved up to n", async function () {
      const { run, handoffs } = setup();
      // The first attempt took task 1 (task-soon-h4): it left the list, and task-soon-h9 is now first.
      handoffs.mine = { ...mine(), tasks: mine().tasks.filter((t) => t.task_id !== "task-soon-h4") };
      handoffs.doneByRequest.set("$done", { handoff_id: "h4", handoff_number: 4, task_id: "task-soon-h4" });
      const r = await run("!handoff done 1", { sender: IN, eventId: "$done" });
      expect(r.outcome, r.reply).to.equal("ok");
      expect(r.reply).to.contain("Task 1 (handoff #4) is done");
      expect(handoffs.called("completeTask").map((c) => c.args)).to.deep.equal([["h4", IN, "task-soon-h4", "$done"]]);
    });
  });

  describe("widget events", function () {
    const cases = [
      [HandoffEventType.Item, "recordItem"],
      [HandoffEventType.ReadBack, "recordReadBack"],
      [HandoffEventType.Question, "recordQuestion"],
      [HandoffEventType.Answer, "recordAnswer"],
    ] as const;

    it("hands each event type to its record method as a SentEvent, with no reply", async function () {
      const { table, handoffs, built, ctx } = setup();
      expect(built.eventHandlers!.map((h) => h.type)).to.deep.equal(cases.map(([type]) => type));
      for (const [type, method] of cases) {
        const c = ctx({ sender: IN });
        const content = { handoff_id: "01HANDOFF", entry_id: "entry-1-abc", text: "hello" };
        const result = await table.event(c, type, content, () => {});
        expect(result, type).to.equal(null);
        expect(handoffs.called(method)[0]!.args).to.deep.equal([IN, { roomId: ROOM, eventId: c.eventId, type, sender: IN, content, encrypted: true }]);
      }
    });

    it("stays quiet for a duplicate, and answers a refusal with its human message", async function () {
      const { table, handoffs, ctx } = setup();
      const c = ctx({ sender: IN, encrypted: false });
      expect(await table.event(c, HandoffEventType.ReadBack, {}, () => {})).to.equal(null);
      expect(await table.event(c, HandoffEventType.ReadBack, {}, () => {})).to.equal(null);
      expect((handoffs.called("recordReadBack")[0]!.args[1] as SentEvent).encrypted).to.equal(false);
      handoffs.fail = { method: "recordReadBack", error: new HandoffError("invalid_transition", "Patient 2 changed since; read back the new version.") };
      expect(await table.event(c, HandoffEventType.ReadBack, {}, () => {})).to.deep.equal({
        verb: HandoffEventType.ReadBack,
        reply: "Patient 2 changed since; read back the new version.",
        outcome: "user_error",
      });
    });
  });
});
