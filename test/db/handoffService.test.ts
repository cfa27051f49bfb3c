import { Writable } from "node:stream";
import { expect } from "chai";
import { pino } from "pino";
import type { Db } from "../../appservice/db/connect.js";
import {
  HandoffError,
  HandoffService,
  TIMER_HANDOFF_DEADLINE,
  TIMER_HANDOFF_ESCALATE,
  TIMER_HANDOFF_REPORT,
  TIMER_HANDOFF_SETTLE,
  type HandoffDeps,
  type HandoffDirectory,
} from "../../appservice/handoff/handoffService.js";
import type { SentEvent } from "../../appservice/handoff/handoffActions.js";
import type { HandoffErrorCode } from "../../appservice/handoff/handoffErrors.js";
import { HandoffStore } from "../../appservice/handoff/handoffStore.js";
import { CommandTable } from "../../bots/commands.js";
import { HANDOFF_BOT } from "../../bots/handoffBot.js";
import { handoffCommands } from "../../bots/handoffCommands.js";
import { handoffMetrics, type HandoffMetrics } from "../../appservice/handoff/handoffMetrics.js";
import { Metrics } from "../../appservice/metrics.js";
import { HandoffEventType, HandoffStateSchema, StateType, type HandoffItemContent } from "../../appservice/shared/events/index.js";
import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import { TimerStore, type TimerRow } from "../../appservice/timers/timerStore.js";
import { backends } from "../harness/backends.js";
import { RecordingNotifier, RecordingRooms as SharedRecordingRooms } from "../harness/recordingRooms.js";
import { migrateAll } from "../harness/migrateAll.js";

/**
 * The handoff domain service down to the database, on every backend. Matrix is a recording
 * in-memory room writer (the integration tests cover real Synapse): it keeps every event sent so
 * the service can read items, read-backs, questions, answers and notes back, as the handoff bot
 * decrypts them from its rooms. The on-call directory and the user directory are small fakes.
 */
const BOT = "@rounds_handoff:x.org";
const OLGA = "@olga:x.org";
const IAN = "@ian:x.org";
const IVY = "@ivy:x.org";
const CHARLIE = "@charlie:x.org";
const QUINN = "@quinn:x.org";
const PHARM = "@pharm:x.org";
const NINA = "@nina:x.org";
const DAN = "@dan:x.org";
const KNOWN_USERS = new Set([OLGA, IAN, IVY, CHARLIE, QUINN, PHARM, NINA, DAN]);

const UNIT_ROOM = "!unit4west:x.org";
const NORTH_ROOM = "!unit5north:x.org";
const MIN = 60_000;

// Clinical strings that must never reach state, the database, direct messages or logs.
const PATIENT = "Patient/pt-88231";
const SBAR = {
  situation: "Post-op day one after bowel resection, new tachycardia",
  background: "Crohn disease on azathioprine since 2019",
  assessment: "Possible anastomotic leak, lactate pending",
  recommendation: "Surgical review if the lactate rises",
};
const ALERT = "Anaphylaxis to penicillin";
const TASK = "Chase the evening lactate result";
const PHARM_TASK = "Reconcile the azathioprine dose with pharmacy";
const READBACK = "Day one resection, tachycardic, watch for a leak";
const QUESTION = "Has the surgical registrar been told about the lactate";
const ANSWER = "Yes, the registrar knows and will come by";
const OVERRIDE = "Patient asleep, read-back at the bedside after the ward round";
const INCIDENT = "The penicillin allergy was not mentioned at handover";
const EDITED = "Surgical review now, lactate rose to four";
const PHI = [PATIENT, "pt-88231", ...Object.values(SBAR), ALERT, TASK, PHARM_TASK, READBACK, QUESTION, ANSWER, OVERRIDE, INCIDENT, EDITED, "azathioprine", "tachycardia"];

/** The handoff bot's rooms, with clinicians' widget events seeded where the service reads them. */
class RecordingRooms extends SharedRecordingRooms {
  constructor() {
    super(BOT);
  }
  /** An encrypted event a clinician's widget sent, so the service can read it back. */
  seed(roomId: string, sender: string, type: string, content: Record<string, unknown>): SentEvent {
    const eventId = this.seedEvent(roomId, sender, type, content);
    return { roomId, eventId, type, sender, content: structuredClone(content), encrypted: true };
  }
}

/** Night nurse Nina hands over to day nurse Dan at 07:00 UTC on 5 North; the reverse at 19:00. */
const directory: HandoffDirectory = {
  async whoIsOnCall(service, at) {
    if (service !== "5north-nurses") throw new Error(`no service ${service}`);
    const h = at.getUTCHours();
    return { levels: [{ level: "nurse", userId: h >= 7 && h < 19 ? DAN : NINA }] };
  },
};

const OPTIONS = {
  deadlineMinutes: 15,
  escalateAfterMinutes: 5,
  handoffWidgetUrl: "https://rounds.example/_rounds/widgets/handoff-room/index.html?roomId=$matrix_room_id",
  unitWidgetUrl: "https://rounds.example/_rounds/widgets/handoff-dashboard/index.html?roomId=$matrix_room_id",
  botUserId: BOT,
};

const UNIT = {
  id: "4west",
  name: "4 West",
  template: "sbar",
  room_id: UNIT_ROOM,
  checklist: ["Allergies reviewed", "Lines and drains checked"],
  deadline_minutes: 30,
  escalate_after_minutes: 10,
  charge: { users: [CHARLIE] },
  incident_reviewers: [QUINN],
};

