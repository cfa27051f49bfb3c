/**
 * Alert benchmarks, each against a floor measured in the same run:
 *  1. ORU^R01 over MLLP (a kept library's client) -> the on-call's client has the decrypted
 *     urgent alert, against one-way E2EE client -> client delivery, interleaved sample by sample.
 *  2. Alert storm: BENCH_STORM messages within a minute, from BENCH_STORM_PATIENTS patients, with
 *     dedup on: ACK latency p50/p99, messages not acknowledged AA (must be 0), time from the last
 *     ACK until every alert reached the clinician, and Matrix messages per results.
 *  3. Rule evaluation per message, in this process: reading and evaluating an ORU against parsing
 *     it alone (the floor).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hl7Message } from "@medplum/core";
import { Hl7Client } from "@medplum/hl7";
import * as sdk from "matrix-js-sdk";
import { labRuleFor, labValueOf } from "../../appservice/alert/alertIntake.js";
import { parseRulesFile } from "../../appservice/alert/alertRules.js";
import { readInboundMessage, type LabReport } from "../../appservice/alert/hl7/inboundMessage.js";
import { evaluateLab } from "../../appservice/alert/ruleEvaluation.js";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { TestClinician } from "../harness/clinician.js";
import { pagingSchedule, startPagingScenario } from "../harness/pagingScenario.js";
import { freePort } from "../harness/ports.js";
import { tempDir } from "../harness/tempDir.js";
import { waitUntil } from "../harness/waitUntil.js";
import { Arrivals } from "./paging.js";
import { ms, progress, ratio, summary } from "./stats.js";

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const LATENCY = num("BENCH_ALERTS", 40);
const WARMUP = 3;
const STORM = num("BENCH_STORM", 1000);
const STORM_PATIENTS = num("BENCH_STORM_PATIENTS", 50);
const STORM_CONNECTIONS = num("BENCH_STORM_CONNECTIONS", 4);
const EVALUATIONS = num("BENCH_RULE_EVALUATIONS", 20_000);

const RULES = readFileSync(join(repoRoot, "appservice/alert/example-rules.yaml"), "utf8").replace("units: { 4WEST: medicine, RENAL: nephrology }", "units: { 4WEST: cardiology }").replace("default_service: medicine", "default_service: cardiology");

let control = 0;
const oru = (mrn: string, value: string) =>
  [
    `MSH|^~\\&|LAB|GENHOSP|ROUNDS|GENHOSP|20261203101500||ORU^R01|B${++control}|P|2.5.1`,
    `PID|1||${mrn}^^^GENHOSP^MR`,
    "PV1|1|I|4WEST^1^A",
    `OBR|1|P-${control}|F-${control}|24323-8^Panel^LN`,
    `OBX|1|NM|2823-3^Potassium^LN||${value}|mmol/L|3.5-5.1|H|||F`,
  ].join("\r");

/** Rule evaluation cost: read + route + evaluate, against parsing alone. */
function ruleCost(): string {
  const { rules } = parseRulesFile(RULES);
  const texts = Array.from({ length: 200 }, (_, i) => oru(`MRN-E${i}`, (3 + (i % 40) / 10).toFixed(1)));
  const time = (f: (t: string) => void) => {
    for (let i = 0; i < 2000; i++) f(texts[i % texts.length]!);
    const t = performance.now();
    for (let i = 0; i < EVALUATIONS; i++) f(texts[i % texts.length]!);
    return ((performance.now() - t) * 1000) / EVALUATIONS;
  };
  const floor = time((t) => void Hl7Message.parse(t));
  const full = time((t) => {
    const report = readInboundMessage(t) as LabReport;
    for (const r of report.results) {
      const v = labValueOf(r);
      const rule = labRuleFor(rules, v, "4WEST");
      if (rule) evaluateLab(rule, v);
    }
  });
  return `  rule evaluation (${EVALUATIONS} ORU^R01): read, route and evaluate ${full.toFixed(1)} µs per message (${ratio(full, floor)} of parsing alone, ${floor.toFixed(1)} µs)`;
}

