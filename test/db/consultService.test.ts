import { expect } from "chai";
import { backends } from "../harness/backends.js";
import { RecordingNotifier, RecordingRooms as SharedRecordingRooms } from "../harness/recordingRooms.js";
import { pino } from "pino";
import { Writable } from "node:stream";
import { BILLING_HEADING } from "../../appservice/consult/consultReport.js";
import {
  ConsultError,
  ConsultService,
  TIMER_CONSULT_ACCEPT,
  TIMER_CONSULT_RESPOND,
  TIMER_CONSULT_SETTLE,
} from "../../appservice/consult/consultService.js";
import type { ConsultErrorCode } from "../../appservice/consult/consultErrors.js";
import { ConsultStore } from "../../appservice/consult/consultStore.js";
import { CommandTable } from "../../bots/commands.js";
import { CONSULT_BOT } from "../../bots/consultBot.js";
import { consultCommands } from "../../bots/consultCommands.js";
import type { Db } from "../../appservice/db/connect.js";
import { consultMetrics, type ConsultMetrics } from "../../appservice/consult/consultMetrics.js";
import { Metrics } from "../../appservice/metrics.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { ConsultEventType, ConsultStateSchema, StateType, type ConsultRequestContent } from "../../appservice/shared/events/index.js";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import { TimerStore, type TimerRow } from "../../appservice/timers/timerStore.js";
import { migrateAll } from "../harness/migrateAll.js";

/**
 * The consult domain service down to the database, on every backend. Matrix is a recording
 * in-memory room writer here (the integration tests cover real Synapse): it keeps what was sent
 * so the service can read its own messages back, and it can fail a call once to stand for a crash.
 */
/** The consult bot's rooms, with the requester's widget request seeded where the service reads it. */
class RecordingRooms extends SharedRecordingRooms {
  constructor() {
    super("@consult:x.org");
  }
  /** A request event as the requester's widget sent it, so the service can read it back. */
  seed(roomId: string, eventId: string, content: Record<string, unknown>): void {
    this.seedEvent(roomId, "@ward:x.org", ConsultEventType.Request, content, eventId);
  }
}


const SCHEDULE = `
coordinators: ["@rota:x.org"]
chains:
  cardio-seniors: ["@senior:x.org"]
absences:
  - { user: "@neph2:x.org", start: "2026-03-01", end: "2026-03-31", label: leave }
services:
  - id: cardiology
    name: Cardiology
    timezone: UTC
    coordinator: "@coord:x.org"
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["@cardio1:x.org"] }
      - level: backup
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["@cardio2:x.org"] }
    escalation:
      steps: [{ level: primary }, { level: backup }, { chain: cardio-seniors }]
  - id: nephrology
    name: Nephrology
    timezone: UTC
    coordinator: "@nephcoord:x.org"
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["@neph1:x.org"] }
      - level: backup
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["@neph2:x.org"] }
  - id: dermatology
    name: Dermatology
    timezone: UTC
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-01", members: ["@derm:x.org"] }
`;

// Clinical strings that must never reach state, the database, direct messages or logs.
const PATIENT = "Encounter/enc-4711";
const QUESTION = "Troponin rising after PCI, advice on anticoagulation please";
const HISTORY = "Seventy-two, CABG in 2019, on apixaban";
const REASONS = ["Outside my subspecialty, sorry", "In theatre until late tonight", "Cannot take this today"];
const FINDINGS = "Sinus rhythm, no ischaemic changes";
const CANCEL_REASON = "Patient transferred to another site";
const PHI = [PATIENT, "enc-4711", "Troponin", "apixaban", "CABG", ...REASONS, FINDINGS, CANCEL_REASON];

const ATTACHMENT = {
  name: "ecg.pdf",
  mimetype: "application/pdf" as const,
  size: 1234,
  file: { url: "mxc://x.org/ecg", key: { kty: "oct" as const, alg: "A256CTR" as const, k: "secret", key_ops: ["encrypt", "decrypt"], ext: true as const }, iv: "iv0", hashes: { sha256: "hash" }, v: "v2" as const },
};

const REQUESTER = "@ward:x.org";
const MIN = 60_000;
const OPTIONS = {
  acceptMinutes: { emergent: 5, urgent: 15, routine: 120 },
  expectedResponseMinutes: { emergent: 30, urgent: 240, routine: 2880 },
  consultWidgetUrl: "https://rounds.example/_rounds/widgets/consult-room/?room=$matrix_room_id",
};