for (const backend of backends) {
  describe(`handoff service: ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let rooms: RecordingRooms;
    let notifier: RecordingNotifier;
    let metrics: HandoffMetrics;
    let deps: HandoffDeps;
    let svc: HandoffService;
    let clock: Date;
    const logLines: string[] = [];
    let seq = 0;

    const tick = (minutes: number) => (clock = new Date(clock.getTime() + minutes * MIN));
    const txn = () => `txn-${++seq}`;
    const start = (incoming = IAN, actor = OLGA, unit?: string) => svc.start({ actor, incoming, unit, sourceRoomId: UNIT_ROOM });
    const count = async (table: string, where: Record<string, unknown> = {}) => Number((await db(table).where(where).count({ n: "*" }).first())!.n);
    const stateOf = (v: HandoffView) => rooms.state.get(`${v.room_id}|${StateType.Handoff}|${v.id}`)!;
    const timer = async (kind: string, ref: string, step = "0"): Promise<TimerRow> => {
      const r = await db("timers").where({ kind, ref, step }).first();
      expect(r, `timer ${kind} ${step}`).to.not.equal(undefined);
      return { id: String(r.id), kind, ref, step, dueAt: new Date(r.due_at), attempts: 0 };
    };
    const pending = async (kind: string, ref: string) => db("timers").where({ kind, ref, status: "pending" });
    const auditActions = async (id: string) => (await svc.audit(id)).map((a) => a.action);
    /** A whole SBAR item as a widget sends it. */
    const itemContent = (h: HandoffView, over: Partial<HandoffItemContent> = {}): HandoffItemContent => ({
      handoff_id: h.id,
      entry_id: `entry-${String(++seq).padStart(6, "0")}`,
      version: 1,
      template: "sbar",
      patient_ref: PATIENT,
      label: "bed 4",
      sbar: { ...SBAR },
      critical_alerts: [ALERT],
      tasks: [],
      medication_changes: [],
      recent_events: "",
      code_status: "",
      contingencies: [],
      ...over,
    });
    /** The sections `!handoff add` gives, for the bot to send on a text-only clinician's behalf. */
    const sections = (over: Record<string, unknown> = {}) => ({ patient_ref: PATIENT, label: "bed 4", sbar: { ...SBAR }, critical_alerts: [ALERT], ...over });
    const refused = async (call: () => Promise<unknown>, code: HandoffErrorCode, message?: RegExp) => {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, "the call should be refused: " + String(err)).to.be.instanceOf(HandoffError);
      expect((err as HandoffError).reason, (err as HandoffError).humanMessage).to.equal(code);
      if (message) expect((err as HandoffError).humanMessage).to.match(message);
      return err as HandoffError;
    };
    const snapshot = async () => ({
      handoffs: await db("handoffs").orderBy("number"),
      entries: await db("handoff_entries").orderBy(["handoff_id", "entry_id"]),
      signoffs: await db("handoff_signoffs").orderBy(["handoff_id", "user_id"]),
      questions: await db("handoff_questions").orderBy("pk"),
      tasks: await db("handoff_tasks").orderBy(["handoff_id", "task_id"]),
      events: await db("handoff_events").orderBy("event_id"),
      audit: await db("audit_log").count({ n: "*" }).first(),
      timers: await db("timers").orderBy("id"),
      state: [...rooms.state.entries()],
      calls: rooms.calls.length,
      told: notifier.told.length,
    });
    /** Refused, and nothing changed: the rows, the timers, the room state, Matrix and the direct messages. */
    const refusedUnchanged = async (call: () => Promise<unknown>, code: HandoffErrorCode, message?: RegExp) => {
      const before = await snapshot();
      const err = await refused(call, code, message);
      expect(await snapshot()).to.deep.equal(before);
      return err;
    };
    /** A handoff olga → ian with one patient presented by the bot for olga (the text path). */
    const withPatient = async (over: Record<string, unknown> = {}) => {
      const h = await start();
      const v = await svc.presentItem(h.id, OLGA, { sections: sections(over) }, txn());
      return v;
    };
    /** Read back, answer and tick everything, so only the sign-offs are left. */
    const readyToSign = async (v: HandoffView) => {
      for (const e of v.entries) await svc.readBack(v.id, v.incoming, e.number, READBACK, txn());
      for (const [i] of v.checklist.entries()) await svc.setChecklist(v.id, i % 2 ? v.outgoing : v.incoming, i, true);
      return svc.get(v.id);
    };

    before(async function () {
      ({ db, close } = await backend.open());
      await migrateAll(db);
      clock = new Date("2026-03-10T12:00:00Z");
      rooms = new RecordingRooms();
      notifier = new RecordingNotifier();
      metrics = handoffMetrics(new Metrics().registry);
      const sink = new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      });
      deps = {
        store: new HandoffStore(db),
        oncall: directory,
        timers: new TimerStore(db),
        wakeTimers: () => undefined,
        rooms,
        notifier,
        userExists: async (u) => KNOWN_USERS.has(u),
        options: OPTIONS,
        log: pino({ level: "debug" }, sink),
        metrics,
        now: () => clock,
      };
      svc = new HandoffService(deps);
      await svc.saveUnit(UNIT);
    });
    after(async () => close?.());
    afterEach(async function () {
      // Each test starts from no open handoff between olga and ian.
      const open = await db("handoffs").whereIn("status", ["started", "presenting", "signing"]).where({ unit_id: "4west" });
      for (const h of open) await svc.cancel(h.id, h.outgoing);
    });

    it("saves a unit's settings, pins the unit widget, and refuses bad settings with the field named", async function () {
      expect((await svc.listUnits()).map((u) => u.id)).to.deep.equal(["4west"]);
      expect((await svc.listUnits()).filter((u) => u.room_id === UNIT_ROOM).map((u) => u.name)).to.deep.equal(["4 West"]);
      const pinned = rooms.callsIn(UNIT_ROOM, "installWidget")[0]!;
      expect(pinned.args).to.deep.include({ id: "rounds-handoffs", url: OPTIONS.unitWidgetUrl, data: { unit: "4west" } });
      const units = await count("handoff_units");
      await refused(() => svc.saveUnit({ ...UNIT, id: "4 West" }), "invalid_input", /^id: /);
      await refused(() => svc.saveUnit({ ...UNIT, template: "soap" }), "invalid_input", /^template: /);
      await refused(() => svc.saveUnit({ ...UNIT, timezone: "Mars/Olympus" }), "invalid_input", /^timezone: /);
      await refused(() => svc.saveUnit({ ...UNIT, charge: { service: "nosuch" } }), "invalid_input", /no on-call service "nosuch"/);
      await refused(() => svc.saveUnit({ ...UNIT, charge: {} }), "invalid_input", /^charge: /);
      await refused(() => svc.saveUnit({ ...UNIT, colour: "blue" }), "invalid_input");
      expect(await count("handoff_units")).to.equal(units);
    });

    it("moves a unit room to another unit: the old unit no longer names the room, anywhere", async function () {
      const room = "!moving:rounds.test";
      await svc.saveUnit({ id: "movea", name: "Move A", room_id: room });
      await svc.saveUnit({ id: "moveb", name: "Move B", room_id: room });
      try {
        const units = await svc.listUnits();
        expect(units.find((u) => u.id === "movea")).to.not.have.property("room_id");
        expect(units.find((u) => u.id === "moveb")!.room_id).to.equal(room);
        expect(units.filter((u) => u.room_id === room).map((u) => u.id)).to.deep.equal(["moveb"]);
      } finally {
        // The other tests here run with one unit, which !handoff start picks by default.
        await db("handoff_units").whereIn("id", ["movea", "moveb"]).delete();
      }
    });

    it("starts a handoff: its room with both invited, the state, the widget, the opening message and the deadline", async function () {
      const v = await start();
      expect(v).to.include({ status: "started", unit: "4west", unit_name: "4 West", outgoing: OLGA, incoming: IAN, template: "sbar", patient_count: 0, overdue: false, overridden: false });
      expect(v.deadline_ts).to.equal(clock.getTime() + 30 * MIN);
      expect(v.checklist.map((c) => c.label)).to.deep.equal(UNIT.checklist);

      const open = rooms.callsIn(v.room_id, "openRoom")[0]!;
      expect(open.args).to.deep.include({ key: `handoff:${v.id}`, name: `Handoff #${v.number} · 4 West` });
      expect(open.args.members).to.have.members([OLGA, IAN]);
      expect(rooms.callsIn(v.room_id, "installWidget")[0]!.args).to.deep.include({ id: "rounds-handoff", url: OPTIONS.handoffWidgetUrl, data: { handoff_id: v.id } });
      const [opening] = rooms.messages(v.room_id);
      expect(opening!.mentions).to.have.members([OLGA, IAN]);
      expect(opening!.body).to.contain(`Handoff #${v.number} on 4 West: ${OLGA} hands over to ${IAN}`);
      expect(v.anchor_event_id).to.equal(opening!.eventId);

      const state = HandoffStateSchema.parse(stateOf(v));
      expect(state).to.include({ id: v.id, status: "started", unit: "4west", unit_name: "4 West", outgoing: OLGA, incoming: IAN, deadline_ts: v.deadline_ts });
      expect((await timer(TIMER_HANDOFF_DEADLINE, v.id)).dueAt.getTime()).to.equal(v.deadline_ts);
      // Everything it did went out: no settle timer is left pending.
      expect(await pending(TIMER_HANDOFF_SETTLE, v.id)).to.have.length(0);
      expect(await auditActions(v.id)).to.deep.equal(["started"]);
      expect((await svc.inRoom(v.room_id))!.id).to.equal(v.id);
      expect(await svc.inRoom(UNIT_ROOM)).to.equal(null);
    });

    it("refuses to start a handoff to oneself, to a bad or unknown id, on an unknown unit, or twice, persisting nothing", async function () {
      await refusedUnchanged(() => start(OLGA), "invalid_input", /cannot hand off to yourself/);
      await refusedUnchanged(() => start("ian"), "invalid_input", /Matrix id/);
      await refusedUnchanged(() => start("@ian"), "invalid_input", /Matrix id/);
      await refusedUnchanged(() => start(BOT), "invalid_input", /not to a Rounds bot/);
      await refusedUnchanged(() => start("@nosuchuser:x.org"), "unknown_user", /@nosuchuser:x\.org is not a known user/);
      await refusedUnchanged(() => start(IAN, OLGA, "9north"), "unknown_unit", /There is no unit "9north"\. Units: 4 West \(4west\)/);
      await refusedUnchanged(() => start(`@${"x".repeat(20_000)}:x.org`), "unknown_user", /^@x{30,39}… is not a known user/);
      await refusedUnchanged(() => start(IAN, OLGA, `9north\u0007${"x".repeat(20_000)}`), "unknown_unit", /^There is no unit "9north x+…"\. Units: 4 West \(4west\)/);
      const v = await start();
      await refusedUnchanged(() => start(), "invalid_transition", new RegExp(`Handoff #${v.number} .* is already open`));
    });

    it("records an item once when the widget API and the inbox both deliver it", async function () {
      const h = await start();
      const c = itemContent(h, { tasks: [{ id: "task-widget1", text: TASK, due_ts: clock.getTime() + 3 * 60 * MIN }] });
      const ev = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, c);
      const first = await svc.recordItem(OLGA, ev);
      const messages = rooms.messages(h.room_id).length;
      const second = await svc.recordItem(OLGA, ev);
      expect(second.entries).to.deep.equal(first.entries);
      expect(first.entries).to.have.length(1);
      expect(first.entries[0]).to.include({ number: 1, version: 1, item_event_id: ev.eventId, presented_by: OLGA, read_back: false });
      expect(first.status).to.equal("presenting");
      expect(first.tasks).to.have.length(1);
      expect(first.tasks[0]).to.include({ task_id: "task-widget1", owner: OLGA, status: "open", transferred_from: null });
      expect(rooms.messages(h.room_id).length).to.equal(messages);
      expect(await count("handoff_entries", { handoff_id: h.id })).to.equal(1);
      expect((await auditActions(h.id)).filter((a) => a === "presented")).to.have.length(1);
      // The echo for text-only clients is in the (encrypted) handoff room.
      const echo = rooms.messages(h.room_id).find((m) => m.body.startsWith("Patient 1"))!;
      expect(echo.body).to.contain(SBAR.situation).and.contain(`CRITICAL: ${ALERT}`);
      expect(stateOf(first)).to.include({ patient_count: 1, read_back_count: 0, status: "presenting" });

      // Only encrypted events the caller sent, of the right type, in a handoff room.
      await refusedUnchanged(() => svc.recordItem(IAN, ev), "forbidden", /events you sent yourself/);
      await refusedUnchanged(() => svc.recordItem(OLGA, { ...ev, encrypted: false }), "invalid_input", /not end-to-end encrypted/);
      await refusedUnchanged(() => svc.recordItem(OLGA, { ...ev, type: HandoffEventType.ReadBack }), "invalid_input");
      const byIan = rooms.seed(h.room_id, IAN, HandoffEventType.Item, itemContent(h));
      await refusedUnchanged(() => svc.recordItem(IAN, byIan), "forbidden", /Only @olga:x\.org, who hands over/);
      const elsewhere = rooms.seed("!other:x.org", OLGA, HandoffEventType.Item, itemContent(h));
      await refusedUnchanged(() => svc.recordItem(OLGA, elsewhere), "not_found", /not a handoff room/);
      const incomplete = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, { ...itemContent(h), sbar: undefined });
      await refusedUnchanged(() => svc.recordItem(OLGA, incomplete), "invalid_input", /sbar/);
      const ipass = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, { ...itemContent(h), template: "ipass", ipass: { illness_severity: "stable", patient_summary: "x", action_list: "y", situation_awareness: "z" } });
      await refusedUnchanged(() => svc.recordItem(OLGA, ipass), "invalid_input", /SBAR template/);
    });

    it("refuses a stale edit, and an edit invalidates the read-back and withdraws the sign-offs", async function () {
      const h = await start();
      const c = itemContent(h);
      const v1 = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, c);
      await svc.recordItem(OLGA, v1);
      await svc.readBack(h.id, IAN, 1, READBACK, txn());
      let v = await svc.get(h.id);
      expect(v.entries[0]!.read_back).to.equal(true);
      v = await readyToSign(v);
      v = await svc.signOff(h.id, OLGA);
      expect(v.status).to.equal("signing");
      expect(v.signed_off_by).to.deep.equal([OLGA]);

      // Version 2 from the widget, replacing version 1.
      const v2 = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, { ...c, version: 2, replaces: v1.eventId, sbar: { ...SBAR, recommendation: EDITED } });
      v = await svc.recordItem(OLGA, v2);
      expect(v.entries[0]).to.include({ version: 2, item_event_id: v2.eventId, read_back: false });
      expect(v.entries[0]!.history).to.deep.equal([v1.eventId]);
      expect(v.status).to.equal("presenting");
      expect(v.signed_off_by).to.deep.equal([]);
      expect(v.outstanding.missing_read_back).to.deep.equal([1]);
      expect(await count("handoff_signoffs", { handoff_id: h.id })).to.equal(0);
      const said = rooms.messages(h.room_id).slice(-3).map((m) => m.body);
      expect(said.some((b) => b.includes(`Patient 1 changed after its read-back: ${IAN}, read it back again.`))).to.equal(true);
      expect(said.some((b) => b.includes("sign-offs so far are withdrawn"))).to.equal(true);
      expect(stateOf(v)).to.include({ status: "presenting", read_back_count: 0 });
      expect((stateOf(v) as { signed_off_by: string[] }).signed_off_by).to.deep.equal([]);

      // Another version 2 (made from the stale version 1) loses.
      const stale = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, { ...c, version: 2, replaces: v1.eventId });
      await refusedUnchanged(() => svc.recordItem(OLGA, stale), "invalid_transition", /changed since you opened it \(now version 2\)/);
      // A version 3 naming the wrong predecessor loses too.
      const wrong = rooms.seed(h.room_id, OLGA, HandoffEventType.Item, { ...c, version: 3, replaces: v1.eventId });
      await refusedUnchanged(() => svc.recordItem(OLGA, wrong), "invalid_transition");
      // A read-back of the old version is refused; the latest one is accepted.
      const old = rooms.seed(h.room_id, IAN, HandoffEventType.ReadBack, { handoff_id: h.id, entry_id: c.entry_id, item_event_id: v1.eventId, summary: READBACK });
      await refusedUnchanged(() => svc.recordReadBack(IAN, old), "invalid_transition", /changed since you read it/);
      const fresh = rooms.seed(h.room_id, IAN, HandoffEventType.ReadBack, { handoff_id: h.id, entry_id: c.entry_id, item_event_id: v2.eventId, summary: READBACK });
      v = await svc.recordReadBack(IAN, fresh);
      expect(v.entries[0]).to.include({ read_back: true, readback_event_id: fresh.eventId, readback_by: IAN });

      // The text path edits the latest version: only the given section changes.
      v = await svc.presentItem(h.id, OLGA, { entryNumber: 1, sections: { code_status: "Full code" } }, txn());
      expect(v.entries[0]!.version).to.equal(3);
      const v3 = (await svc.readItem(h.id, 1))!;
      expect(v3).to.include({ version: 3, replaces: v2.eventId, code_status: "Full code", presented_by: OLGA });
      expect(v3.sbar!.recommendation).to.equal(EDITED);
      expect(v.entries[0]!.read_back).to.equal(false);
    });

    it("takes read-backs only from the incoming clinician, questions and answers from both", async function () {
      const v = await withPatient();
      await refusedUnchanged(() => svc.readBack(v.id, OLGA, 1, READBACK, txn()), "forbidden", /Only @ian:x\.org, who takes over, can read back/);
      await refusedUnchanged(() => svc.readBack(v.id, IVY, 1, READBACK, txn()), "forbidden");
      await refusedUnchanged(() => svc.readBack(v.id, IAN, 1, "ok", txn()), "invalid_input", /own words/);
      await refusedUnchanged(() => svc.readBack(v.id, IAN, 2, READBACK, txn()), "not_found", /has no patient 2; its patients are 1 /);
      const byOlga = rooms.seed(v.room_id, OLGA, HandoffEventType.ReadBack, { handoff_id: v.id, entry_id: v.entries[0]!.entry_id, item_event_id: v.entries[0]!.item_event_id, summary: READBACK });
      await refusedUnchanged(() => svc.recordReadBack(OLGA, byOlga), "forbidden");
      await refusedUnchanged(() => svc.ask(v.id, IVY, 1, QUESTION, txn()), "forbidden", /Only @olga:x\.org and @ian:x\.org can ask questions/);
      await refusedUnchanged(() => svc.answer(v.id, OLGA, 1, ANSWER, txn()), "not_found", /no question Q1/);

      let after = await svc.readBack(v.id, IAN, 1, READBACK, txn());
      expect(after.entries[0]).to.include({ read_back: true, readback_by: IAN });
      const readback = rooms.sentEvents(v.room_id, HandoffEventType.ReadBack).at(-1)!;
      expect(readback.content).to.deep.include({ handoff_id: v.id, entry_id: v.entries[0]!.entry_id, item_event_id: v.entries[0]!.item_event_id, summary: READBACK, by: IAN });

      after = await svc.ask(v.id, IAN, 1, QUESTION, txn());
      expect(after.questions).to.have.length(1);
      expect(after.questions[0]).to.include({ number: 1, asked_by: IAN, answer_event_id: null });
      expect(after.outstanding.open_questions).to.deep.equal([1]);
      expect(stateOf(after)).to.include({ open_questions: 1 });
      const asked = rooms.messages(v.room_id).at(-1)!;
      expect(asked.body).to.contain(`Question Q1 on patient 1 from ${IAN}: ${QUESTION}`);
      expect(asked.mentions).to.deep.equal([OLGA]);
      after = await svc.answer(v.id, OLGA, 1, ANSWER, txn());
      expect(after.questions[0]).to.include({ answered_by: OLGA });
      expect(after.outstanding.open_questions).to.deep.equal([]);
      await refusedUnchanged(() => svc.answer(v.id, IAN, 1, "Another answer", txn()), "invalid_transition", /already answered/);
      // The answer from the widget, delivered twice, is one answer.
      const q2 = await svc.ask(v.id, OLGA, 1, "Any allergies besides penicillin", txn());
      const answerEv = rooms.seed(v.room_id, IAN, HandoffEventType.Answer, { handoff_id: v.id, question_event_id: q2.questions[1]!.event_id, text: "None known" });
      await svc.recordAnswer(IAN, answerEv);
      const again = await svc.recordAnswer(IAN, answerEv);
      expect(again.questions[1]).to.include({ answer_event_id: answerEv.eventId, answered_by: IAN });
      expect((await auditActions(v.id)).filter((a) => a === "answered")).to.have.length(2);
    });

    it("gates the sign-off on read-backs, questions and the checklist; an override needs a reason and is recorded", async function () {
      const v = await withPatient();
      await svc.ask(v.id, IAN, 1, QUESTION, txn());
      const err = await refusedUnchanged(() => svc.signOff(v.id, OLGA), "sign_off_blocked");
      expect(err.humanMessage).to.contain("1 patient without a read-back (#1)").and.contain("1 open question (Q1)").and.contain("2 unticked checklist items (Allergies reviewed; Lines and drains checked)");
      expect(err.humanMessage).to.contain("!handoff signoff override <reason>");
      await refusedUnchanged(() => svc.signOff(v.id, OLGA, { reason: "no", txnKey: txn() }), "invalid_input", /reason for the override/);
      await refusedUnchanged(() => svc.signOff(v.id, IVY), "forbidden", /Only @olga:x\.org and @ian:x\.org can sign off/);
      await refusedUnchanged(() => svc.signOff(v.id, IVY, { reason: OVERRIDE, txnKey: txn() }), "forbidden");
      // A widget's note must be the signer's own encrypted override note on this handoff.
      const ivyNote = rooms.seed(v.room_id, IVY, HandoffEventType.Note, { handoff_id: v.id, kind: "override", text: OVERRIDE });
      await refusedUnchanged(() => svc.signOff(v.id, OLGA, { noteEventId: ivyNote.eventId }), "invalid_input", /not your encrypted override note/);
      const cancelNote = rooms.seed(v.room_id, OLGA, HandoffEventType.Note, { handoff_id: v.id, kind: "cancel", text: OVERRIDE });
      await refusedUnchanged(() => svc.signOff(v.id, OLGA, { noteEventId: cancelNote.eventId }), "invalid_input");

      const after = await svc.signOff(v.id, OLGA, { reason: OVERRIDE, txnKey: txn() });
      expect(after).to.include({ status: "signing", overridden: true });
      expect(after.signed_off_by).to.deep.equal([OLGA]);
      const note = rooms.sentEvents(v.room_id, HandoffEventType.Note).at(-1)!;
      expect(note.content).to.deep.include({ handoff_id: v.id, kind: "override", text: OVERRIDE, by: OLGA });
      const outstanding = { missing_read_back: [1], open_questions: [1], checklist: UNIT.checklist };
      expect(after.sign_offs).to.deep.equal([{ user_id: OLGA, ts: clock.getTime(), override_event_id: note.eventId, outstanding }]);
      const audit = await svc.audit(v.id);
      const override = audit.find((a) => a.action === "override")!;
      expect(override).to.deep.include({ actor: OLGA, refs: { note_event_id: note.eventId, outstanding } });
      expect(JSON.stringify(audit)).to.not.contain(OVERRIDE);
      expect(stateOf(after)).to.include({ overridden: true, status: "signing" });
      await refusedUnchanged(() => svc.signOff(v.id, OLGA), "invalid_transition", /already signed off/);
      // The other party is held to the same gate.
      await refusedUnchanged(() => svc.signOff(v.id, IAN), "sign_off_blocked");

      // A widget's override note works the same way.
      tick(1);
      const ianNote = rooms.seed(v.room_id, IAN, HandoffEventType.Note, { handoff_id: v.id, kind: "override", text: OVERRIDE });
      const done = await svc.signOff(v.id, IAN, { noteEventId: ianNote.eventId });
      expect(done.status).to.equal("completed");
      expect(done.sign_offs.map((s) => s.override_event_id)).to.deep.equal([note.eventId, ianNote.eventId]);
    });

    it("on both sign-offs completes, moves the outgoing's pending tasks to the incoming, and arms the report", async function () {
      const h = await start();
      const due = clock.getTime() + 4 * 60 * MIN;
      let v = await svc.presentItem(h.id, OLGA, { sections: sections({ tasks: [{ id: "task-lactate", text: TASK, due_ts: due }, { id: "task-pharmacy", text: PHARM_TASK, owner: PHARM }] }) }, txn());
      v = await svc.presentItem(h.id, OLGA, { sections: sections({ label: "bed 9", critical_alerts: [] }) }, txn());
      await svc.ask(h.id, IAN, 2, QUESTION, txn());
      await svc.answer(h.id, OLGA, 1, ANSWER, txn());
      v = await readyToSign(await svc.get(h.id));
      expect(v.outstanding).to.deep.equal({ missing_read_back: [], open_questions: [], checklist: [] });
      tick(12);
      v = await svc.signOff(h.id, IAN);
      expect(v.status).to.equal("signing");
      expect(v.tasks.find((t) => t.task_id === "task-lactate")!.owner).to.equal(OLGA);
      v = await svc.signOff(h.id, OLGA);
      expect(v).to.include({ status: "completed", completed_ts: clock.getTime(), overridden: false, duration_s: 12 * 60 });
      expect(v.signed_off_by).to.have.members([OLGA, IAN]);

      const lactate = v.tasks.find((t) => t.task_id === "task-lactate")!;
      expect(lactate).to.include({ owner: IAN, transferred_from: OLGA, transferred_ts: clock.getTime(), status: "open", due_ts: due });
      // A task someone else owns stays with them.
      expect(v.tasks.find((t) => t.task_id === "task-pharmacy")).to.include({ owner: PHARM, transferred_from: null });
      const mine = await svc.forUser(IAN);
      expect(mine.tasks.map((t) => t.task_id)).to.include("task-lactate");
      expect(mine.tasks.find((t) => t.task_id === "task-lactate")).to.include({ handoff_id: h.id, handoff_number: h.number, room_id: h.room_id, transferred_from: OLGA });
      expect(mine.recent.map((x) => x.id)).to.include(h.id);
      expect(mine.active.map((x) => x.id)).to.not.include(h.id);
      expect((await svc.forUser(OLGA)).tasks.map((t) => t.task_id)).to.not.include("task-lactate");
      expect(await svc.taskText(h.id, "task-lactate")).to.equal(TASK);
      const completeMsg = rooms.messages(h.room_id).at(-1)!;
      expect(completeMsg.body).to.contain(`Handoff #${h.number} is complete`).and.contain(`1 pending task now belongs to ${IAN}`);

      // The deadline is off; the report is due at once.
      expect(await pending(TIMER_HANDOFF_DEADLINE, h.id)).to.have.length(0);
      const report = await pending(TIMER_HANDOFF_REPORT, h.id);
      expect(report).to.have.length(1);
      expect(new Date(report[0].due_at).getTime()).to.equal(clock.getTime());
      const actions = await auditActions(h.id);
      expect(actions.slice(-3)).to.deep.equal(["signed_off", "tasks_transferred", "completed"]);
      expect(actions).to.include.members(["started", "presented", "question", "answered", "read_back", "checked", "signed_off", "tasks_transferred", "completed"]);
      // Nothing can change a completed handoff.
      await refusedUnchanged(() => svc.presentItem(h.id, OLGA, { sections: sections() }, txn()), "invalid_transition", /already signed off and complete/);
      await refusedUnchanged(() => svc.signOff(h.id, IAN), "invalid_transition");
      await refusedUnchanged(() => svc.cancel(h.id, OLGA), "invalid_transition");

      // Only the owner marks a task done.
      await refusedUnchanged(() => svc.completeTask(h.id, OLGA, "task-lactate"), "forbidden", /belongs to @ian:x\.org/);
      const doneView = await svc.completeTask(h.id, IAN, "task-lactate");
      expect(doneView.tasks.find((t) => t.task_id === "task-lactate")!.status).to.equal("done");
      expect((await svc.forUser(IAN)).tasks.map((t) => t.task_id)).to.not.include("task-lactate");
      await refused(() => svc.completeTask(h.id, IAN, "task-lactate"), "invalid_transition", /already done/);

      // The report, from the events in the room.
      await svc.onReport(await timer(TIMER_HANDOFF_REPORT, h.id));
      const after = await svc.get(h.id);
      const summary = rooms.messages(h.room_id).find((m) => m.eventId === after.report_event_id)!;
      expect(summary.body).to.equal(`Handoff #${h.number} on 4 West completed: 2 patients, 2 read back, 1 question (answered), 1 task to ${IAN}. Full report attached.`);
      expect(summary.mentions).to.have.members([OLGA, IAN]);
      const file = rooms.callsIn(h.room_id, "sendFile")[0]!;
      expect(file.args.content).to.deep.include({ name: `handoff-${h.number}-report.md`, mimetype: "text/markdown" });
      const markdown = (file.args.content as { text: string }).text;
      for (const part of [
        `# Handoff report #${h.number} — 4 West`,
        `| Handed over | ${OLGA} → ${IAN} |`,
        "### Patient 1 — bed 4",
        "### Patient 2 — bed 9",
        `Patient reference: ${PATIENT}`,
        `CRITICAL ALERT: ${ALERT}`,
        ...Object.values(SBAR),
        `By ${IAN} at`,
        READBACK,
        QUESTION,
        ANSWER,
        `- Patient 1: ${TASK} — from ${OLGA} → ${IAN}`,
        `- Patient 1: ${PHARM_TASK} — stays with ${PHARM}`,
        "- ✓ Allergies reviewed — ticked by",
        `- ${OLGA} at`,
      ]) {
        expect(markdown).to.contain(part);
      }
      expect(stateOf(after)).to.include({ status: "completed", report_event_id: after.report_event_id });
      // A repeated report timer (a retry) posts nothing again.
      const calls = rooms.calls.length;
      await svc.onReport(await timer(TIMER_HANDOFF_REPORT, h.id));
      expect(rooms.calls.length).to.equal(calls);

      const quality = await svc.quality(new Date("2026-01-01T00:00:00Z"), "4west");
      const unit = quality.units.find((u) => u.unit === "4west")!;
      expect(unit.handoffs).to.be.greaterThan(0);
      await refused(() => svc.quality(new Date("2026-01-01"), "9north"), "unknown_unit");
    });

    const command = (body: string, sender: string, roomId: string, eventId: string) =>
      CommandTable.forBot(HANDOFF_BOT, handoffCommands(svc, rooms, { dashboardWidgetUrl: "https://rounds.example/w" }).commands).dispatch(body, { sender, roomId, sentAt: clock, eventId, encrypted: true, body }, (e) => {
        throw e;
      });
    /** The first attempt's state write fails, so the inbox retries the same event; the retry's reply. */
    const retried = async (body: string, sender: string, roomId: string, eventId: string) => {
      rooms.failNext("setState");
      const first = await command(body, sender, roomId, eventId).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(first), body).to.contain("simulated crash in setState");
      const again = (await command(body, sender, roomId, eventId))!;
      expect(again.outcome, again.reply).to.equal("ok");
      return again.reply;
    };

    it("answers a start, item, read-back, question and answer retried after their state write failed as their first success would, each done once", async function () {
      const started = await retried(`!handoff start ${IAN}`, OLGA, UNIT_ROOM, "$start");
      const v = await svc.byNumber(Number(/^Handoff #(\d+)/.exec(started)![1]));
      expect(await db("handoffs").where({ outgoing: OLGA, incoming: IAN }).whereNotIn("status", ["completed", "cancelled"])).to.have.length(1);
      expect(started).to.match(new RegExp(`^Handoff #${v.number} \\(.*\\) started: ${OLGA} hands over to ${IAN}\\.`));
      expect(stateOf(v)).to.include({ status: "started" });
      expect(rooms.messages(v.room_id!).filter((m) => m.mentions.includes(IAN))).to.have.length(1);
      expect((await command(`!handoff start ${IAN}`, OLGA, UNIT_ROOM, "$start-again"))!.reply).to.match(/is already open/);

      const add = `!handoff add ${PATIENT} bed 4\nS: ${SBAR.situation}\nB: ${SBAR.background}\nA: ${SBAR.assessment}\nR: ${SBAR.recommendation}`;
      expect(await retried(add, OLGA, v.room_id!, "$add")).to.match(/^Patient 1 added to handoff/);
      expect(await count("handoff_entries", { handoff_id: v.id })).to.equal(1);
      expect((stateOf(v) as { patient_count: number }).patient_count).to.equal(1);

      expect(await retried(`!handoff readback 1 ${READBACK}`, IAN, v.room_id!, "$readback")).to.match(/^.*patient 1/i);
      expect((stateOf(v) as { read_back_count: number }).read_back_count).to.equal(1);
      expect(rooms.messages(v.room_id!).filter((m) => m.body === `${IAN} read back patient 1.`)).to.have.length(1);

      expect(await retried(`!handoff question 1 ${QUESTION}`, IAN, v.room_id!, "$question")).to.match(/^Question #1 on patient 1 asked/);
      expect(await count("handoff_questions", { handoff_id: v.id })).to.equal(1);
      expect((stateOf(v) as { open_questions: number }).open_questions).to.equal(1);

      expect(await retried(`!handoff answer 1 ${ANSWER}`, OLGA, v.room_id!, "$answer")).to.match(/^Question #1 answered\./);
      expect((stateOf(v) as { open_questions: number }).open_questions).to.equal(0);
      expect(rooms.messages(v.room_id!).filter((m) => m.body.startsWith("Answer to Q1"))).to.have.length(1);
      expect((await command(`!handoff answer 1 ${ANSWER}`, OLGA, v.room_id!, "$answer-again"))!.reply).to.match(/already answered/);
      await svc.cancel(v.id, OLGA);
    });

    it("answers a sign-off or cancel retried after its state write failed as its first success would, and mirrors the state then", async function () {
      const v = await readyToSign(await withPatient());
      expect(await retried("!handoff signoff", OLGA, v.room_id, "$signoff-olga")).to.equal(`You signed off handoff #${v.number}. Waiting for ${IAN} to sign off (!handoff signoff).`);
      expect(stateOf(v)).to.include({ status: "signing" });
      expect(await retried("!handoff signoff", IAN, v.room_id, "$signoff-ian")).to.equal(`Handoff #${v.number} is complete: both of you signed off.`);
      expect(stateOf(v)).to.include({ status: "completed" });
      expect(rooms.messages(v.room_id).filter((m) => m.body.startsWith(`Handoff #${v.number} is complete`))).to.have.length(1);
      // Another command's repeat is still refused.
      expect((await command("!handoff signoff", IAN, v.room_id, "$signoff-ian-again"))!.outcome).to.equal("user_error");

      const c = await withPatient();
      expect(await retried("!handoff cancel", OLGA, c.room_id, "$cancel")).to.equal(`Handoff #${c.number} is cancelled.`);
      expect(stateOf(c)).to.include({ status: "cancelled" });
    });

    it("answers a remove retried after its state write failed as its first success would, removing that patient only", async function () {
      const h = await start();
      for (const bed of ["bed 1", "bed 2", "bed 3"]) await svc.presentItem(h.id, OLGA, { sections: sections({ label: bed }) }, txn());
      const reply = await retried("!handoff remove 2", OLGA, h.room_id, "$remove");
      expect(reply).to.match(new RegExp(`^Patient 2 is off handoff #${h.number}; 2 patients left`));
      const v = await svc.get(h.id);
      expect(v.entries.map((e) => e.number)).to.deep.equal([1, 3]);
      expect((stateOf(v) as { patient_count: number }).patient_count).to.equal(2);
      expect(rooms.messages(h.room_id).filter((m) => m.body.startsWith("Patient 2 was removed"))).to.have.length(1);
      // Another command naming the removed patient is still refused.
      expect((await command("!handoff remove 2", OLGA, h.room_id, "$remove-again"))!.outcome).to.equal("user_error");
      await svc.cancel(h.id, OLGA);
    });

    it("finishes a done retried after its first attempt committed on its own task, never on the one that moved up to its number", async function () {
      const h = await start();
      const tasks = [
        { id: "task-first", text: TASK, due_ts: clock.getTime() + 60 * MIN },
        { id: "task-second", text: PHARM_TASK, due_ts: clock.getTime() + 120 * MIN },
      ];
      await svc.presentItem(h.id, OLGA, { sections: sections({ tasks }) }, txn());
      // The first attempt marks the task done, then dies before it can answer (a crash, a lost reply).
      let crash = true;
      const flaky = new Proxy(svc, {
        get(target, key) {
          const member = Reflect.get(target, key, target) as unknown;
          if (key !== "completeTask" || typeof member !== "function") return typeof member === "function" ? member.bind(target) : member;
          return async (...args: unknown[]) => {
            const done = await (member as (...a: unknown[]) => Promise<HandoffView>).apply(target, args);
            if (!crash) return done;
            crash = false;
            throw new Error("simulated crash after the commit");
          };
        },
      });
      const table = CommandTable.forBot(HANDOFF_BOT, handoffCommands(flaky, rooms, { dashboardWidgetUrl: "https://rounds.example/w" }).commands);
      const done = () => table.dispatch("!handoff done 1", { sender: OLGA, roomId: h.room_id, sentAt: clock, eventId: "$done", encrypted: true, body: "!handoff done 1" }, (e) => {
        throw e;
      });
      expect(String(await done().then(() => null, (e: unknown) => e))).to.contain("simulated crash after the commit");
      const again = (await done())!;
      expect(again.outcome, again.reply).to.equal("ok");
      expect(again.reply).to.equal(`Task 1 (handoff #${h.number}) is done. Send !handoff tasks for the ones left.`);
      const after = await svc.get(h.id);
      expect(Object.fromEntries(after.tasks.map((t) => [t.task_id, t.status]))).to.deep.equal({ "task-first": "done", "task-second": "open" });
      expect((await auditActions(h.id)).filter((a) => a === "task_done")).to.have.length(1);
      await svc.cancel(h.id, OLGA);
    });

    it("reminds both at the deadline, then tells and invites the charge role, each once", async function () {
      const v = await withPatient();
      const deadline = await timer(TIMER_HANDOFF_DEADLINE, v.id);
      expect(deadline.dueAt.getTime()).to.equal(v.deadline_ts);
      clock = new Date(v.deadline_ts);
      await svc.onDeadline(deadline);
      let now = await svc.get(v.id);
      expect(now.overdue).to.equal(true);
      expect(stateOf(now)).to.include({ overdue: true });
      const reminder = rooms.messages(v.room_id).at(-1)!;
      expect(reminder.body).to.match(new RegExp(`^Reminder: handoff #${v.number} was due to be signed off by \\d\\d:\\d\\d and is not \\(1 patient without a read-back \\(#1\\)`));
      expect(reminder.mentions).to.have.members([OLGA, IAN]);
      const escalate = await timer(TIMER_HANDOFF_ESCALATE, v.id);
      expect(escalate.dueAt.getTime()).to.equal(clock.getTime() + 10 * MIN);

      tick(10);
      const toldBefore = notifier.told.length;
      await svc.onEscalate(escalate);
      now = await svc.get(v.id);
      expect(now.escalated_to).to.deep.equal([CHARLIE]);
      expect(now.escalated_ts).to.equal(clock.getTime());
      expect(stateOf(now)).to.deep.include({ escalated_to: [CHARLIE] });
      expect(rooms.callsIn(v.room_id, "invite").map((c) => c.args.userIds)).to.deep.equal([[CHARLIE]]);
      const dms = notifier.told.slice(toldBefore);
      expect(dms).to.have.length(1);
      expect(dms[0]!.userId).to.equal(CHARLIE);
      expect(dms[0]!.text).to.contain(`Handoff #${v.number} on 4 West (${OLGA} to ${IAN}) is past its deadline`).and.contain(`https://matrix.to/#/${encodeURIComponent(v.room_id)}`);
      expect(rooms.messages(v.room_id).at(-1)!.body).to.contain(`${CHARLIE} (charge) has been told and invited`);
      expect(await auditActions(v.id)).to.include.members(["deadline_missed", "escalated"]);

      // A repeated escalation (a retry after a crash half-way) finishes the keyed telling: nobody is told twice.
      const messages = rooms.messages(v.room_id).length;
      await svc.onEscalate(escalate);
      expect(notifier.told.length).to.equal(toldBefore + 1);
      expect(rooms.messages(v.room_id).length).to.equal(messages);
      expect(await auditActions(v.id)).to.satisfy((a: string[]) => a.filter((x) => x === "escalated").length === 1);

      // The charge nurse may report an incident, but not sign off.
      await refusedUnchanged(() => svc.signOff(v.id, CHARLIE), "forbidden");
      const incident = await svc.reportIncident(v.id, CHARLIE, { entryId: v.entries[0]!.entry_id, category: "omission", note: { description: INCIDENT, txnKey: txn() } });
      expect(incident.incident).to.be.a("number");
      const told = notifier.told.at(-1)!;
      expect(told.userId).to.equal(QUINN);
      expect(told.text).to.contain(`Incident report #${incident.incident} (omission) from handoff #${v.number} on 4 West, patient 1, by ${CHARLIE}`);
      expect(told.text).to.contain(`https://matrix.to/#/${encodeURIComponent(v.room_id)}/${encodeURIComponent(v.entries[0]!.item_event_id)}`);
      expect(rooms.sentEvents(v.room_id, HandoffEventType.Note).at(-1)!.content).to.deep.include({ kind: "incident", text: INCIDENT });
      await refusedUnchanged(() => svc.reportIncident(v.id, IVY, { entryId: v.entries[0]!.entry_id, category: "omission" }), "forbidden");
      await refusedUnchanged(() => svc.reportIncident(v.id, IAN, { entryId: v.entries[0]!.entry_id, category: "bad" as never }), "invalid_input", /Choose a category/);

      // A completed handoff's late timers do nothing.
      const late = await start(IVY);
      await readyToSign(late);
      await svc.signOff(late.id, OLGA);
      await svc.signOff(late.id, IVY);
      const before = rooms.calls.length;
      await svc.onDeadline(await timer(TIMER_HANDOFF_DEADLINE, late.id));
      expect(rooms.calls.length).to.equal(before);
      expect((await svc.get(late.id)).overdue).to.equal(false);
    });

    it("offers the picker the roster's next shift, then the unit room's members, without bots or the viewer", async function () {
      await svc.saveUnit({ id: "5north", name: "5 North", room_id: NORTH_ROOM, shift_times: ["07:00", "19:00"], roster: { service: "5north-nurses" } });
      rooms.members.set(NORTH_ROOM, new Set([NINA, OLGA, BOT, DAN]));
      // Before the 07:00 change: Dan comes on, Nina goes off.
      clock = new Date("2026-03-11T06:40:00Z");
      expect(await svc.peopleNear("5north", OLGA)).to.deep.equal([DAN, NINA]);
      // Just after it, the handoff it opened is still the one meant.
      clock = new Date("2026-03-11T07:10:00Z");
      expect(await svc.peopleNear("5north", OLGA)).to.deep.equal([DAN, NINA]);
      // Before the 19:00 change the other way round; and Olga, in the room, is never offered herself.
      clock = new Date("2026-03-11T18:00:00Z");
      expect(await svc.peopleNear("5NORTH", OLGA)).to.deep.equal([NINA, DAN]);
      // Someone outside the unit room sees the roster only, not who is in the room.
      rooms.members.set(NORTH_ROOM, new Set([NINA, OLGA, BOT, DAN, IVY]));
      expect(await svc.peopleNear("5north", CHARLIE)).to.deep.equal([NINA, DAN]);
      expect(await svc.peopleNear("5north", NINA)).to.deep.equal([DAN, OLGA, IVY]);
      await refusedUnchanged(() => svc.peopleNear("nowhere", OLGA), "unknown_unit", /There is no unit "nowhere"/);
    });

    it("starts one scheduled handoff per unit and shift change, even when checked twice, concurrently, or after a restart", async function () {
      await svc.saveUnit({ id: "5north", name: "5 North", room_id: NORTH_ROOM, shift_times: ["07:00", "19:00"], roster: { service: "5north-nurses" }, checklist: ["Allergies reviewed"] });
      await svc.saveUnit({ id: "6south", name: "6 South", shift_times: ["07:00"] });
      clock = new Date("2026-03-11T07:05:00Z");
      const other = new HandoffService(deps);
      const [a, b] = await Promise.all([svc.checkShiftChanges(clock), other.checkShiftChanges(clock)]);
      const handled = [...a, ...b];
      expect(handled.map((x) => x.unit).sort()).to.deep.equal(["5north", "6south"]);
      const started = handled.find((x) => x.unit === "5north")!;
      expect(started.shiftAt.toISOString()).to.equal("2026-03-11T07:00:00.000Z");
      expect(started.outcome).to.match(/^started:\d+$/);
      expect(handled.find((x) => x.unit === "6south")!.outcome).to.equal("reminded");

      const rows = await db("handoffs").where({ unit_id: "5north" });
      expect(rows).to.have.length(1);
      const v = await svc.get(rows[0].id);
      expect(v).to.include({ outgoing: NINA, incoming: DAN, status: "started", scheduled_for_ts: Date.parse("2026-03-11T07:00:00Z") });
      // The tick came 5 minutes after the shift change: the 15 minutes run from when it opened.
      expect(v.deadline_ts).to.equal(Date.parse("2026-03-11T07:20:00Z"));
      const announced = rooms.messages(NORTH_ROOM);
      expect(announced).to.have.length(1);
      expect(announced[0]!.body).to.contain(`Shift change 07:00: handoff #${v.number} from ${NINA} to ${DAN} is open`);

      // Checked again a minute later, and after a restart (a new service on the same database).
      tick(1);
      expect(await svc.checkShiftChanges(clock)).to.deep.equal([]);
      const restarted = new HandoffService(deps);
      expect(await restarted.checkShiftChanges(clock)).to.deep.equal([]);
      // A shift change more than half an hour ago is not started late.
      expect(await restarted.checkShiftChanges(new Date("2026-03-11T19:45:00Z"))).to.deep.equal([]);
      expect(await db("handoffs").where({ unit_id: "5north" })).to.have.length(1);
      expect(rooms.messages(NORTH_ROOM)).to.have.length(1);
      expect(await db("handoff_shift_changes").where({ unit_id: "5north" })).to.have.length(1);

      // A claim left "pending" by a crash after the handoff opened: the retry finishes that handoff, not a second one.
      await db("handoff_shift_changes").where({ unit_id: "5north" }).update({ outcome: "pending", handled_at: new Date("2026-03-11T07:05:00Z") });
      clock = new Date("2026-03-11T07:09:00Z");
      const resumed = await restarted.checkShiftChanges(clock);
      expect(resumed.find((x) => x.unit === "5north")!.outcome).to.equal(`started:${v.number}`);
      expect(await db("handoffs").where({ unit_id: "5north" })).to.have.length(1);
      expect(rooms.messages(NORTH_ROOM)).to.have.length(1);

      // The evening change the other way round.
      const evening = await restarted.checkShiftChanges(new Date("2026-03-11T19:01:00Z"));
      expect(evening.find((x) => x.unit === "5north")!.outcome).to.match(/^started:/);
      const later = await db("handoffs").where({ unit_id: "5north" }).orderBy("number");
      expect(later).to.have.length(2);
      expect(later[1]).to.include({ outgoing: DAN, incoming: NINA, started_by: BOT });
    });

    it("keeps patient numbers stable across removal, lets only the other clinician answer, and keeps done tasks done", async function () {
      const h = await start();
      await svc.presentItem(h.id, OLGA, { sections: sections({ label: "bed 1" }) }, txn());
      await svc.presentItem(h.id, OLGA, { sections: sections({ label: "bed 2", tasks: [{ id: "task-stays-done", text: TASK }] }) }, txn());
      let v = await svc.presentItem(h.id, OLGA, { sections: sections({ label: "bed 3" }) }, txn());
      expect(v.entries.map((e) => e.number)).to.deep.equal([1, 2, 3]);
      // A question on patient 1, then patient 1 leaves the list: numbers do not shift, the question no longer blocks.
      await svc.ask(v.id, IAN, 1, QUESTION, txn());
      v = await svc.removeEntry(v.id, OLGA, v.entries[0]!.entry_id);
      expect(v.entries.map((e) => e.number)).to.deep.equal([2, 3]);
      expect(v.outstanding.open_questions).to.deep.equal([]);
      expect(v.outstanding.missing_read_back).to.deep.equal([2, 3]);
      // "Patient 3" is still the patient who was presented third.
      const third = v.entries.find((e) => e.number === 3)!;
      v = await svc.readBack(v.id, IAN, 3, READBACK, txn());
      expect(v.entries.find((e) => e.number === 3)).to.include({ entry_id: third.entry_id, read_back: true });
      expect(v.entries.find((e) => e.number === 2)).to.include({ read_back: false });
      await refusedUnchanged(() => svc.readBack(v.id, IAN, 1, READBACK, txn()), "not_found", /has no patient 1; its patients are 2, 3/);

      // The asker cannot answer their own question; the other clinician can.
      v = await svc.ask(v.id, IAN, 2, QUESTION, txn());
      const q = v.questions.find((x) => x.entry_id === v.entries[0]!.entry_id)!;
      await refusedUnchanged(() => svc.answer(v.id, IAN, q.number, ANSWER, txn()), "forbidden", new RegExp(`You asked Q${q.number}; ${OLGA.replace(/\./g, "\\.")} answers it`));
      v = await svc.answer(v.id, OLGA, q.number, ANSWER, txn());
      expect(v.outstanding.open_questions).to.deep.equal([]);

      // A task marked done stays done when its patient is edited (the edit keeps the task).
      v = await svc.completeTask(v.id, OLGA, "task-stays-done");
      v = await svc.presentItem(v.id, OLGA, { entryNumber: 2, sections: { code_status: "DNACPR" } }, txn());
      expect(v.tasks.find((t) => t.task_id === "task-stays-done")).to.include({ status: "done" });
    });

    it("makes one incident of a retried report, and retries a shift change whose claim was left half-done", async function () {
      const v = await withPatient();
      const key = txn();
      const first = await svc.reportIncident(v.id, IAN, { entryId: v.entries[0]!.entry_id, category: "omission", note: { description: INCIDENT, txnKey: key } });
      const again = await svc.reportIncident(v.id, IAN, { entryId: v.entries[0]!.entry_id, category: "omission", note: { description: INCIDENT, txnKey: key } });
      expect(again.incident).to.equal(first.incident);
      expect(await count("handoff_incidents", { handoff_id: v.id })).to.equal(1);
      expect((await auditActions(v.id)).filter((a) => a === "incident")).to.have.length(1);

      await svc.saveUnit({ id: "7east", name: "7 East", shift_times: ["07:00"] });
      const shiftAt = new Date("2026-03-12T07:00:00Z");
      // A claim taken at 07:01 by a process that then died: still "pending".
      await db("handoff_shift_changes").insert({ unit_id: "7east", shift_at: shiftAt, outcome: "pending", handled_at: new Date("2026-03-12T07:01:00Z") });
      clock = new Date("2026-03-12T07:02:00Z");
      expect((await svc.checkShiftChanges(clock)).filter((x) => x.unit === "7east")).to.deep.equal([]);
      clock = new Date("2026-03-12T07:05:00Z");
      const retried = await svc.checkShiftChanges(clock);
      expect(retried.filter((x) => x.unit === "7east").map((x) => x.outcome)).to.deep.equal(["reminded"]);
      expect((await db("handoff_shift_changes").where({ unit_id: "7east" }).first()).outcome).to.equal("reminded");
    });

    it("runs an I-PASS unit's handoff: the I-PASS item, the receiver's synthesis as read-back, and the report under I-PASS headings", async function () {
      await svc.saveUnit({ id: "icu2", name: "ICU 2", template: "ipass", checklist: [] });
      const h = await start(IAN, OLGA, "icu2");
      expect(h.template).to.equal("ipass");
      const ipass = { illness_severity: "watcher" as const, patient_summary: SBAR.background, action_list: SBAR.recommendation, situation_awareness: "If MAP below 65 then start noradrenaline" };
      await refusedUnchanged(() => svc.presentItem(h.id, OLGA, { sections: sections() }, txn()), "invalid_input", /I-PASS item needs/);
      let v = await svc.presentItem(h.id, OLGA, { sections: { patient_ref: PATIENT, ipass } }, txn());
      expect(rooms.sentEvents(v.room_id, HandoffEventType.Item).at(-1)!.content).to.deep.include({ template: "ipass", ipass });
      v = await svc.readBack(v.id, IAN, 1, READBACK, txn());
      await svc.signOff(v.id, OLGA);
      v = await svc.signOff(v.id, IAN);
      expect(v.status).to.equal("completed");
      await svc.onReport(await timer(TIMER_HANDOFF_REPORT, v.id));
      const file = rooms.callsIn(v.room_id, "sendFile")[0]!;
      const markdown = (file.args.content as { text: string }).text;
      expect(markdown).to.contain("I-PASS").and.contain("Illness severity").and.contain("Synthesis by receiver (read-back)").and.contain(READBACK).and.contain("If MAP below 65 then start noradrenaline");
    });

    it("keeps clinical text out of state events, audit refs, database rows, direct messages and logs", async function () {
      const states = rooms.calls.filter((c) => c.method === "setState");
      expect(states.length).to.be.greaterThan(20);
      for (const s of states) {
        expect(s.args.type).to.equal(StateType.Handoff);
        const parsed = HandoffStateSchema.safeParse(s.args.content);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
      }
      const tables = ["handoff_units", "handoffs", "handoff_shift_changes", "handoff_entries", "handoff_events", "handoff_questions", "handoff_tasks", "handoff_signoffs", "handoff_incidents", "audit_log", "timers"];
      let database = "";
      for (const t of tables) database += JSON.stringify(await db(t));
      const handoffIds = (await db("handoffs")).map((r) => r.id as string);
      let audit = "";
      for (const id of handoffIds) audit += JSON.stringify(await svc.audit(id));
      const places = {
        state: JSON.stringify(states.map((s) => s.args.content)),
        "audit refs": audit,
        database,
        "direct messages": JSON.stringify(notifier.told),
        logs: logLines.join(""),
        "room names and widgets": JSON.stringify(rooms.calls.filter((c) => c.method === "openRoom" || c.method === "installWidget")),
        "unit room messages": JSON.stringify(rooms.messages(UNIT_ROOM).concat(rooms.messages(NORTH_ROOM))),
        metrics: await metrics.registry.metrics(),
      };
      expect(audit).to.contain('"override"');
      for (const [where, text] of Object.entries(places)) {
        for (const phi of PHI) expect(text, `${where} must not contain "${phi}"`).to.not.contain(phi);
      }
      const text = await metrics.registry.metrics();
      expect(text).to.match(/rounds_handoff_transitions_total\{unit="4west",transition="completed"\} \d+/);
    });
  });
}