export async function runAlertBench(): Promise<string> {
  const dir = tempDir("bench-alerts");
  const mllpPort = await freePort();
  writeFileSync(join(dir, "sources.yaml"), `sources:\n  - { id: lab, kind: mllp, allow: ["127.0.0.1"], per_minute: ${Math.max(6000, STORM * 3)} }\n`);
  progress(`alerts: starting Synapse, Rounds (with MLLP) and clients; ${LATENCY} alerts against ${LATENCY} E2EE messages, then a storm of ${STORM}`);
  const s = await startPagingScenario({ ROUNDS_ALERT_SOURCES_FILE: join(dir, "sources.yaml"), ROUNDS_ALERT_MLLP_PORT: String(mllpPort), LOG_LEVEL: "warn", ROUNDS_ALERT_PER_SHIFT_CAP: "10000" });
  try {
    const { lena, wendy } = s.people;
    const people = { lena: lena.userId, liam: s.people.liam.userId, cora: s.people.cora.userId };
    await s.rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: pagingSchedule(people, { delays: { emergent: 600, urgent: 600, routine: 600 } }), headers: { "content-type": "application/yaml" } });
    await s.rounds.admin("/_rounds/admin/v1/alerts/rules", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ yaml: RULES }) });
    const peer = await TestClinician.create(s.hs, "bench-alert-peer");
    peer.acceptInvites();
    // Clinicians keep production rate limits (burst 10): the floor's messages come from enough
    // senders that none waits for the limiter, as the alerts bot (the appservice) never does.
    const senders = [wendy, ...(await Promise.all(Array.from({ length: Math.ceil((WARMUP + LATENCY) / 8) }, (_, i) => TestClinician.create(s.hs, `bench-alert-sender${i}`))))];
    const senderRooms = await Promise.all(senders.map((c) => c.openEncryptedDm(peer.userId)));
    const tag = (body: string) => /\[bench:([^\]]+)\]/.exec(body)?.[1] ?? /(MRN-[A-Z0-9-]+)/.exec(body)?.[1] ?? null;
    const peerArrivals = new Arrivals(peer.client, (ev, body) => (senders.some((c) => c.userId === ev.getSender()) ? tag(body) : null));
    const lenaArrivals = new Arrivals(lena.client, (ev, body) => (ev.getSender() === `@rounds_alerts:${s.hs.serverName}` && body.includes("URGENT alert #") ? tag(body) : null));
    const client = new Hl7Client({ host: "127.0.0.1", port: mllpPort, keepAlive: true });
    // Every message the alerts bot sends the clinician during the storm (alerts and repeat
    // notices alike), counted by event id.
    const stormSeen = new Set<string>();
    let counting = false;
    const countStorm = async (ev: sdk.MatrixEvent) => {
      if (!counting || ev.getSender() !== `@rounds_alerts:${s.hs.serverName}`) return;
      await lena.client.decryptEventIfNeeded(ev);
      if (ev.getType() === "m.room.message" && ev.getId()) stormSeen.add(ev.getId()!);
    };
    lena.client.on(sdk.RoomEvent.Timeline, (ev) => void countStorm(ev));
    lena.client.on(sdk.MatrixEventEvent.Decrypted, (ev) => void countStorm(ev));

    // --- 1. latency ---------------------------------------------------------------------------
    const alertMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < WARMUP + LATENCY; i++) {
      const mrn = `MRN-L${i}`;
      const alertOnce = async () => {
        const t = performance.now();
        const ack = await client.sendAndWait(Hl7Message.parse(oru(mrn, "5.8")), { timeoutMs: 30_000 });
        if (ack.getSegment("MSA")?.getComponent(1, 1) !== "AA") throw new Error(`no AA: ${ack.toString()}`);
        return (await lenaArrivals.wait(mrn)).at - t;
      };
      const floorOnce = async () => {
        const t = performance.now();
        const k = Math.floor(i / 8);
        await senders[k]!.send(senderRooms[k]!, `ping [bench:f-${i}]`);
        return (await peerArrivals.wait(`f-${i}`)).at - t;
      };
      // Alternate which goes first, so neither always follows the other's load.
      let a: number, f: number;
      if (i % 2) {
        a = await alertOnce();
        f = await floorOnce();
      } else {
        f = await floorOnce();
        a = await alertOnce();
      }
      if (i >= WARMUP) {
        alertMs.push(a);
        floorMs.push(f);
      }
      if ((i + 1) % 10 === 0) progress(`alerts 1/3: ${i + 1}/${WARMUP + LATENCY}`);
    }

    // --- 2. storm -----------------------------------------------------------------------------
    progress(`alerts 2/3: storm of ${STORM} ORU^R01 within a minute over ${STORM_CONNECTIONS} connections, ${STORM_PATIENTS} patients`);
    const clients = Array.from({ length: STORM_CONNECTIONS }, () => new Hl7Client({ host: "127.0.0.1", port: mllpPort, keepAlive: true }));
    const ackMs: number[] = [];
    let notAa = 0;
    const raisedBefore = await s.rounds.metric("rounds_alerts_total", 'rule="potassium",priority="urgent",change="raised"');
    const repeatedBefore = await s.rounds.metric("rounds_alerts_total", 'rule="potassium",priority="urgent",change="repeated"');
    counting = true;
    const start = performance.now();
    const spacing = 60_000 / STORM;
    let sent = 0;
    await Promise.all(
      clients.map(async (c, ci) => {
        for (let i = ci; i < STORM; i += STORM_CONNECTIONS) {
          // Spread over the minute: each message leaves at its slot (or at once if behind).
          const due = start + i * spacing;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const t = performance.now();
          const ack = await c.sendAndWait(Hl7Message.parse(oru(`MRN-S${i % STORM_PATIENTS}`, "5.8")), { timeoutMs: 60_000 });
          ackMs.push(performance.now() - t);
          if (ack.getSegment("MSA")?.getComponent(1, 1) !== "AA") notAa++;
          if (++sent % 250 === 0) progress(`alerts 2/3: ${sent}/${STORM} acknowledged`);
        }
      }),
    );
    const lastAck = performance.now();
    for (const c of [client, ...clients]) await c.close();
    for (let p = 0; p < STORM_PATIENTS; p++) await lenaArrivals.wait(`MRN-S${p}`, 180_000);
    progress(`alerts 2/3: every patient's alert arrived; waiting for every result to be in one`);
    // Drained when every result is in an alert: one raised per patient, the rest counted as repeats.
    const changes = async (change: string) => s.rounds.metric("rounds_alerts_total", `rule="potassium",priority="urgent",change="${change}"`);
    let shown = 0;
    await waitUntil(
      async () => {
        const [raised, repeated] = [(await changes("raised")) - raisedBefore, (await changes("repeated")) - repeatedBefore];
        if (performance.now() - shown > 10_000) {
          shown = performance.now();
          progress(`alerts 2/3: ${raised} raised, ${repeated} repeats so far`);
        }
        return raised + repeated >= STORM ? true : null;
      },
      "every storm result in an alert",
      180_000,
    );
    const drained = performance.now() - lastAck;
    const lost = STORM - ((await changes("raised")) - raisedBefore) - ((await changes("repeated")) - repeatedBefore);
    for (const c of [peer, ...senders.slice(1)]) c.stop();
    const stormMessages = stormSeen.size;

    const a = summary(alertMs);
    const f = summary(floorMs);
    const k = summary(ackMs);
    return [
      "",
      `Clinical alerts (${LATENCY} samples each, interleaved; storm of ${STORM})`,
      `  floor: one E2EE message client -> client: p50 ${ms(f.p50)}, p99 ${ms(f.p99)}`,
      `  ORU^R01 over MLLP -> the on-call's client has the decrypted alert: p50 ${ms(a.p50)} (${ratio(a.p50, f.p50)} floor), p99 ${ms(a.p99)} (${ratio(a.p99, f.p99)} floor)`,
      `  storm: ACK p50 ${ms(k.p50)}, p99 ${ms(k.p99)} (${ratio(k.p50, f.p50)} / ${ratio(k.p99, f.p99)} of the floor message); not acknowledged AA: ${notAa}; sent over ${((lastAck - start) / 1000).toFixed(1)} s`,
      `  storm: every result in an alert (${STORM_PATIENTS} raised, ${STORM - STORM_PATIENTS} repeats, ${lost} lost) ${(drained / 1000).toFixed(1)} s after the last ACK`,
      `  storm: Matrix messages to the clinician ${stormMessages} for ${STORM} results (${ratio(stormMessages, STORM)}): an alert per patient, and repeat notices at the 1st, 2nd, 4th … repeat only`,
      ruleCost(),
    ].join("\n");
  } finally {
    await s.stop();
  }
}
