import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { AlertEmail } from "../../appservice/alert/alertEmail.js";
import { expect } from "chai";
import { AlertIntake, TIMER_ALERT_TELL, type AlertEffect } from "../../appservice/alert/alertIntake.js";
import { parseRulesFile, type AlertRuleSet } from "../../appservice/alert/alertRules.js";
import { AlertError, AlertService, TIMER_ALERT_DIGEST, TIMER_ALERT_ESCALATE, TIMER_ALERT_SNOOZE } from "../../appservice/alert/alertService.js";
import { TimerStore, type TimerRow } from "../../appservice/timers/timerStore.js";
import { AlertStore } from "../../appservice/alert/alertStore.js";
import { InboundStore, INBOUND_AT_REST_PURPOSE } from "../../appservice/alert/inboundStore.js";
import * as m014 from "../../appservice/alert/migrations/014_alerts.js";
import * as m015 from "../../appservice/alert/migrations/015_alert_reads_medications_orders.js";
import { migrate, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import type { Pager } from "../../appservice/ports/pager.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { AtRest } from "../../appservice/shared/atRest.js";
import { StateType } from "../../appservice/shared/events/index.js";
import { backends } from "../harness/backends.js";
import { RecordingRooms } from "../harness/recordingRooms.js";

/**
 * Routing, delivery and acknowledgement of alerts down to the database, on every backend, with a
 * recording room writer for Matrix, a small on-call directory and a recording Pager for the
 * paging engine.
 */
const BOT = "@rounds_alerts:x.org";
const LENA = "@lena:x.org";
const HOUSE = "@house:x.org";
const OTHER = "@other:x.org";
const PAGE_ROOM = "!page:x.org";
const log = createLogger("silent");
const MRN = "MRN1234";
let control = 0;
const msh = (type: string) => `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||${type}|C${++control}|P|2.5.1`;
const admit = (unit: string, attending = "D77") => [msh("ADT^A01"), "EVN|A01", `PID|1||${MRN}^^^GENHOSP^MR`, `PV1|1|I|${unit}^1^A||||${attending}^HOUSE^G`].join("\r");
const k = (value: string, order: string, mrn = MRN) =>
  [msh("ORU^R01"), `PID|1||${mrn}^^^GENHOSP^MR`, ...(mrn === MRN ? [] : ["PV1|1|I|4WEST^1^A||||D77^HOUSE^G"]), `OBR|1|P-${order}|F-${order}|24323-8^Panel^LN`, `OBX|1|NM|2823-3^Potassium^LN||${value}|mmol/L|||||F`].join("\r");

class RecordingPager implements Pager {
  readonly pages: Array<{ service: string; urgency: string; note: string; origin: string; requester: string }> = [];
  fail = false;
  private listeners: Array<{ prefix: string; fn: Parameters<Pager["onAcknowledged"]>[1] }> = [];
  async page(req: { service: string; urgency: "emergent" | "urgent" | "routine"; note: string; origin: string; requester: string }) {
    if (this.fail) throw new Error("Nobody is on call for cardiology right now");
    const existing = this.pages.findIndex((p) => p.origin === req.origin);
    if (existing === -1) this.pages.push(req);
    const number = (existing === -1 ? this.pages.length : existing + 1) + 40;
    return { number, targets: [LENA], roomId: PAGE_ROOM, eventId: `$page-${number}` };
  }
  readonly resolved: number[] = [];
  async resolve(req: { number: number; requester: string }) {
    this.resolved.push(req.number);
  }
  onAcknowledged(prefix: string, fn: Parameters<Pager["onAcknowledged"]>[1]) {
    this.listeners.push({ prefix, fn });
  }
  async acknowledge(number: number, by: string) {
    const p = this.pages[number - 41]!;
    for (const l of this.listeners) if (p.origin.startsWith(l.prefix)) await l.fn({ origin: p.origin, by, via: "sms", at: new Date(), number });
  }
}

for (const backend of backends) {
  describe(`alert routing, delivery and acknowledgement, on ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let inbound: InboundStore;
    let store: AlertStore;
    let intake: AlertIntake;
    let rooms: RecordingRooms;
    let pager: RecordingPager;
    let service: AlertService;
    let set: AlertRuleSet;
    let timers: TimerStore;
    const pending = async (kind: string) => (await db("timers").where({ kind, status: "pending" }).select("ref", "step", "due_at")) as Array<{ ref: string; step: string; due_at: Date | string }>;
    const row = (t: { ref: string; step: string; due_at: Date | string }, kind: string): TimerRow => ({ id: "t", kind, ref: t.ref, step: t.step, dueAt: new Date(t.due_at), attempts: 0 });
    const onCall: Record<string, string> = { cardiology: LENA };

    async function receive(payload: string): Promise<AlertEffect[]> {
      await inbound.record({ source: "lab", key: `C${control}`, kind: "hl7v2", type: "x", payload });
      const effects = await intake.processPending();
      await service.deliver(effects);
      return effects;
    }

    before(async function () {
      ({ db, close } = await backend.open());
      await migrate(db, [{ "014_alerts": m014, "015_alert_reads_medications_orders": m015 }]);
    });
    beforeEach(async function () {
      for (const t of ["alert_trail", "alert_deliveries", "alerts", "alert_patients", "alert_inbound", "alert_receipts", "alert_patient_limits"]) await db(t).delete();
      set = parseRulesFile(
        readFileSync(`${repoRoot}/appservice/alert/example-rules.yaml`, "utf8")
          .replace("units: { 4WEST: medicine, RENAL: nephrology }", "units: { 4WEST: cardiology }")
          .replace("default_service: medicine", "default_service: nowhere")
          .replace("staff: {}", `staff: { D77: "${HOUSE}" }`),
      );
      inbound = new InboundStore(db, new AtRest("a-long-enough-passphrase-0123", INBOUND_AT_REST_PURPOSE));
      store = new AlertStore(db, new AtRest("a-long-enough-passphrase-0123", "alerts"));
      intake = new AlertIntake({ inbound, alerts: store, rules: () => set.rules, log });
      rooms = new RecordingRooms(BOT);
      pager = new RecordingPager();
      const oncall = {
        whoIsOnCall: async (q: string) => {
          if (!onCall[q]) throw new Error(`no service ${q}`);
          return { service: { id: q, name: q, timezone: "UTC" }, at: new Date(), levels: [{ level: "primary", userId: onCall[q]!, source: "rotation" as const, from: new Date(), until: new Date(), displayName: "x" }] };
        },
      };
      timers = new TimerStore(db);
      await db("timers").delete();
      service = new AlertService({ store, rooms, oncall, routing: () => set.routing, ruleSet: () => ({ version: 1, rules: set.rules }), pager: () => pager, botUserId: BOT, timers: { store: timers, wake: () => undefined }, options: { escalateUrgentMinutes: 15, maxSnoozeMinutes: 60, digestMinutes: 60 }, log });
      pager.onAcknowledged("alert:", (ack) => service.onPageAcknowledged(ack));
    });
    after(async function () {
      await close();
    });

    const statesIn = (roomId: string) => [...rooms.state.entries()].filter(([key]) => key.startsWith(`${roomId}|${StateType.Alert}|`)).map(([, v]) => v);

    it("sends an urgent alert to the patient's attending, as ADT names them, with PHI only in the message", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      const sent = rooms.calls.filter((c) => c.method === "send");
      expect(sent).to.have.length(1);
      const content = sent[0]!.args.content as { body: string; "m.mentions": { user_ids: string[] } };
      expect(content.body).to.contain("URGENT alert #").and.to.contain(MRN).and.to.contain("Potassium 5.8 mmol/L");
      expect(content["m.mentions"].user_ids).to.deep.equal([HOUSE]);
      const [state] = statesIn(sent[0]!.roomId!);
      expect(state).to.include({ status: "open", priority: "urgent", rule_id: "potassium", number: raised!.alert.number });
      expect(JSON.stringify(state)).not.to.contain(MRN).and.not.to.contain("5.8");
      expect((await store.trailOf(raised!.alert.id)).map((t) => [t.step, t.actor, t.ref])).to.deep.equal([
        ["received", null, `inbound:${raised!.alert.inboundId}`],
        ["routed", HOUSE, "attending"],
        ["delivered", HOUSE, sent[0]!.args.eventId],
      ]);
      // Delivering again (a retry after a crash) sends nothing twice.
      await service.deliver([raised!]);
      expect(await service.redeliver()).to.equal(0);
      expect(rooms.calls.filter((c) => c.method === "send")).to.have.length(1);
    });

    it("without a known attending, sends it to the first on call for the unit's service; with nobody, keeps it for redelivery", async function () {
      await receive(admit("4WEST", "D99"));
      const [raised] = await receive(k("5.8", "1"));
      expect((await store.trailOf(raised!.alert.id)).find((t) => t.step === "routed")).to.include({ actor: LENA, ref: "on call: cardiology/primary" });
      // A patient on a unit with no service, and no default service on call: nobody to tell yet.
      await receive(admit("ICU", "D99"));
      const [stranded] = await receive(k("2.9", "2")); // another band: its own alert, not a repeat
      expect(stranded!.kind).to.equal("raised");
      expect(await store.deliveries(stranded!.alert.id)).to.deep.equal([]);
      set = { ...set, routing: { ...set.routing, units: { ...set.routing.units, ICU: "cardiology" } } };
      expect(await service.redeliver()).to.equal(1);
      expect((await store.deliveries(stranded!.alert.id)).map((d) => d.userId)).to.deep.equal([LENA]);
    });

    it("pages a critical alert through the paging engine, once, and acknowledges it when its page is", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("6.9", "1"));
      expect(pager.pages).to.have.length(1);
      expect(pager.pages[0]).to.include({ service: "cardiology", urgency: "emergent", origin: `alert:${raised!.alert.id}`, requester: BOT });
      expect(pager.pages[0]!.note).to.contain("CRITICAL alert #").and.to.contain(MRN);
      // The page rings, escalates and texts the unit's on-call; the patient's attending is told in their alerts room too.
      const sent = rooms.calls.filter((c) => c.method === "send");
      expect(sent).to.have.length(1);
      expect((sent[0]!.args.content as { body: string; "m.mentions": { user_ids: string[] } })["m.mentions"].user_ids).to.deep.equal([HOUSE]);
      await service.deliver([raised!]);
      expect(await service.redeliver()).to.equal(0);
      expect(pager.pages).to.have.length(1);

      await pager.acknowledge(41, LENA);
      await pager.acknowledge(41, LENA); // told again on a retried acknowledgement: no second step
      const alert = (await store.byNumber(raised!.alert.number))!;
      expect(alert).to.include({ status: "acknowledged", acknowledgedBy: LENA });
      expect((await store.trailOf(alert.id)).map((t) => [t.step, t.ref])).to.deep.equal([
        ["received", `inbound:${alert.inboundId}`],
        ["routed", "page:41 service:cardiology"],
        ["delivered", "page:41"],
        ["routed", "attending"],
        ["delivered", sent[0]!.args.eventId],
        ["acknowledged", "page:41 via:sms"],
      ]);
      // A retried delivery told the attending once.
      expect(rooms.calls.filter((c) => c.method === "send")).to.have.length(1);
    });

    it("treats a page's request message as the delivery to its targets: the alert's changes are told in the page's room, their receipt there reads it, their widget lists it", async function () {
      await receive(admit("4WEST", "D99")); // no attending Rounds knows: only the page tells anyone
      const [raised] = await receive(k("6.9", "1"));
      const [d] = await store.deliveries(raised!.alert.id);
      expect(d).to.deep.include({ userId: LENA, roomId: PAGE_ROOM, eventId: "$page-41", viaPage: true });
      // A corrected result is told where the page rang, replying to it; the page room's state is paging's own.
      await receive(k("7.2", "1").replace("|||||F", "|||||C"));
      const told = rooms.calls.filter((c) => c.method === "send");
      expect(told.map((c) => c.roomId)).to.deep.equal([PAGE_ROOM]);
      expect((told[0]!.args.content as { body: string }).body).to.contain("Corrected by the lab");
      expect(statesIn(PAGE_ROOM)).to.deep.equal([]);
      expect(await service.read({ by: LENA, roomId: PAGE_ROOM, at: new Date(Date.now() + 1000), eventId: "$later" })).to.equal(1);
      const [mine] = await service.mine(LENA);
      expect(mine).to.include({ number: raised!.alert.number, room_id: PAGE_ROOM, message_event_id: "$page-41", page_number: 41 });
      // Her Alerts widget, in her own alerts room, may act on it; another room may not.
      const own = await service.alertsRoom(LENA);
      await service.requireDeliveredIn(LENA, raised!.alert.number, own);
      const elsewhere = await service.requireDeliveredIn(LENA, raised!.alert.number, "!random:x.org").catch((e: unknown) => e);
      expect(elsewhere).to.be.instanceOf(AlertError).and.to.include({ code: "forbidden" });
      // The target may acknowledge the alert itself too; its page then stops ringing.
      await service.acknowledge({ by: LENA, number: raised!.alert.number });
      expect(pager.resolved).to.deep.equal([41]);
    });

    it("delivers a critical alert directly when it cannot be paged, so it is never lost", async function () {
      pager.fail = true;
      await receive(admit("4WEST"));
      await receive(k("7.1", "1"));
      const sent = rooms.calls.filter((c) => c.method === "send");
      expect(sent).to.have.length(1);
      expect((sent[0]!.args.content as { body: string }).body).to.contain("CRITICAL alert #");
    });

    it("lets only a recipient acknowledge, once, and says why a second person cannot", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      const n = raised!.alert.number;
      const refused = await service.acknowledge({ by: OTHER, number: n }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(AlertError).and.to.include({ code: "forbidden" });
      expect((await service.acknowledge({ by: HOUSE, number: n })).already).to.equal(false);
      expect((await service.acknowledge({ by: HOUSE, number: n })).already).to.equal(true);
      const missing = await service.acknowledge({ by: HOUSE, number: 9999 }).catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(AlertError).and.to.include({ code: "not_found" });
      const msg = rooms.calls.find((c) => c.method === "send")!.args.eventId as string;
      // By the reacted message, too; the state follows in the room.
      const byMessage = await service.acknowledge({ by: HOUSE, eventId: msg });
      expect(byMessage.alert.status).to.equal("acknowledged");
      const roomId = rooms.calls.find((c) => c.method === "send")!.roomId!;
      expect(statesIn(roomId)[0]).to.include({ status: "acknowledged", acknowledged_by: HOUSE });
    });

    it("records the trail's read step from the recipient's read receipt: once, in their own room, only for what was delivered before it", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      const roomId = rooms.calls.find((c) => c.method === "send")!.roomId!;
      const delivered = (await store.deliveries(raised!.alert.id))[0]!.deliveredAt!;
      // A receipt older than the delivery, someone else's, or in another room reads nothing.
      expect(await service.read({ by: HOUSE, roomId, at: new Date(delivered.getTime() - 1000), eventId: "$older" })).to.equal(0);
      expect(await service.read({ by: OTHER, roomId, at: new Date(), eventId: "$later" })).to.equal(0);
      expect(await service.read({ by: HOUSE, roomId: "!elsewhere:x.org", at: new Date(), eventId: "$later" })).to.equal(0);
      const at = new Date(delivered.getTime() + 5000);
      expect(await service.read({ by: HOUSE, roomId, at, eventId: "$later" })).to.equal(1);
      expect(await service.read({ by: HOUSE, roomId, at: new Date(at.getTime() + 1000), eventId: "$later-still" })).to.equal(0);
      await service.acknowledge({ by: HOUSE, number: raised!.alert.number });
      const trail = await store.trailOf(raised!.alert.id);
      expect(trail.map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "read", "acknowledged"]);
      expect(trail[3]).to.deep.include({ actor: HOUSE, at });
      expect((await store.deliveries(raised!.alert.id))[0]!.readAt).to.deep.equal(at);
    });

    it("takes a receipt that came before the delivery was recorded (a fast reader): it names the message, so the delivery is read once recorded", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      const id = raised!.alert.id;
      // A second recipient's delivery, recorded in steps as deliverNew does, with the receipt in between.
      expect(await store.claimDelivery(id, OTHER)).to.equal(true);
      await store.setDeliveryRoom(id, OTHER, "!other:x.org");
      const seen = new Date();
      expect(await service.read({ by: OTHER, roomId: "!other:x.org", at: seen, eventId: "$fast" })).to.equal(0);
      await store.delivered(id, OTHER, "!other:x.org", "$fast", new Date(seen.getTime() + 50));
      const mine = (await store.deliveries(id)).find((d) => d.userId === OTHER)!;
      expect(mine.readAt).to.deep.equal(seen);
      expect((await store.trailOf(id)).filter((t) => t.step === "read").map((t) => t.actor)).to.deep.equal([OTHER]);
    });

    it("takes a patient's own limits, set from one of their alerts by its recipient, in place of the rule's for that patient only", async function () {
      await receive(admit("4WEST"));
      const [first] = await receive(k("5.8", "1"));
      const n = first!.alert.number;
      // Refused, changing nothing: someone it did not reach, limits that do not nest, a band that is not one.
      const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as AlertError);
      expect(await refusal(service.setPatientLimits({ by: OTHER, number: n, limits: { urgent: { above: 6 } } }))).to.include({ code: "forbidden" });
      expect((await refusal(service.setPatientLimits({ by: HOUSE, number: n, limits: { urgent: { above: 6.5 } } })))!.message).to.equal("Those limits do not fit Potassium's other bands: the 'above' limits must widen from informational to urgent to critical.");
      expect((await refusal(service.setPatientLimits({ by: HOUSE, number: n, limits: { severe: { above: 6 } } })))!.message).to.match(/^limits: Unrecognized key: "severe"/);
      expect(await store.allPatientLimits()).to.deep.equal([]);
      const hers = { urgent: { below: 3.0, above: 6 }, informational: { below: 3.5, above: 5.9 } };
      expect(await service.setPatientLimits({ by: HOUSE, number: n, limits: hers })).to.deep.equal({ ruleId: "potassium", limits: hers });
      // Her usual 5.8 is normal for her now (and clears the alert it raised); 6.1 alerts, saying
      // whose limits; another patient's 5.8 still alerts.
      expect((await receive(k("5.8", "2"))).map((e) => [e.kind, e.alert.number])).to.deep.equal([["cleared", n]]);
      const [own] = await receive(k("6.1", "3"));
      expect(own!.kind).to.equal("raised");
      expect(own!.alert.detail.why).to.equal("Potassium 6.1 mmol/L, above the urgent limit 6 (this patient's own limits)");
      const [other] = await receive(k("5.8", "4", "MRN-OTHER"));
      expect(other!.alert.detail.why).to.equal("Potassium 5.8 mmol/L, above the urgent limit 5.5");
      // The patient reference is sealed; cleared, the rule's limits apply again.
      expect(JSON.stringify(await db("alert_patient_limits").select())).not.to.contain(MRN);
      await service.setPatientLimits({ by: HOUSE, number: n, limits: null });
      expect((await receive(k("5.9", "5")))[0]!.kind).to.equal("repeated");
    });

    it("keeps each change to tell as a timer armed with it, so a crash before telling loses none, and telling twice sends once", async function () {
      intake = new AlertIntake({ inbound, alerts: store, rules: () => set.rules, timers: { schedule: (k, r, st, d, trx) => timers.schedule(k, r, st, d, trx), wake: () => undefined }, log });
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      expect(await pending(TIMER_ALERT_TELL)).to.deep.equal([]);
      // The clearing result is recorded and processed, and Rounds dies before telling anyone.
      const payload = k("4.4", "2");
      await inbound.record({ source: "lab", key: `C${control}`, kind: "hl7v2", type: "x", payload });
      const [cleared] = await intake.processPending();
      expect(cleared!.kind).to.equal("cleared");
      const [tell] = await pending(TIMER_ALERT_TELL);
      expect(tell).to.deep.include({ ref: raised!.alert.id });
      await service.onTellTimer(row(tell!, TIMER_ALERT_TELL));
      await service.onTellTimer(row(tell!, TIMER_ALERT_TELL));
      // Or told at once too (no crash): still one message.
      await service.deliver([cleared!]);
      const notices = rooms.calls.filter((c) => c.method === "send").map((c) => (c.args.content as { body: string }).body).filter((b) => b.includes("cleared"));
      expect(notices).to.have.length(1);
      expect(notices[0]).to.match(/^✅ Alert #\d+ cleared: a later result is normal/);
    });

    it("tells repeats at the 1st, 2nd, 4th and 8th only, keeping the count in the room's state every time", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "r0"));
      for (let i = 1; i <= 9; i++) await receive(k("5.8", `r${i}`));
      const roomId = rooms.calls.find((c) => c.method === "send")!.roomId!;
      const repeats = rooms.calls.filter((c) => c.method === "send").map((c) => (c.args.content as { body: string }).body).filter((b) => b.includes("Repeated:"));
      expect(repeats.map((b) => /Repeated: (\d+) results/.exec(b)![1])).to.deep.equal(["2", "3", "5", "9"]);
      expect(statesIn(roomId).find((x) => (x as { id: string }).id === raised!.alert.id)).to.include({ repeats: 9 });
    });

    it("tells the room when a normal follow-up clears the alert it holds", async function () {
      await receive(admit("4WEST"));
      await receive(k("5.8", "1"));
      await receive(k("4.4", "2"));
      const sent = rooms.calls.filter((c) => c.method === "send").map((c) => (c.args.content as { body: string; msgtype: string }));
      expect(sent.map((c) => c.msgtype)).to.deep.equal(["m.text", "m.notice"]);
      expect(sent[1]!.body).to.match(/^✅ Alert #\d+ cleared: a later result is normal/);
    });

    it("takes a recipient's false positive (the reason stays in their encrypted message) and reports each rule's effectiveness", async function () {
      // Five patients' urgent-high potassium (their results place them on 4WEST under D77), three marked false positive.
      const numbers: number[] = [];
      for (const [i, v] of ["5.6", "5.7", "5.8", "6.0", "6.1"].entries()) {
        const [e] = await receive(k(v, `fp${i}`, `MRN-FP-${i}`));
        numbers.push(e!.alert.number);
      }
      const refused = await service.markFalsePositive({ by: OTHER, number: numbers[0]!, reasonEventId: "$r0" }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(AlertError).and.to.include({ code: "forbidden" });
      for (const n of numbers.slice(0, 3)) await service.markFalsePositive({ by: HOUSE, number: n, reasonEventId: `$reason${n}` });
      const again = await service.markFalsePositive({ by: HOUSE, number: numbers[0]!, reasonEventId: "$x" }).catch((e: unknown) => e);
      expect(again).to.be.instanceOf(AlertError).and.to.include({ code: "conflict" });
      expect((await store.trailOf((await store.byNumber(numbers[0]!))!.id)).at(-1)).to.include({ step: "false_positive", actor: HOUSE, ref: `$reason${numbers[0]}` });
      await service.acknowledge({ by: HOUSE, number: numbers[4]! });

      const { ruleReport } = await import("../../appservice/alert/ruleReport.js");
      const report = ruleReport(set.rules, await store.outcomes(new Date(0))).find((r) => r.rule === "potassium")!;
      expect(report).to.include({ fired: 5, acknowledged: 1, falsePositives: 3, falsePositiveRate: 0.6 });
      expect(report.suggestion!.text).to.equal("Consider urgent.above: 5.8 mmol/L instead of 5.5: it would have spared these false positives and kept every other alert.");
      expect(report.suggestion!.evidence).to.equal("3 of 5 urgent above alerts were marked false positive, at 5.6–5.8 mmol/L; the others were at 6–6.1 mmol/L.");
      expect(ruleReport(set.rules, []).find((r) => r.rule === "news2")).to.include({ fired: 0, falsePositiveRate: null, suggestion: null });
    });

    it("pages an urgent alert nobody acknowledged in time to its unit's service, and the page's acknowledgement closes it", async function () {
      await receive(admit("4WEST"));
      const [raised] = await receive(k("5.8", "1"));
      const [timer] = await pending(TIMER_ALERT_ESCALATE);
      expect(timer).to.include({ ref: raised!.alert.id, step: "first" });
      expect(new Date(timer!.due_at).getTime() - raised!.alert.firstAt.getTime()).to.be.within(14.9 * 60_000, 15.1 * 60_000);
      await service.onEscalateTimer(row(timer!, TIMER_ALERT_ESCALATE));
      await service.onEscalateTimer(row(timer!, TIMER_ALERT_ESCALATE)); // a retried timer pages once
      expect(pager.pages).to.have.length(1);
      expect(pager.pages[0]).to.include({ service: "cardiology", urgency: "urgent" });
      expect(pager.pages[0]!.note).to.match(/^Not acknowledged for 15 min: 🟠 URGENT alert #/);
      await pager.acknowledge(41, LENA);
      expect(await store.byNumber(raised!.alert.number)).to.include({ status: "acknowledged", acknowledgedBy: LENA });
      expect((await store.trailOf(raised!.alert.id)).map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "escalated", "acknowledged"]);
      // Acknowledged in the alerts room instead, an escalated alert's page is closed, so nobody is rung further.
      const [next] = await receive(k("2.9", "9"));
      const [t2] = (await pending(TIMER_ALERT_ESCALATE)).filter((t) => t.ref === next!.alert.id);
      await service.onEscalateTimer(row(t2!, TIMER_ALERT_ESCALATE));
      await service.acknowledge({ by: HOUSE, number: next!.alert.number });
      expect(pager.resolved).to.deep.equal([42]);
      // An alert acknowledged in its room in time is never escalated.
      const [other] = await receive(k("5.8", "2", "MRN-OTHER"));
      await service.acknowledge({ by: HOUSE, number: other!.alert.number });
      expect((await pending(TIMER_ALERT_ESCALATE)).filter((t) => t.ref === other!.alert.id)).to.deep.equal([]);
    });

    it("snoozes an urgent alert for a bounded time, holds its escalation, and rings again when the snooze ends; never a critical one", async function () {
      await receive(admit("4WEST"));
      const [urgent] = await receive(k("5.8", "1"));
      const n = urgent!.alert.number;
      const refusals = await Promise.all([
        service.snooze({ by: OTHER, number: n, minutes: 10 }).catch((e: unknown) => e),
        service.snooze({ by: HOUSE, number: n, minutes: 0 }).catch((e: unknown) => e),
        service.snooze({ by: HOUSE, number: n, minutes: 61 }).catch((e: unknown) => e),
      ]);
      expect(refusals.map((e) => (e as AlertError).code)).to.deep.equal(["forbidden", "invalid_input", "invalid_input"]);
      const snoozed = await service.snooze({ by: HOUSE, number: n, minutes: 10 });
      expect(snoozed.snoozedUntil).to.be.instanceOf(Date);
      expect(await pending(TIMER_ALERT_ESCALATE)).to.deep.equal([]);
      // Snoozed again for longer: the first snooze's end no longer rings.
      const [first] = await pending(TIMER_ALERT_SNOOZE);
      await service.snooze({ by: HOUSE, number: n, minutes: 30 });
      expect((await pending(TIMER_ALERT_SNOOZE)).map((t) => t.step)).to.have.length(1).and.not.to.include(first!.step);
      const sentBefore = rooms.calls.filter((c) => c.method === "send").length;
      await service.onSnoozeTimer(row(first!, TIMER_ALERT_SNOOZE));
      expect(rooms.calls.filter((c) => c.method === "send")).to.have.length(sentBefore);
      const [wake] = await pending(TIMER_ALERT_SNOOZE);
      expect(wake!.ref).to.equal(urgent!.alert.id);
      await service.onSnoozeTimer(row(wake!, TIMER_ALERT_SNOOZE));
      const reminder = rooms.calls.filter((c) => c.method === "send").at(-1)!.args.content as { body: string; "m.mentions": { user_ids: string[] } };
      expect(reminder.body).to.match(new RegExp(`^⏰ Snooze over: alert #${n} is still open`));
      expect(reminder["m.mentions"].user_ids).to.deep.equal([HOUSE]);
      expect((await pending(TIMER_ALERT_ESCALATE)).map((t) => t.step)).to.deep.equal([`after-snooze-${wake!.step}`]);
      expect((await store.trailOf(urgent!.alert.id)).map((t) => t.step)).to.deep.equal(["received", "routed", "delivered", "snoozed", "snoozed", "renotified"]);

      pager.fail = true; // a critical alert delivered directly: still never snoozed
      const [critical] = await receive(k("7.2", "3"));
      const refused = await service.snooze({ by: HOUSE, number: critical!.alert.number, minutes: 5 }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(AlertError).and.to.include({ code: "invalid_transition" });
      expect((refused as Error).message).to.contain("cannot be snoozed");
    });

    it("arms a retry for an email the SMTP server refused, and sends it on the retry", async function () {
      let refuse = true;
      const mails: string[][] = [];
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ["STARTTLS"],
        onData(stream, session, done) {
          stream.resume();
          stream.on("end", () => {
            if (refuse) return done(Object.assign(new Error("mailbox busy"), { responseCode: 451 }));
            mails.push(session.envelope.rcptTo.map((r) => r.address));
            done();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
      const retries: Array<[string, string]> = [];
      const email = new AlertEmail({ db, smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, from: "rounds@hospital.example", retryLater: async (a, u) => void retries.push([a, u]), log });
      try {
        await db("alert_contacts").delete();
        await db("alert_emails").delete();
        await email.setAddress(HOUSE, "house@hospital.example");
        const alert = { id: "01JALERTMAIL", number: 77, priority: "urgent" as const };
        await email.tell(alert, [HOUSE]);
        expect([retries, mails]).to.deep.equal([[[alert.id, HOUSE]], []]);
        refuse = false;
        await email.tell(alert, [HOUSE]);
        await email.tell(alert, [HOUSE]); // sent: once
        expect(mails).to.deep.equal([["house@hospital.example"]]);
        expect(retries).to.have.length(1);
      } finally {
        email.close();
        await new Promise<void>((resolve) => smtp.close(() => resolve()));
      }
    });

    it("emails a critical or urgent alert's recipients who gave an address, once, saying only that a result is waiting", async function () {
      const mails: Array<{ to: string[]; raw: string }> = [];
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ["STARTTLS"],
        onData(stream, session, done) {
          let raw = "";
          stream.on("data", (c: Buffer) => (raw += c.toString()));
          stream.on("end", () => {
            mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
            done();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
      const email = new AlertEmail({ db, smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, from: "rounds@hospital.example", log });
      try {
        await db("alert_contacts").delete();
        await db("alert_emails").delete();
        service = new AlertService({ store, rooms, oncall: { whoIsOnCall: async () => { throw new Error("unused"); } }, routing: () => set.routing, pager: () => pager, botUserId: BOT, email, log });
        await email.setAddress(HOUSE, "house@hospital.example");
        await email.setAddress(LENA, "lena@hospital.example");
        await receive(admit("4WEST"));
        const [urgent] = await receive(k("5.8", "1"));
        await service.deliver([urgent!]); // a retry: no second mail
        await receive(k("6.9", "2")); // critical: paged, its page's targets mailed, and the attending (mailed already for #1, a new alert: mailed again)
        await receive(k("3.4", "3")); // informational: no mail
        expect(mails.map((m) => m.to)).to.deep.equal([["house@hospital.example"], ["lena@hospital.example"], ["house@hospital.example"]]);
        expect(mails[0]!.raw).to.match(/Subject: Rounds: an urgent result is waiting \(alert #\d+\)/);
        expect(mails[1]!.raw).to.match(/Subject: Rounds: a critical result is waiting \(alert #\d+\)/);
        expect(mails[2]!.raw).to.match(/Subject: Rounds: a critical result is waiting \(alert #\d+\)/);
        for (const m of mails) expect(m.raw).not.to.contain(MRN).and.not.to.contain("5.8").and.not.to.contain("6.9").and.not.to.contain("otassium");
        await email.setAddress(HOUSE, null);
        expect(await email.addressOf(HOUSE)).to.equal(null);
      } finally {
        email.close();
        await new Promise<void>((resolve) => smtp.close(() => resolve()));
      }
    });

    it("gathers informational alerts into one digest per clinician, held through their quiet hours and their patient's unit's", async function () {
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      const around = { from: hhmm(new Date(Date.now() - 3_600_000)), to: hhmm(new Date(Date.now() + 3_600_000)), zone: "UTC" };
      await db("alert_quiet_hours").delete();
      await receive(admit("4WEST"));
      const [low] = await receive(k("3.4", "1"));
      const [high] = await receive(k("5.3", "2"));
      expect([low!.alert.priority, high!.alert.priority]).to.deep.equal(["informational", "informational"]);
      expect(rooms.calls.filter((c) => c.method === "send")).to.deep.equal([]);
      const timers = await pending(TIMER_ALERT_DIGEST);
      expect(timers).to.have.length(1); // both wait for the same slot
      expect(new Date(timers[0]!.due_at).getTime() % 3_600_000).to.equal(0);
      expect(await service.redeliver()).to.equal(0); // held is not undelivered

      // The clinician's quiet hours are on: the digest waits for their end.
      await service.setQuietHours(HOUSE, around);
      await service.onDigestTimer(row(timers[0]!, TIMER_ALERT_DIGEST));
      expect(rooms.calls.filter((c) => c.method === "send")).to.deep.equal([]);
      expect((await pending(TIMER_ALERT_DIGEST)).map((t) => hhmm(new Date(t.due_at)))).to.include(around.to);

      // Off for the clinician, but on for the patient's unit: still held.
      await service.setQuietHours(HOUSE, null);
      set = { ...set, routing: { ...set.routing, quiet_hours: { "4WEST": around } } };
      await service.onDigestTimer(row(timers[0]!, TIMER_ALERT_DIGEST));
      expect(rooms.calls.filter((c) => c.method === "send")).to.deep.equal([]);

      set = { ...set, routing: { ...set.routing, quiet_hours: {} } };
      await service.onDigestTimer(row(timers[0]!, TIMER_ALERT_DIGEST));
      const sent = rooms.calls.filter((c) => c.method === "send");
      expect(sent).to.have.length(1);
      const digest = sent[0]!.args.content as { body: string; "m.mentions": { user_ids: string[] } };
      expect(digest.body).to.match(/^🔵 FYI digest: 2 results to read\./);
      expect(digest.body).to.contain(`#${low!.alert.number} Potassium 3.4 mmol/L, below the informational limit 3.5 (${MRN}, 4WEST)`);
      expect(digest["m.mentions"].user_ids).to.deep.equal([]); // informational never rings
      expect((await store.trailOf(low!.alert.id)).map((t) => t.step)).to.deep.equal(["received", "routed", "delivered"]);
      expect(statesIn(sent[0]!.roomId!).map((x) => x.message_event_id)).to.deep.equal([sent[0]!.args.eventId, sent[0]!.args.eventId]);
      // The same digest again (a retried timer) sends nothing more.
      await service.onDigestTimer(row(timers[0]!, TIMER_ALERT_DIGEST));
      expect(rooms.calls.filter((c) => c.method === "send")).to.have.length(1);
    });

    it("counts each clinician's alerts per shift and warns the unit's coordinators once past the cap", async function () {
      const told: Array<{ user: string; text: string; key?: string }> = [];
      const keys = new Set<string>();
      const notifier = {
        tellUser: async (user: string, text: string, key?: string) => {
          if (key && keys.has(`${user}|${key}`)) return;
          if (key) keys.add(`${user}|${key}`);
          told.push({ user, text, key });
        },
      };
      const oncall = { whoIsOnCall: async () => { throw new Error("unused"); }, coordinators: async (s: string) => (s === "cardiology" ? ["@cora:x.org"] : []) };
      service = new AlertService({ store, rooms, oncall, notifier, routing: () => set.routing, pager: () => pager, botUserId: BOT, options: { escalateUrgentMinutes: 15, maxSnoozeMinutes: 60, digestMinutes: 60, shiftHours: 12, perShiftCap: 2 }, log });
      for (const i of [1, 2]) await receive(k("5.8", `load${i}`, `MRN-LOAD-${i}`));
      expect(told).to.deep.equal([]);
      for (const i of [3, 4]) await receive(k("5.8", `load${i}`, `MRN-LOAD-${i}`));
      expect(told).to.have.length(1);
      expect(told[0]!.user).to.equal("@cora:x.org");
      expect(told[0]!.text).to.match(new RegExp(`^⚠️ Alert load: ${HOUSE} has had 3 alerts in the last 12 h \\(more than 2\\)`));
      expect(told[0]!.text).not.to.contain("MRN");
    });

    it("counts a critical alert's page in its targets' alarm load", async function () {
      const oncall = { whoIsOnCall: async () => { throw new Error("unused"); }, coordinators: async (s: string) => (s === "cardiology" ? ["@cora:x.org"] : []) };
      const told: string[] = [];
      service = new AlertService({ store, rooms, oncall, notifier: { tellUser: async (_u: string, text: string) => void told.push(text) }, routing: () => set.routing, pager: () => pager, botUserId: BOT, options: { escalateUrgentMinutes: 15, maxSnoozeMinutes: 60, digestMinutes: 60, shiftHours: 12, perShiftCap: 1 }, log });
      for (const i of [1, 2]) await receive(k("6.9", `crit${i}`, `MRN-CRIT-${i}`));
      expect(pager.pages).to.have.length(2);
      // The page's target and the patients' attending (PV1-7, told beside the page) each carry both.
      expect(told.map((t) => t.split(" has had")[0])).to.have.members([`⚠️ Alert load: ${LENA}`, `⚠️ Alert load: ${HOUSE}`]);
      expect(told.every((t) => t.includes("has had 2 alerts"))).to.equal(true);
    });
  });
}