for (const backend of backends) {
  describe(`consult service: ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let rooms: RecordingRooms;
    let notifier: RecordingNotifier;
    let metrics: ConsultMetrics;
    let svc: ConsultService;
    /** A second process on the same database: its own locks, so only the guarded updates stand between them. */
    let other: ConsultService;
    let clock: Date;
    const logLines: string[] = [];
    let seq = 0;

    const content = (over: Partial<ConsultRequestContent> = {}): ConsultRequestContent => ({
      service: "cardiology",
      urgency: "urgent",
      patient_ref: PATIENT,
      question: QUESTION,
      history: HISTORY,
      care_team: ["@nurse:x.org"],
      attachments: [ATTACHMENT],
      ...over,
    });
    /** A request as the widget sends it: the event is in the requester's room, and the service is called with it. */
    const ask = async (over: Partial<ConsultRequestContent> = {}, requester = REQUESTER) => {
      const c = content(over);
      const source = { roomId: "!ward:x.org", eventId: `$request${++seq}` };
      rooms.seed(source.roomId, source.eventId, c);
      return { view: await svc.request({ requester, content: c, source }), content: c, source };
    };
    const timer = async (kind: string, ref: string, step: string): Promise<TimerRow> => {
      const r = await db("timers").where({ kind, ref, step }).first();
      expect(r, `timer ${kind} ${step}`).to.not.equal(undefined);
      return { id: String(r.id), kind, ref, step, dueAt: new Date(r.due_at), attempts: 0 };
    };
    /** Fires a timer as the worker does, with the clock moved to its deadline. */
    const fire = async (kind: string, ref: string, step: string) => {
      const t = await timer(kind, ref, step);
      if (t.dueAt > clock) clock = new Date(t.dueAt.getTime());
      await (kind === TIMER_CONSULT_ACCEPT ? svc.onAcceptDeadline(t) : kind === TIMER_CONSULT_SETTLE ? svc.onSettle(t) : svc.onResponseDeadline(t));
    };
    const row = async (id: string) => db("consults").where({ id }).first();
    const stateOf = (v: ConsultView) => rooms.state.get(`${v.room_id}|${StateType.Consult}|${v.id}`)!;
    const refused = async (call: () => Promise<unknown>, code: ConsultErrorCode, message?: RegExp) => {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, "the call should be refused").to.be.instanceOf(ConsultError);
      expect((err as ConsultError).reason).to.equal(code);
      if (message) expect((err as ConsultError).humanMessage).to.match(message);
      return err as ConsultError;
    };
    /** Refused, and nothing changed: the row, the timers, the room state, Matrix and the direct messages. */
    const refusedUnchanged = async (id: string, call: () => Promise<unknown>, code: ConsultErrorCode, message?: RegExp) => {
      const before = { row: await row(id), timers: await db("timers").where({ ref: id }).orderBy("id"), state: [...rooms.state.entries()], calls: rooms.calls.length, told: notifier.told.length };
      const err = await refused(call, code, message);
      expect(await row(id)).to.deep.equal(before.row);
      expect(await db("timers").where({ ref: id }).orderBy("id")).to.deep.equal(before.timers);
      expect([...rooms.state.entries()]).to.deep.equal(before.state);
      expect(rooms.calls.length, "no Matrix call").to.equal(before.calls);
      expect(notifier.told.length, "nobody told").to.equal(before.told);
      return err;
    };

    before(async function () {
      ({ db, close } = await backend.open());
      await migrateAll(db);
      clock = new Date("2026-03-10T12:00:00Z");
      const oncall = new OnCallService(new OnCallStore(db), { now: () => clock });
      await oncall.importSchedule(SCHEDULE, { force: true });
      rooms = new RecordingRooms();
      notifier = new RecordingNotifier();
      metrics = consultMetrics(new Metrics().registry);
      const sink = new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      });
      const deps = {
        store: new ConsultStore(db),
        oncall,
        timers: new TimerStore(db),
        wakeTimers: () => undefined,
        rooms,
        notifier,
        options: OPTIONS,
        log: pino({ level: "debug" }, sink),
        metrics,
        now: () => clock,
      };
      svc = new ConsultService(deps);
      other = new ConsultService(deps);
    });
    after(async () => close?.());

    it("routes to the preferred specialist when available, relays the request and arms the accept deadline", async function () {
      const { view, content: c } = await ask({ preferred_specialist: "@cardio2:x.org" });
      expect(view).to.include({ status: "requested", service: "cardiology", urgency: "urgent", requester: REQUESTER, preferred: "@cardio2:x.org", step: 0, exhausted: false });
      expect(view.candidates).to.deep.equal(["@cardio2:x.org"]);
      expect(view.care_team).to.deep.equal(["@nurse:x.org"]);
      expect(view.accept_by_ts).to.equal(clock.getTime() + 15 * MIN);

      const open = rooms.callsIn(view.room_id, "openRoom")[0]!;
      expect(open.args).to.deep.include({ key: `consult:${view.id}`, name: `Consult ${view.number} · Cardiology` });
      expect(open.args.members).to.have.members([REQUESTER, "@cardio2:x.org", "@nurse:x.org"]);
      expect(rooms.callsIn(view.room_id, "installWidget")[0]!.args).to.deep.equal({ id: "rounds-consult", name: "Consult", url: OPTIONS.consultWidgetUrl, data: { consult_id: view.id } });

      const relayed = rooms.callsIn(view.room_id, "sendEvent");
      expect(relayed).to.have.length(1);
      expect(relayed[0]!.args.type).to.equal(ConsultEventType.Request);
      // It refers to the room's create event, so a widget whose client's timeline had a gap still finds it.
      expect(relayed[0]!.args.content).to.deep.equal({ ...c, consult_id: view.id, "m.relates_to": { rel_type: "m.reference", event_id: `$create-${view.room_id}` } });
      expect(rooms.callsIn(view.room_id, "resendFile")).to.have.length(1);

      const [msg] = rooms.messages(view.room_id);
      expect(msg!.mentions).to.deep.equal(["@cardio2:x.org"]);
      expect(msg!.notice).to.equal(false);
      for (const part of ["URGENT", "Cardiology", REQUESTER, PATIENT, QUESTION, HISTORY, `!consult accept ${view.number}`, `!consult decline ${view.number}`, "✅", "widget"]) {
        expect(msg!.body).to.contain(part);
      }
      expect(msg!.body).to.not.contain("not available");

      expect((await svc.byRequestMessage(msg!.eventId))!.id).to.equal(view.id);
      expect((await svc.inRoom(view.room_id))!.id).to.equal(view.id);
      expect((await svc.byNumber(view.number)).id).to.equal(view.id);
      expect(await svc.inRoom("!elsewhere:x.org")).to.equal(null);
      const t = await timer(TIMER_CONSULT_ACCEPT, view.id, "0");
      expect(t.dueAt.getTime()).to.equal(clock.getTime() + 15 * MIN);
      expect(ConsultStateSchema.safeParse(stateOf(view)).success).to.equal(true);
    });

    it("routes to the on-call when the preferred specialist is absent, and says so", async function () {
      const { view } = await ask({ service: "Nephrology", preferred_specialist: "@neph2:x.org" });
      expect(view.service).to.equal("nephrology");
      expect(view.candidates).to.deep.equal(["@neph1:x.org"]);
      const [msg] = rooms.messages(view.room_id);
      expect(msg!.body).to.contain("@neph2:x.org is not available now (off shift or absent); routed to the on-call: @neph1:x.org");
      expect(msg!.mentions).to.deep.equal(["@neph1:x.org"]);
    });

    it("lists a service's specialists with who is available now", async function () {
      const r = await svc.specialists("cardiology");
      expect(r.service).to.equal("cardiology");
      expect(r.specialists).to.deep.include({ user_id: "@cardio1:x.org", available: true });
      expect(r.specialists).to.deep.include({ user_id: "@senior:x.org", available: false });
      const neph = await svc.specialists("nephrology");
      expect(neph.specialists).to.deep.include({ user_id: "@neph2:x.org", available: false });
      await refused(() => svc.specialists("podiatry"), "unknown_service", /Cardiology \(cardiology\)/);
    });

    it("refuses an unknown service, and nobody available, persisting nothing and telling the coordinators", async function () {
      const count = async () => Number((await db("consults").count({ n: "*" }).first())!.n);
      const before = { n: await count(), calls: rooms.calls.length };
      await refused(() => ask({ service: "podiatry" }), "unknown_service", /There is no service "podiatry"\. Consult one of: .*Cardiology \(cardiology\)/);
      // A long or hostile name is quoted as a short, cleaned prefix, never whole.
      const long = await refused(() => ask({ service: `pod\u202e\niatry${"x".repeat(20_000)}` }), "unknown_service");
      expect(long.humanMessage).to.match(/^There is no service "pod iatryx+…"\. Consult one of:/);
      expect(long.humanMessage.length).to.be.below(300);
      // The dermatologist on call is the requester: never asked to answer their own consult.
      const err = await refused(() => ask({ service: "dermatology" }, "@derm:x.org"), "nobody_available", /Nobody is on call or available for Dermatology/);
      expect(err.humanMessage).to.contain("told the coordinators");
      expect(await count()).to.equal(before.n);
      expect(rooms.calls.length).to.equal(before.calls);
      const dm = notifier.told.filter((t) => t.userId === "@rota:x.org" && t.text.includes("Dermatology"));
      expect(dm).to.have.length(1);
      await refused(() => ask({ question: "short" }), "invalid_input", /question/);
      await refused(() => ask({ preferred_specialist: REQUESTER }), "invalid_input", /yourself/);
      expect(await count()).to.equal(before.n);
    });

    it("on decline asks the next candidate, re-quoting the request for them; the reason stays in the room", async function () {
      const { view } = await ask();
      expect(view.candidates).to.deep.equal(["@cardio1:x.org"]);
      const after = await svc.decline(view.id, "@cardio1:x.org", REASONS[0]!);
      expect(after).to.include({ status: "requested", step: 1 });
      expect(after.candidates).to.deep.equal(["@cardio1:x.org", "@cardio2:x.org"]);
      expect(after.declined_by).to.deep.equal(["@cardio1:x.org"]);

      expect(rooms.callsIn(view.room_id, "invite").map((c) => c.args.userIds)).to.deep.equal([["@cardio2:x.org"]]);
      const msgs = rooms.messages(view.room_id);
      const reason = msgs.find((m) => m.body.includes(REASONS[0]!))!;
      expect(reason.body).to.contain("@cardio1:x.org declined");
      expect(reason.mentions).to.deep.equal([REQUESTER]);
      const requote = msgs.at(-1)!;
      expect(requote.mentions).to.deep.equal(["@cardio2:x.org"]);
      expect(requote.body).to.contain("@cardio1:x.org declined");
      expect(requote.body).to.contain(`> Question: ${QUESTION}`);
      expect(requote.body).to.contain(`!consult accept ${view.number}`);
      // The structured request and its attachment again, so the new member's widget and client can read them.
      const events = rooms.callsIn(view.room_id, "sendEvent");
      expect(events).to.have.length(2);
      expect(events[1]!.args.content).to.deep.equal(events[0]!.args.content);
      expect(rooms.callsIn(view.room_id, "resendFile")).to.have.length(2);
      expect((await svc.byRequestMessage(requote.eventId))!.id).to.equal(view.id);

      expect((await timer(TIMER_CONSULT_ACCEPT, view.id, "1")).dueAt.getTime()).to.equal(clock.getTime() + 15 * MIN);
      expect(JSON.stringify(await row(view.id))).to.not.contain(REASONS[0]!);
      expect(JSON.stringify(stateOf(view))).to.not.contain(REASONS[0]!);
      expect(stateOf(view)).to.deep.include({ step: 1, declined_by: ["@cardio1:x.org"] });
    });

    it("ends declined when the last candidate declines, telling the requester and the coordinators", async function () {
      const { view } = await ask({ service: "nephrology" });
      const toldBefore = notifier.told.length;
      const after = await svc.decline(view.id, "@neph1:x.org", REASONS[1]!);
      expect(after).to.include({ status: "declined", exhausted: true, accept_by_ts: null });
      const last = rooms.messages(view.room_id).at(-1)!;
      expect(last.body).to.contain(`Consult #${view.number} is declined`);
      expect(last.mentions).to.deep.equal([REQUESTER]);
      const dms = notifier.told.slice(toldBefore);
      expect(dms.map((d) => d.userId)).to.have.members(["@nephcoord:x.org", "@rota:x.org"]);
      for (const d of dms) expect(d.text).to.equal(`Consult #${view.number} (urgent) for Nephrology was declined and nobody else is available to take it.`);
      expect(await db("timers").where({ ref: view.id, status: "pending" })).to.have.length(0);
      await refusedUnchanged(view.id, () => svc.accept(view.id, "@neph1:x.org"), "invalid_transition", /declined and is closed/);
    });

    it("finishes a transition's state and messages after a crash between commit and announcement", async function () {
      const pendingSettle = async (id: string) => db("timers").where({ kind: TIMER_CONSULT_SETTLE, ref: id, status: "pending" });
      // The last candidate declines; the process dies before the requester, coordinators and state hear of it.
      const { view } = await ask({ service: "nephrology" });
      const toldBefore = notifier.told.length;
      // The decline's own message goes first (it carries the reason): let it through and fail the next one.
      const sendOnce = rooms.send.bind(rooms);
      let sends = 0;
      rooms.send = async (...args) => (++sends === 2 ? Promise.reject(new Error("simulated crash after commit")) : sendOnce(...args));
      await svc.decline(view.id, "@neph1:x.org", REASONS[1]!).catch(() => undefined);
      rooms.send = sendOnce;
      expect((await row(view.id)).status).to.equal("declined");
      expect(stateOf(view).status).to.equal("requested");
      const [settle] = await pendingSettle(view.id);
      expect(settle, "a settle timer armed with the decline").to.not.equal(undefined);
      await fire(TIMER_CONSULT_SETTLE, view.id, settle.step);
      expect(stateOf(view).status).to.equal("declined");
      expect(rooms.messages(view.room_id).at(-1)!.body).to.contain(`Consult #${view.number} is declined`);
      expect(notifier.told.slice(toldBefore).map((d) => d.userId)).to.have.members(["@nephcoord:x.org", "@rota:x.org"]);

      // A transition whose effects all went out cancels its settle timer.
      const { view: other } = await ask();
      await svc.accept(other.id, "@cardio1:x.org");
      expect(await pendingSettle(other.id)).to.have.length(0);
    });

    it("answers a command retried after its state write failed as its first success would, and mirrors the state then", async function () {
      const table = CommandTable.forBot(CONSULT_BOT, consultCommands(svc, rooms, { dashboardWidgetUrl: "https://rounds.example/w" }).commands);
      const command = (body: string, sender: string, eventId: string) =>
        table.dispatch(body, { sender, roomId: "!elsewhere:x.org", sentAt: clock, eventId, encrypted: true, body }, (e) => {
          throw e;
        });
      /** The first attempt's state write fails, so the inbox retries the same event. */
      const retried = async (body: string, sender: string, eventId: string) => {
        rooms.failNext("setState");
        const first = await command(body, sender, eventId).then(
          () => null,
          (e: unknown) => e,
        );
        expect(String(first), body).to.contain("simulated crash in setState");
        const again = (await command(body, sender, eventId))!;
        expect(again.outcome, again.reply).to.equal("ok");
        return again.reply;
      };
      const CARDIO = "@cardio1:x.org";
      const { view } = await ask();
      const n = view.number;
      expect(await retried(`!consult accept ${n}`, CARDIO, "$accept")).to.match(new RegExp(`^You accepted consult #${n}\\. Expected response by`));
      expect(stateOf(view).status).to.equal("accepted");
      expect(await retried(`!consult start ${n}`, CARDIO, "$start")).to.equal(`Consult #${n} is in progress.`);
      expect(stateOf(view).status).to.equal("in_progress");
      const report = [`!consult complete ${n}`, `Findings: ${FINDINGS}`, "Assessment: stable", "Recommendations: continue", "Billing: initial inpatient low 30"].join("\n");
      expect(await retried(report, CARDIO, "$complete")).to.equal(`Consult #${n} is complete; the report is posted in its room.`);
      expect(stateOf(view)).to.deep.include({ status: "completed" });
      expect(rooms.messages(view.room_id).filter((m) => m.body.includes(`Consult report #${n}`))).to.have.length(1);
      // Someone else's repeat is still refused.
      expect((await command(`!consult start ${n}`, CARDIO, "$start-again"))!.reply).to.match(/already completed|is completed/);

      const { view: other } = await ask();
      expect(await retried(`!consult cancel ${other.number}`, REQUESTER, "$cancel")).to.equal(`Consult #${other.number} is cancelled.`);
      expect(stateOf(other).status).to.equal("cancelled");

      const { view: passed } = await ask();
      expect(await retried(`!consult decline ${passed.number} not for me today`, CARDIO, "$decline")).to.equal(`You declined consult #${passed.number}.`);
      expect(stateOf(passed)).to.deep.include({ status: "requested" });
      expect((await row(passed.id)).candidates).to.deep.equal([CARDIO, "@cardio2:x.org"]);

      const { view: last } = await ask({ service: "nephrology" });
      expect(await retried(`!consult decline ${last.number} not for me today`, "@neph1:x.org", "$decline-last")).to.equal(`You declined consult #${last.number}.`);
      expect(stateOf(last).status).to.equal("declined");
    });

    it("escalates on each missed accept deadline, then tells everyone nobody is left; earlier candidates may still accept", async function () {
      const { view } = await ask();
      await fire(TIMER_CONSULT_ACCEPT, view.id, "0");
      let v = await svc.get(view.id);
      expect(v.candidates).to.deep.equal(["@cardio1:x.org", "@cardio2:x.org"]);
      expect(rooms.messages(view.room_id).at(-1)!.body).to.contain("@cardio1:x.org did not answer within 15 min");
      await fire(TIMER_CONSULT_ACCEPT, view.id, "1");
      v = await svc.get(view.id);
      expect(v.candidates).to.deep.equal(["@cardio1:x.org", "@cardio2:x.org", "@senior:x.org"]);
      expect(rooms.callsIn(view.room_id, "invite").map((c) => c.args.userIds)).to.deep.equal([["@cardio2:x.org"], ["@senior:x.org"]]);

      // A stale timer (an earlier step) does nothing.
      const calls = rooms.calls.length;
      await svc.onAcceptDeadline(await timer(TIMER_CONSULT_ACCEPT, view.id, "0"));
      expect(rooms.calls.length).to.equal(calls);

      const toldBefore = notifier.told.length;
      await fire(TIMER_CONSULT_ACCEPT, view.id, "2");
      v = await svc.get(view.id);
      expect(v).to.include({ status: "requested", exhausted: true, accept_by_ts: null });
      const last = rooms.messages(view.room_id).at(-1)!;
      expect(last.body).to.contain("every available specialist has been asked");
      expect(last.mentions).to.deep.equal([REQUESTER]);
      const dms = notifier.told.slice(toldBefore);
      expect(dms.map((d) => d.userId)).to.have.members(["@coord:x.org", "@rota:x.org"]);
      expect(dms[0]!.text).to.equal(`Consult #${view.number} (urgent) for Cardiology: nobody has accepted it after every available specialist was asked. Please find someone to take it.`);
      // The same timer again (a retry after a crash) says nothing twice.
      await svc.onAcceptDeadline(await timer(TIMER_CONSULT_ACCEPT, view.id, "2"));
      expect(notifier.told.length).to.equal(toldBefore + 2);

      const accepted = await svc.accept(view.id, "@cardio1:x.org", { via: "reaction" });
      expect(accepted).to.include({ status: "accepted", consultant: "@cardio1:x.org" });
    });

    it("accepts with the expected response time, and one of two racing accepts wins", async function () {
      // In one process (the per-consult lock) and across two processes (the guarded update alone).
      for (const [first, second] of [
        [svc, svc],
        [svc, other],
      ]) {
        const { view } = await ask();
        await fire(TIMER_CONSULT_ACCEPT, view.id, "0");
        const at = clock.getTime();
        const results = await Promise.allSettled([first!.accept(view.id, "@cardio1:x.org", { via: "command" }), second!.accept(view.id, "@cardio2:x.org", { expectedMinutes: 60, via: "widget" })]);
        const won = results.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<ConsultView>[];
        const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        expect(won).to.have.length(1);
        expect(lost).to.have.length(1);
        expect(lost[0]!.reason).to.be.instanceOf(ConsultError);
        expect((lost[0]!.reason as ConsultError).reason).to.equal("invalid_transition");
        expect((lost[0]!.reason as ConsultError).humanMessage).to.equal(`Consult #${view.number} was already accepted by ${won[0]!.value.consultant}.`);

        const v = won[0]!.value;
        const minutes = v.consultant === "@cardio1:x.org" ? 240 : 60;
        expect(v).to.include({ status: "accepted", accepted_ts: at, expected_response_minutes: minutes, respond_by_ts: at + minutes * MIN, accept_by_ts: null });
        expect(v.time_to_accept_s).to.equal((at - view.created_ts) / 1000);
        expect(await db("timers").where({ ref: view.id, kind: TIMER_CONSULT_ACCEPT, status: "pending" })).to.have.length(0);
        expect(await db("timers").where({ ref: view.id, kind: TIMER_CONSULT_RESPOND, status: "pending" })).to.have.length(1);
        expect((await timer(TIMER_CONSULT_RESPOND, view.id, "0")).dueAt.getTime()).to.equal(at + minutes * MIN);
        const accepted = rooms.messages(view.room_id).filter((m) => m.body.includes("accepted consult"));
        expect(accepted).to.have.length(1);
        expect(accepted[0]!.body).to.contain(`${v.consultant} accepted consult #${view.number}`);
        expect(accepted[0]!.body).to.contain(minutes === 240 ? "within 4 h" : "within 1 h");
        expect(accepted[0]!.mentions).to.deep.equal([REQUESTER]);
      }
    });

    it("marks an overdue response and reminds the consultant, the requester and the coordinators", async function () {
      const { view } = await ask();
      await svc.accept(view.id, "@cardio1:x.org", { expectedMinutes: 30 });
      await svc.start(view.id, "@cardio1:x.org");
      const toldBefore = notifier.told.length;
      await fire(TIMER_CONSULT_RESPOND, view.id, "0");
      const v = await svc.get(view.id);
      expect(v).to.include({ status: "in_progress", overdue: true });
      expect(stateOf(v).overdue).to.equal(true);
      const msg = rooms.messages(view.room_id).at(-1)!;
      expect(msg.body).to.contain(`Consult #${view.number} is overdue`);
      expect(msg.body).to.contain("@cardio1:x.org: please respond now");
      expect(msg.mentions).to.have.members(["@cardio1:x.org", REQUESTER]);
      const dms = notifier.told.slice(toldBefore);
      expect(dms.map((d) => d.userId)).to.have.members(["@coord:x.org", "@rota:x.org"]);
      expect(dms[0]!.text).to.equal(`Consult #${view.number} (urgent) for Cardiology is overdue: the consultant has not responded within the expected time.`);

      // Once cancelled, the deadline is stale and does nothing.
      const { view: other } = await ask();
      await svc.accept(other.id, "@cardio1:x.org");
      await svc.cancel(other.id, REQUESTER, CANCEL_REASON);
      const calls = rooms.calls.length;
      const told = notifier.told.length;
      await svc.onResponseDeadline(await timer(TIMER_CONSULT_RESPOND, other.id, "0"));
      expect((await svc.get(other.id)).overdue).to.equal(false);
      expect(rooms.calls.length).to.equal(calls);
      expect(notifier.told.length).to.equal(told);
    });

    it("reads a widget's reasons back from the actor's own encrypted note, refusing any other event and changing nothing", async function () {
      const { view } = await ask();
      const id = view.id;
      const note = (sender: string, over: Record<string, unknown> = {}, encrypted = true) =>
        rooms.seedEvent(view.room_id, sender, ConsultEventType.Note, { consult_id: id, kind: "decline", text: REASONS[0], ...over }, undefined, encrypted);
      const byEvent = (noteEventId: string) => ({ noteEventId });
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent("$nowhere")), "not_found", /cannot read that reason yet/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note(REQUESTER))), "invalid_input", /not your encrypted reason for declining consult/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", {}, false))), "invalid_input", /not your encrypted/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", { kind: "cancel" }))), "invalid_input", /not your encrypted/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", { consult_id: "01OTHER" }))), "invalid_input", /not your encrypted/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", { text: " no " }))), "invalid_input", /at least 3 characters/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", { text: "x".repeat(1001) }))), "invalid_input", /under 1000 characters/);
      // An event in another room, even the actor's own, is not found in this consult's room.
      const elsewhere = rooms.seedEvent("!ward:x.org", "@cardio1:x.org", ConsultEventType.Note, { consult_id: id, kind: "decline", text: REASONS[0] });
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", byEvent(elsewhere)), "not_found");

      const after = await svc.decline(id, "@cardio1:x.org", byEvent(note("@cardio1:x.org", { text: `  ${REASONS[0]}  ` })));
      expect(after.declined_by).to.deep.equal(["@cardio1:x.org"]);
      expect(rooms.messages(view.room_id).find((m) => m.body.includes("declined consult"))!.body).to.equal(`❌ @cardio1:x.org declined consult #${view.number}. Reason: ${REASONS[0]}`);
      expect(JSON.stringify(await row(id))).to.not.contain(REASONS[0]!);

      const cancelNote = rooms.seedEvent(view.room_id, REQUESTER, ConsultEventType.Note, { consult_id: id, kind: "cancel", text: CANCEL_REASON });
      await refusedUnchanged(id, () => svc.cancel(id, REQUESTER, byEvent(note(REQUESTER))), "invalid_input", /not your encrypted reason for cancelling/);
      const cancelled = await svc.cancel(id, REQUESTER, byEvent(cancelNote));
      expect(cancelled.status).to.equal("cancelled");
      expect(rooms.messages(view.room_id).at(-1)!.body).to.contain(`Reason: ${CANCEL_REASON} No answer is needed now.`);
    });

    it("refuses every invalid call with a plain message, changing nothing", async function () {
      const { view } = await ask();
      const id = view.id;
      const n = view.number;
      await refusedUnchanged(id, () => svc.accept(id, REQUESTER), "forbidden", /You requested consult/);
      await refusedUnchanged(id, () => svc.accept(id, "@stranger:x.org"), "forbidden", /was not sent to you/);
      await refusedUnchanged(id, () => svc.accept(id, "@cardio1:x.org", { expectedMinutes: 2 }), "invalid_input", /whole minutes/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", ""), "invalid_input", /reason/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", " no "), "invalid_input", /at least 3 characters/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio2:x.org", "busy today"), "forbidden", /not sent to you/);
      await refusedUnchanged(id, () => svc.start(id, "@cardio1:x.org"), "invalid_transition", new RegExp(`Accept consult #${n} first`));
      await refusedUnchanged(id, () => svc.start(id, "@stranger:x.org"), "forbidden");
      await refusedUnchanged(id, () => svc.cancel(id, "@cardio1:x.org"), "forbidden", /Only @ward:x.org, who requested/);
      await refusedUnchanged(id, () => svc.feedback(id, REQUESTER, { rating: 5, outcome: "advice_followed" }), "invalid_transition", /once it is completed/);

      await svc.accept(id, "@cardio1:x.org");
      await refusedUnchanged(id, () => svc.accept(id, "@cardio2:x.org"), "invalid_transition", /already accepted by @cardio1:x.org/);
      await refusedUnchanged(id, () => svc.decline(id, "@cardio1:x.org", "changed my mind"), "invalid_transition");
      await refusedUnchanged(id, () => svc.start(id, "@cardio2:x.org"), "forbidden", /Only @cardio1:x.org, the consultant/);
      const report = { consult_id: id, findings: FINDINGS, assessment: "Stable", recommendations: "Continue", follow_up: "" };
      const billing = { consult_type: "initial" as const, setting: "inpatient" as const, complexity: "moderate" as const, minutes: 50 };
      await refusedUnchanged(id, () => svc.complete(id, "@cardio2:x.org", { report, billing }), "forbidden", /Only @cardio1:x.org, the consultant/);

      await svc.start(id, "@cardio1:x.org");
      await refusedUnchanged(id, () => svc.start(id, "@cardio1:x.org"), "invalid_transition", /already in progress/);
      await refusedUnchanged(id, () => svc.complete(id, "@cardio2:x.org", { report, billing }), "forbidden");
      await refusedUnchanged(id, () => svc.complete(id, "@cardio1:x.org", { report: { ...report, findings: " " }, billing }), "invalid_input", /findings/);
      await refusedUnchanged(id, () => svc.complete(id, "@cardio1:x.org", { report: { ...report, consult_id: "other" }, billing }), "invalid_input", /another consult/);
      await refusedUnchanged(id, () => svc.complete(id, "@cardio1:x.org", { report, billing: { ...billing, minutes: 0 } }), "invalid_input", /billing/);

      await svc.complete(id, "@cardio1:x.org", { report, billing });
      await refusedUnchanged(id, () => svc.cancel(id, REQUESTER), "invalid_transition", /already completed/);
      await refusedUnchanged(id, () => svc.feedback(id, "@cardio1:x.org", { rating: 5, outcome: "advice_followed" }), "forbidden");
      await refusedUnchanged(id, () => svc.feedback(id, REQUESTER, { rating: 0, outcome: "advice_followed" }), "invalid_input", /1 to 5/);
      await refusedUnchanged(id, () => svc.feedback(id, REQUESTER, { rating: 6, outcome: "advice_followed" }), "invalid_input");
      await refusedUnchanged(id, () => svc.feedback(id, REQUESTER, { rating: 2.5, outcome: "advice_followed" }), "invalid_input");
      await refusedUnchanged(id, () => svc.feedback(id, REQUESTER, { rating: 4, outcome: "cured" as never }), "invalid_input", /Choose an outcome/);

      await refused(() => svc.get("01NOSUCHCONSULT"), "not_found");
      await refused(() => svc.byNumber(999_999), "not_found", /no consult #999999/);
      await refused(() => svc.accept("01NOSUCHCONSULT", "@cardio1:x.org"), "not_found");
    });

    it("a repeated request is one consult, and finishes what a crash left undone", async function () {
      const c = content({ question: `${QUESTION} (second patient)` });
      const source = { roomId: "!ward:x.org", eventId: `$request${++seq}` };
      rooms.seed(source.roomId, source.eventId, c);
      rooms.failNext("send");
      const err = await svc.request({ requester: REQUESTER, content: c, source }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect(String(err)).to.contain("simulated crash");
      const rows = await db("consults").where({ source_event_id: source.eventId });
      expect(rows).to.have.length(1);
      expect(rows[0].request_message_event_id).to.equal(null);

      const again = await svc.request({ requester: REQUESTER, content: c, source });
      expect(again.id).to.equal(rows[0].id);
      expect(rooms.callsIn(again.room_id, "openRoom")).to.have.length(1);
      expect(rooms.callsIn(again.room_id, "sendEvent")).to.have.length(1);
      expect(rooms.callsIn(again.room_id, "resendFile")).to.have.length(1);
      expect(rooms.messages(again.room_id)).to.have.length(1);
      expect((await row(again.id)).request_message_event_id).to.equal(rooms.messages(again.room_id)[0]!.eventId);

      // The same request from the other adapter: the same consult, nothing sent.
      const calls = rooms.calls.length;
      const third = await svc.request({ requester: REQUESTER, content: c, source });
      expect(third.id).to.equal(again.id);
      expect(rooms.calls.length).to.equal(calls);
      expect(await db("consults").where({ source_event_id: source.eventId })).to.have.length(1);
    });

    it("the delivery check delivers a consult whose request call never came back", async function () {
      const c = content();
      const source = { roomId: "!ward:x.org", eventId: `$request${++seq}` };
      rooms.seed(source.roomId, source.eventId, c);
      rooms.failNext("send");
      await svc.request({ requester: REQUESTER, content: c, source }).catch(() => undefined);
      const id = (await db("consults").where({ source_event_id: source.eventId }).first()).id as string;
      await fire(TIMER_CONSULT_ACCEPT, id, "deliver:0");
      const v = await svc.get(id);
      const [msg] = rooms.messages(v.room_id);
      expect(msg!.body).to.contain(QUESTION);
      expect(rooms.callsIn(v.room_id, "sendEvent")).to.have.length(1);

      // A decline whose hand-on to the next candidate crashed: that step's check finishes it.
      rooms.failNext("invite");
      const crash = await svc.decline(id, "@cardio1:x.org", REASONS[2]!).catch((e: Error) => e);
      expect(String(crash)).to.contain("simulated crash in invite");
      expect((await svc.get(id)).candidates).to.deep.equal(["@cardio1:x.org", "@cardio2:x.org"]);
      expect(rooms.callsIn(v.room_id, "invite")).to.have.length(0);
      await fire(TIMER_CONSULT_ACCEPT, id, "deliver:1");
      expect(rooms.callsIn(v.room_id, "invite").map((c) => c.args.userIds)).to.deep.equal([["@cardio2:x.org"]]);
      expect(rooms.messages(v.room_id).at(-1)!.mentions).to.deep.equal(["@cardio2:x.org"]);

      // A candidate who accepts (from the widget's list) a consult whose delivery crashed gets it delivered first.
      const c2 = content();
      const source2 = { roomId: "!ward:x.org", eventId: `$request${++seq}` };
      rooms.seed(source2.roomId, source2.eventId, c2);
      rooms.failNext("openRoom");
      await svc.request({ requester: REQUESTER, content: c2, source: source2 }).catch(() => undefined);
      const pending = (await svc.forUser("@cardio1:x.org")).incoming.find((x) => x.room_id === "")!;
      const accepted = await svc.accept(pending.id, "@cardio1:x.org", { via: "widget" });
      expect(accepted.room_id).to.not.equal("");
      expect(rooms.messages(accepted.room_id).map((m) => m.body.split("\n")[0])).to.deep.equal([
        `❗ URGENT consult #${accepted.number} for Cardiology from ${REQUESTER}`,
        `✅ @cardio1:x.org accepted consult #${accepted.number} in the widget. ${REQUESTER}: expect a response within 4 h (by ${new Date(accepted.respond_by_ts!).toISOString().slice(0, 16).replace("T", " ")} UTC).`,
      ]);
    });

    it("completes with a formal report, as a message and a Markdown attachment, with the billing suggestion", async function () {
      const { view } = await ask();
      clock = new Date(clock.getTime() + 5 * MIN);
      await svc.accept(view.id, "@cardio1:x.org");
      await svc.start(view.id, "@cardio1:x.org");
      clock = new Date(clock.getTime() + 40 * MIN);
      const report = { consult_id: view.id, findings: FINDINGS, assessment: "Type 2 MI unlikely", recommendations: "Continue apixaban; repeat troponin in 6 h", follow_up: "Review tomorrow" };
      const done = await svc.complete(view.id, "@cardio1:x.org", { report, billing: { consult_type: "initial", setting: "inpatient", complexity: "low", minutes: 62 } });
      expect(done).to.include({ status: "completed", completed_ts: clock.getTime() });
      expect(done.time_to_complete_s).to.equal(45 * 60);
      expect(done.billing_suggestion!.code).to.equal("99254");
      expect(done.billing_suggestion!.rationale).to.contain("time decides");

      const msg = rooms.messages(view.room_id).find((m) => m.eventId === done.report_event_id)!;
      expect(msg.mentions).to.deep.equal([REQUESTER]);
      for (const part of [
        `Consult report #${view.number}`,
        "| Service | Cardiology |",
        "| Urgency | urgent |",
        `| Requested by | ${REQUESTER} |`,
        "| Consultant | @cardio1:x.org |",
        "| Requested |",
        "| Accepted |",
        "| Completed |",
        `| Patient | ${PATIENT} |`,
        "## Question",
        QUESTION,
        "## Findings",
        FINDINGS,
        "## Assessment",
        "## Recommendations",
        "## Follow-up",
        "Review tomorrow",
        BILLING_HEADING,
        "**99254**",
        "Rationale: ",
      ]) {
        expect(msg.body).to.contain(part);
      }
      const file = rooms.callsIn(view.room_id, "sendFile")[0]!;
      expect(file.args.content).to.deep.include({ name: `consult-${view.number}-report.md`, mimetype: "text/markdown", text: msg.body });
      expect(stateOf(done)).to.deep.include({ status: "completed", report_event_id: done.report_event_id });
      expect(await db("timers").where({ ref: view.id, status: "pending" })).to.have.length(0);

      const rated = await svc.feedback(view.id, REQUESTER, { rating: 4, outcome: "advice_followed" });
      expect(rated).to.include({ rating: 4, outcome: "advice_followed" });
      expect(await svc.feedback(view.id, REQUESTER, { rating: 5, outcome: "patient_seen" })).to.include({ rating: 5, outcome: "patient_seen" });
    });

    it("completes an accepted consult that was not started: it starts and completes in one step, both recorded", async function () {
      const of = async (t: string) => (await metrics.consultTransitions.get()).values.filter((v) => v.labels.transition === t).reduce((a, v) => a + v.value, 0);
      const before = [await of("started"), await of("completed")];
      const { view } = await ask();
      clock = new Date(clock.getTime() + 5 * MIN);
      await svc.accept(view.id, "@cardio1:x.org");
      clock = new Date(clock.getTime() + 20 * MIN);
      const report = { consult_id: view.id, findings: FINDINGS, assessment: "Stable", recommendations: "Continue", follow_up: "" };
      const done = await svc.complete(view.id, "@cardio1:x.org", { report, billing: { consult_type: "initial", setting: "inpatient", complexity: "low", minutes: 30 } });
      expect(done).to.include({ status: "completed", started_ts: clock.getTime(), completed_ts: clock.getTime() });
      expect(stateOf(done)).to.deep.include({ status: "completed", report_event_id: done.report_event_id });
      expect([(await of("started")) - before[0]!, (await of("completed")) - before[1]!]).to.deep.equal([1, 1]);
      expect(await db("timers").where({ ref: view.id, status: "pending" })).to.have.length(0);
    });

    it("lists a user's consults and reports response-time percentiles from controlled times", async function () {
      clock = new Date("2026-06-01T10:00:00Z");
      const since = new Date(clock.getTime());
      const me = "@clinic:x.org";
      const made: ConsultView[] = [];
      // Five cardiology consults accepted after 1, 2, 3, 4 and 10 minutes; three completed after 30, 60 and 90.
      for (const [acceptAfter, completeAfter] of [
        [1, 30],
        [2, 60],
        [3, 90],
        [4, null],
        [10, null],
      ] as const) {
        clock = new Date(clock.getTime() + 60 * MIN);
        const { view } = await ask({}, me);
        const t0 = clock.getTime();
        clock = new Date(t0 + acceptAfter * MIN);
        await svc.accept(view.id, "@cardio1:x.org");
        if (completeAfter) {
          await svc.start(view.id, "@cardio1:x.org");
          clock = new Date(t0 + completeAfter * MIN);
          const report = { consult_id: view.id, findings: FINDINGS, assessment: "a", recommendations: "r", follow_up: "" };
          await svc.complete(view.id, "@cardio1:x.org", { report, billing: { consult_type: "initial", setting: "outpatient", complexity: "low", minutes: 30 } });
        }
        made.push(await svc.get(view.id));
      }
      clock = new Date(clock.getTime() + 60 * MIN);
      const { view: waiting } = await ask({ service: "nephrology" }, me);
      const { view: cancelled } = await ask({}, me);
      await svc.cancel(cancelled.id, me);

      const m = await svc.responseTimes(since);
      expect(m.since).to.equal(since.toISOString());
      const cardio = m.services.find((s) => s.service === "cardiology")!;
      expect(cardio.accept).to.deep.equal({ count: 5, p50_s: 180, p90_s: 456 }); // 60,120,180,240,600 s
      expect(cardio.complete).to.deep.equal({ count: 3, p50_s: 3600, p90_s: 5040 }); // 1800,3600,5400 s
      const neph = m.services.find((s) => s.service === "nephrology")!;
      expect(neph.accept).to.deep.equal({ count: 0, p50_s: null, p90_s: null });

      const mine = await svc.forUser(me);
      expect(mine.outgoing.map((v) => v.id)).to.deep.equal([waiting.id, made[4]!.id, made[3]!.id]);
      expect(mine.archive.map((v) => v.id)).to.deep.equal([cancelled.id, made[2]!.id, made[1]!.id, made[0]!.id]);
      expect(mine.incoming).to.deep.equal([]);
      expect(mine.archive[1]!.time_to_accept_s).to.equal(180);
      expect(mine.archive[1]!.time_to_complete_s).to.equal(5400);

      const neph1 = await svc.forUser("@neph1:x.org");
      expect(neph1.incoming.map((v) => v.id)).to.include(waiting.id);
      const cardio1 = await svc.forUser("@cardio1:x.org");
      expect(cardio1.incoming.map((v) => v.id)).to.include.members([made[3]!.id, made[4]!.id]);
      expect(cardio1.archive.map((v) => v.id)).to.include.members([made[0]!.id, cancelled.id]);
      // The nurse on the care team sees ended consults in the archive.
      expect((await svc.forUser("@nurse:x.org")).archive.map((v) => v.id)).to.include(made[0]!.id);

      const text = await metrics.registry.metrics();
      expect(text).to.match(/rounds_consult_transitions_total\{service="cardiology",transition="accepted"\} \d+/);
      expect(text).to.contain('rounds_consult_time_to_accept_seconds_bucket{le="30",service="cardiology"}');
      expect(text).to.contain('rounds_consult_time_to_complete_seconds_bucket{le="172800",service="cardiology"}');
    });

    it("keeps clinical text out of state events, the database, direct messages and logs", async function () {
      const states = rooms.calls.filter((c) => c.method === "setState");
      expect(states.length).to.be.greaterThan(20);
      for (const s of states) {
        expect(s.args.type).to.equal(StateType.Consult);
        const parsed = ConsultStateSchema.safeParse(s.args.content);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
      }
      const places = {
        state: JSON.stringify(states.map((s) => s.args.content)),
        database: JSON.stringify(await db("consults")) + JSON.stringify(await db("consult_prompts")) + JSON.stringify(await db("timers")),
        "direct messages": JSON.stringify(notifier.told),
        logs: logLines.join(""),
        "room names and widgets": JSON.stringify(rooms.calls.filter((c) => c.method === "openRoom" || c.method === "installWidget")),
      };
      expect(places.logs).to.contain("consult: accepted");
      for (const [where, text] of Object.entries(places)) {
        for (const phi of PHI) expect(text, `${where} must not contain "${phi}"`).to.not.contain(phi);
      }
    });
  });
}
