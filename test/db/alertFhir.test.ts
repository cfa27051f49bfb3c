import { createHmac } from "node:crypto";
import { once } from "node:events";
import type { Server } from "node:http";
import { readFileSync } from "node:fs";
import { expect } from "chai";
import express from "express";
import { AlertIntake, TIMER_ALERT_OVERDUE } from "../../appservice/alert/alertIntake.js";
import { parseRulesFile } from "../../appservice/alert/alertRules.js";
import { parseSourcesFile } from "../../appservice/alert/alertSources.js";
import { AlertStore } from "../../appservice/alert/alertStore.js";
import { labValueOfObservation, loadFhirDefinitions, type Observation } from "../../appservice/alert/fhir/fhirResources.js";
import * as medplumMock from "@medplum/mock";
import { SubscriptionLedger } from "../../appservice/alert/fhir/subscriptionLedger.js";
import { InboundStore, INBOUND_AT_REST_PURPOSE } from "../../appservice/alert/inboundStore.js";
import * as m014 from "../../appservice/alert/migrations/014_alerts.js";
import * as m015 from "../../appservice/alert/migrations/015_alert_reads_medications_orders.js";
import { migrate, type Db } from "../../appservice/db/connect.js";
import { alertFhirRouter, FHIR_BASE, FHIR_SIGNATURE_HEADER } from "../../appservice/http/alertFhirRoutes.js";
import { createLogger } from "../../appservice/logging.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { AtRest } from "../../appservice/shared/atRest.js";
import { backends } from "../harness/backends.js";
import { freePort } from "../harness/ports.js";

/**
 * Rounds' FHIR endpoint for alert sources, over real HTTP down to the database on every backend:
 * credentials, limits, validation by the FHIR library, Bundles whole or not at all, resends once,
 * and Subscription notifications with missed ones reported.
 */
const TOKEN = "ehr-token-0123456789abcdefghij";
const KEY = "hmac-key-0123456789abcdefghijkl";
const log = createLogger("silent");
const sources = parseSourcesFile(
  `
sources:
  - { id: ehr, kind: fhir, auth: { bearer_token_env: EHR_TOKEN }, max_bytes: 8192, per_minute: 1000 }
  - { id: lis, kind: fhir, auth: { hmac_secret_env: LIS_KEY }, per_minute: 3 }
  - { id: lab, kind: mllp, allow: ["127.0.0.1"] }
`,
  { EHR_TOKEN: TOKEN, LIS_KEY: KEY },
);

const potassium = (id: string, value: unknown = 6.8, extra: Record<string, unknown> = {}) => ({
  resourceType: "Observation",
  id,
  meta: { versionId: "1" },
  status: "final",
  code: { coding: [{ system: "http://loinc.org", code: "2823-3", display: "Potassium" }] },
  subject: { reference: "Patient/p-991" },
  effectiveDateTime: "2026-12-03T09:45:00Z",
  valueQuantity: { value, unit: "mmol/L", system: "http://unitsofmeasure.org", code: "mmol/L" },
  ...extra,
});

const notification = (type: string, since: number, events: Array<{ n: number; resource?: unknown }> = []) => ({
  resourceType: "Bundle",
  type: "history",
  entry: [
    {
      resource: {
        resourceType: "Parameters",
        parameter: [
          { name: "subscription", valueReference: { reference: "https://ehr.example/fhir/Subscription/critical-labs" } },
          { name: "topic", valueCanonical: "https://ehr.example/topics/lab-results" },
          { name: "status", valueCode: "active" },
          { name: "type", valueCode: type },
          { name: "events-since-subscription-start", valueString: String(since) },
          ...events.map((e) => ({ name: "notification-event", part: [{ name: "event-number", valueString: String(e.n) }] })),
        ],
      },
    },
    ...events.filter((e) => e.resource).map((e) => ({ fullUrl: `urn:uuid:${e.n}`, resource: e.resource })),
  ],
});

for (const backend of backends) {
  describe(`the FHIR alert endpoint, on ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let server: Server;
    let base: string;
    let inbound: InboundStore;
    let intake: AlertIntake;
    let scheduled: Array<{ kind: string; ref: string; step: string; due: Date }> = [];
    const missed: Array<[string, number]> = [];

    async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, contentType = "application/fhir+json") {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const res = await fetch(`${base}${FHIR_BASE}${path}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body: text });
      const outcome = (await res.json()) as { resourceType: string; issue: Array<{ severity: string; code: string; details?: { text?: string }; expression?: string[] }> };
      return { status: res.status, outcome, text: outcome.issue.map((i) => i.details?.text ?? "").join("; "), expression: outcome.issue.flatMap((i) => i.expression ?? []) };
    }

    before(async function () {
      this.timeout(60_000);
      loadFhirDefinitions();
      ({ db, close } = await backend.open());
      await migrate(db, [{ "014_alerts": m014, "015_alert_reads_medications_orders": m015 }]);
      inbound = new InboundStore(db, new AtRest("a-long-enough-passphrase-0123", INBOUND_AT_REST_PURPOSE));
      const { rules } = parseRulesFile(readFileSync(`${repoRoot}/appservice/alert/example-rules.yaml`, "utf8"));
      const timers = { schedule: async (kind: string, ref: string, step: string, due: Date) => void scheduled.push({ kind, ref, step, due }), wake: () => undefined };
      intake = new AlertIntake({ inbound, alerts: new AlertStore(db, new AtRest("a-long-enough-passphrase-0123", "alerts")), rules: () => rules, timers, log });
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = express()
        .use(alertFhirRouter({ sources: () => sources, inbound, subscriptions: new SubscriptionLedger(db), onMissed: (source, n) => void missed.push([source, n]), log }))
        .listen(port, "127.0.0.1");
      await once(server, "listening");
    });
    beforeEach(async function () {
      for (const t of ["alert_trail", "alerts", "alert_patients", "alert_inbound", "alert_subscriptions", "alert_medications", "alert_orders"]) await db(t).delete();
      scheduled = [];
    });
    after(async function () {
      server.close();
      await close();
    });

    it("stores a valid Observation once however often it is resent, and intake raises its alert", async function () {
      const first = await post("/ehr/Observation", potassium("k-1"));
      expect([first.status, first.text]).to.deep.equal([201, "stored 1 resource(s)"]);
      const again = await post("/ehr/Observation", potassium("k-1"));
      expect([again.status, again.text]).to.deep.equal([200, "stored 0 resource(s), 1 already received"]);
      expect(await inbound.count("ehr")).to.equal(1);
      const [raised] = await intake.processPending();
      expect(raised!.alert).to.include({ ruleId: "potassium", priority: "critical", source: "ehr" });
      expect(raised!.alert.detail).to.include({ value: "6.8", units: "mmol/L", observedAt: "2026-12-03T09:45:00.000Z" });
      // A new version of the same Observation, amended to normal, clears the alert it raised.
      await post("/ehr/Observation", potassium("k-1", 4.6, { status: "amended", meta: { versionId: "2" } }));
      const [cleared] = await intake.processPending();
      expect([cleared!.kind, cleared!.alert.id]).to.deep.equal(["cleared", raised!.alert.id]);
    });

    it("takes an amended Observation without a version as new, and refuses an id and version reused for other content", async function () {
      const unversioned = { ...potassium("k-20"), meta: undefined };
      expect((await post("/ehr/Observation", unversioned)).status).to.equal(201);
      expect((await post("/ehr/Observation", unversioned)).status).to.equal(200);
      expect((await post("/ehr/Observation", { ...unversioned, status: "amended", valueQuantity: { value: 4.4, unit: "mmol/L" } })).status).to.equal(201);
      const reused = await post("/ehr/Observation", potassium("k-21", 6.8));
      expect(reused.status).to.equal(201);
      const clash = await post("/ehr/Observation", potassium("k-21", 7.1));
      expect([clash.status, clash.outcome.issue[0]!.code]).to.deep.equal([409, "conflict"]);
      expect((await post("/ehr/Observation", potassium("bad id with spaces"))).expression).to.deep.equal(["Observation.id"]);
      expect(await inbound.count("ehr")).to.equal(3);
    });

    it("takes the Observations a kept FHIR library ships as fixtures (@medplum/mock), with their corrected status and comparator", async function () {
      const fixtures = Object.entries(medplumMock).filter(([name]) => /^HomerObservation\d+$/.test(name)).map(([, v]) => v as unknown as Observation);
      expect(fixtures).to.have.length.greaterThan(5);
      const answers = [];
      for (const o of fixtures) answers.push({ id: o.id, ...(await post("/ehr/Observation", o)) });
      // Most are taken. One breaks R4 itself (empty interpretation and referenceRange, obs-3): refused, naming the fields.
      const taken = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status !== 201);
      expect(taken.length).to.be.greaterThan(5);
      for (const r of refused) {
        expect(r.status, `${r.id}: ${r.text}`).to.equal(422);
        expect(r.expression.join(" ")).to.match(/Observation\.referenceRange/);
      }
      expect(await inbound.count("ehr")).to.equal(taken.length);
      const read = fixtures.filter((o) => taken.some((t) => t.id === o.id)).map(labValueOfObservation);
      expect(read.map((v) => v.status)).to.include("corrected");
      expect(read.find((v) => v.comparator === ">")).to.include({ numeric: 50, units: "x" });
    });

    it("refuses a bad credential, an unknown source, a wrong content type, bad JSON and an oversized body, storing nothing", async function () {
      const cases = [
        [await post("/ehr/Observation", potassium("k-2"), { authorization: "Bearer wrong" }), 401, /bearer token/],
        [await post("/ehr/Observation", potassium("k-2"), {}), 401, /bearer token/],
        [await post("/lab/Observation", potassium("k-2")), 404, /no FHIR alert source/],
        [await post("/nobody/Observation", potassium("k-2")), 404, /no FHIR alert source/],
        [await post("/ehr/Observation", potassium("k-2"), undefined, "text/plain"), 415, /application\/fhir\+json/],
        [await post("/ehr/Observation", "{not json"), 400, /not valid JSON/],
        [await post("/ehr/Observation", potassium("k-2", 6.8, { note: [{ text: "x".repeat(9000) }] })), 413, /8192 bytes/],
      ] as const;
      for (const [res, status, text] of cases) expect([res.status, res.text]).to.satisfy(([s, t]: [number, string]) => s === status && text.test(t), `${status} ${text}: got ${res.status} ${res.text}`);
      expect(await inbound.count()).to.equal(0);
    });

    it("refuses a resource that names no patient, since nobody could be told of it, and stores nothing", async function () {
      const { subject: _none, ...anonymous } = potassium("k-anon");
      const r = await post("/ehr/Observation", anonymous);
      expect([r.status, r.expression, r.text]).to.deep.equal([422, ["Observation.subject"], "subject.reference must name the patient: Rounds cannot route a result without one"]);
      expect(await inbound.count("ehr")).to.equal(0);
    });

    it("validates each resource with the FHIR library and names the field, never the value", async function () {
      const bad = await post("/ehr/Observation", potassium("k-3", "six point eight"));
      expect(bad.status).to.equal(422);
      expect(bad.expression.join(" ")).to.match(/^Observation\.value/);
      expect(bad.text).not.to.contain("six point eight");
      const wrongType = await post("/ehr/Patient", { resourceType: "Patient", id: "p-1" });
      expect([wrongType.status, wrongType.expression]).to.deep.equal([422, ["resourceType"]]);
      const mismatch = await post("/ehr/MedicationRequest", potassium("k-3"));
      expect([mismatch.status, mismatch.expression]).to.deep.equal([422, ["resourceType"]]);
      expect(await inbound.count()).to.equal(0);
    });

    it("stores a Bundle whole, or refuses it whole naming the bad entry", async function () {
      const bundle = (entries: unknown[]) => ({ resourceType: "Bundle", type: "batch", entry: entries.map((resource) => ({ resource })) });
      const refused = await post("/ehr", bundle([potassium("k-4"), potassium("k-5", "high")]));
      expect(refused.status).to.equal(422);
      expect(refused.expression[0]).to.match(/^Bundle\.entry\[1\]\.resource\.Observation\.value/);
      expect(await inbound.count()).to.equal(0);
      const stored = await post("/ehr", bundle([potassium("k-4"), potassium("k-5", 2.1)]));
      expect([stored.status, stored.text]).to.deep.equal([201, "stored 2 resource(s)"]);
      expect(await inbound.count()).to.equal(2);
      expect((await post("/ehr", { resourceType: "Bundle", type: "searchset", entry: [] })).expression).to.deep.equal(["Bundle.type"]);
    });

    it("takes an HMAC-signed body, refuses a bad signature, and throttles a source past its rate, counting only its own requests", async function () {
      const body = JSON.stringify(potassium("k-6"));
      const sign = (b: string) => `sha256=${createHmac("sha256", KEY).update(b).digest("hex")}`;
      expect((await post("/lis/Observation", body, { [FHIR_SIGNATURE_HEADER]: sign(body) })).status).to.equal(201);
      expect((await post("/lis/Observation", body, { [FHIR_SIGNATURE_HEADER]: sign(body + " ") })).status).to.equal(401);
      expect((await post("/lis/Observation", body, { [FHIR_SIGNATURE_HEADER]: sign(body) })).status).to.equal(200);
      // The refused request did not count against the source: a third is taken, a fourth is not.
      expect((await post("/lis/Observation", body, { [FHIR_SIGNATURE_HEADER]: sign(body) })).status).to.equal(200);
      const throttled = await post("/lis/Observation", body, { [FHIR_SIGNATURE_HEADER]: sign(body) });
      expect([throttled.status, throttled.outcome.issue[0]!.code]).to.deep.equal([429, "throttled"]);
      expect(await inbound.count("lis")).to.equal(1);
    });

    const medication = (type: "MedicationRequest" | "MedicationStatement", id: string, version: string, rxnorm: string, name: string, status: string) => ({
      resourceType: type,
      id,
      meta: { versionId: version },
      status,
      ...(type === "MedicationRequest" ? { intent: "order" } : {}),
      subject: { reference: "Patient/p-991" },
      medicationCodeableConcept: { coding: [{ system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: rxnorm, display: name }] },
    });

    it("checks a patient's active medications against the interaction rule: a pair raises one alert, a change that keeps it is quiet, stopping a drug clears it", async function () {
      expect((await post("/ehr/MedicationRequest", medication("MedicationRequest", "m-1", "1", "11289", "warfarin", "active"))).status).to.equal(201);
      expect(await intake.processPending()).to.deep.equal([]);
      await post("/ehr/MedicationStatement", medication("MedicationStatement", "s-1", "1", "5640", "ibuprofen", "active"));
      const [raised, ...more] = await intake.processPending();
      expect(more).to.deep.equal([]);
      expect(raised!.kind).to.equal("raised");
      expect(raised!.alert).to.include({ ruleId: "anticoagulant-nsaid", priority: "urgent", band: "interaction" });
      expect(raised!.alert.detail).to.include({ why: "Anticoagulant with an NSAID: warfarin with ibuprofen (bleeding)" });
      expect(raised!.alert.detail.patient).to.deep.equal({ id: "Patient/p-991", authority: "fhir:ehr" });
      // A new version of the warfarin order, still active: the same interaction, no new message.
      await post("/ehr/MedicationRequest", medication("MedicationRequest", "m-1", "2", "11289", "warfarin", "active"));
      expect(await intake.processPending()).to.deep.equal([]);
      // The medication codes and the patient stand nowhere in the clear.
      const dump = JSON.stringify([await db("alert_medications").select(), await db("alerts").select()]);
      expect(dump).not.to.contain('"11289"').and.not.to.contain("warfarin").and.not.to.contain("p-991");
      await post("/ehr/MedicationStatement", medication("MedicationStatement", "s-1", "2", "5640", "ibuprofen", "stopped"));
      const [cleared] = await intake.processPending();
      expect([cleared!.kind, cleared!.alert.id]).to.deep.equal(["cleared", raised!.alert.id]);
    });

    const order = (id: string, status: string, authoredOn: string) => ({
      resourceType: "ServiceRequest",
      id,
      status,
      intent: "order",
      subject: { reference: "Patient/p-991" },
      code: { coding: [{ system: "http://loinc.org", code: "2524-7", display: "Lactate" }] },
      authoredOn,
    });
    const lactate = (id: string, at: string) => ({
      resourceType: "Observation",
      id,
      status: "final",
      code: { coding: [{ system: "http://loinc.org", code: "2524-7" }] },
      subject: { reference: "Patient/p-991" },
      effectiveDateTime: at,
      valueQuantity: { value: 1.4, unit: "mmol/L" },
    });

    it("arms the overdue-result rule for an ordered test, raises a care-gap alert once when no result came in time, and clears it when the result arrives", async function () {
      expect((await post("/ehr/ServiceRequest", order("o-1", "active", "2026-12-03T08:00:00Z"))).status).to.equal(201);
      expect(await intake.processPending()).to.deep.equal([]);
      expect(scheduled.map((t) => [t.kind, t.step, t.due.toISOString()])).to.deep.equal([[TIMER_ALERT_OVERDUE, "lactate-overdue", "2026-12-03T10:00:00.000Z"]]);
      // A resend of the order arms nothing more.
      await post("/ehr/ServiceRequest", { ...order("o-1", "active", "2026-12-03T08:00:00Z"), meta: { versionId: "2" } });
      await intake.processPending();
      expect(scheduled).to.have.length(1);
      const [raised] = await intake.overdue(Number(scheduled[0]!.ref), "lactate-overdue", new Date("2026-12-03T11:00:00Z"));
      expect(raised!.alert).to.include({ ruleId: "lactate-overdue", priority: "urgent", band: "overdue" });
      expect(raised!.alert.detail.why).to.equal("Lactate ordered 3 h ago, no result yet (limit 2 h)");
      // The timer run twice (a retry after a crash) is still one alert.
      expect(await intake.overdue(Number(scheduled[0]!.ref), "lactate-overdue", new Date("2026-12-03T11:00:05Z"))).to.deep.equal([]);
      await post("/ehr/Observation", lactate("lac-1", "2026-12-03T11:10:00Z"));
      const effects = await intake.processPending();
      expect(effects.map((e) => [e.kind, e.alert.id])).to.deep.equal([["cleared", raised!.alert.id]]);
    });

    it("raises no care gap for an order resulted in time, one revoked, or a draft", async function () {
      await post("/ehr/ServiceRequest", order("o-2", "active", "2026-12-03T08:00:00Z"));
      // Ordered after the result below, so only its revocation closes it.
      await post("/ehr/ServiceRequest", order("o-3", "active", "2026-12-03T09:30:00Z"));
      await post("/ehr/ServiceRequest", order("o-4", "draft", "2026-12-03T08:00:00Z"));
      await intake.processPending();
      expect(scheduled).to.have.length(2);
      await post("/ehr/Observation", lactate("lac-2", "2026-12-03T09:00:00Z"));
      await post("/ehr/ServiceRequest", { ...order("o-3", "revoked", "2026-12-03T09:30:00Z"), meta: { versionId: "2" } });
      await intake.processPending();
      for (const t of scheduled) expect(await intake.overdue(Number(t.ref), t.step, new Date("2026-12-03T12:00:00Z"))).to.deep.equal([]);
    });

    it("answers subscription handshakes and heartbeats, stores notified resources, and reports notifications that never came", async function () {
      const hello = await post("/ehr/notifications", notification("handshake", 0));
      expect([hello.status, hello.text]).to.deep.equal([200, "handshake of https://ehr.example/fhir/Subscription/critical-labs"]);
      const first = await post("/ehr/notifications", notification("event-notification", 1, [{ n: 1, resource: potassium("k-7") }]));
      expect([first.status, first.text]).to.deep.equal([201, "stored 1 resource(s); event-notification of https://ehr.example/fhir/Subscription/critical-labs"]);
      // Events 2 and 3 were lost on the way.
      const fourth = await post("/ehr/notifications", notification("event-notification", 4, [{ n: 4, resource: potassium("k-8") }]));
      expect(fourth.status).to.equal(201);
      expect(fourth.text).to.match(/2 earlier notification\(s\) never arrived \(events 2–3\): resend them$/);
      // A heartbeat says 5 were sent: the fifth never came either.
      const beat = await post("/ehr/notifications", notification("heartbeat", 5));
      expect([beat.status, beat.outcome.issue[0]!.severity, beat.outcome.issue[0]!.code]).to.deep.equal([200, "warning", "incomplete"]);
      expect(beat.text).to.match(/1 earlier notification\(s\) never arrived \(events 5–5\)/);
      const row = (await db("alert_subscriptions").first()) as { events_seen: string | number; missed: string | number };
      expect([Number(row.events_seen), Number(row.missed)]).to.deep.equal([5, 3]);
      // And counted for IT's monitoring, per source.
      expect(missed.splice(0)).to.deep.equal([["ehr", 2], ["ehr", 1]]);
      expect(await inbound.count("ehr")).to.equal(2);
      // A notification that is not the Backport's shape is refused, naming where.
      expect((await post("/ehr/notifications", { resourceType: "Bundle", type: "batch", entry: [] })).expression).to.deep.equal(["Bundle.type"]);
    });
  });
}
