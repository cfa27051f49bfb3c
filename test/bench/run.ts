/**
 * `npm run bench`: the !oncall round trip (clinician -> Synapse -> Rounds -> Synapse -> clinician,
 * E2EE both ways) against a floor measured in the same run through the same Synapse: a plain
 * matrix-js-sdk client that echoes each message, also E2EE both ways. Reports p50/p99 and ratios.
 * Then the paging benchmarks (./paging.ts): page delivery, escalation lateness, throughput.
 * Then recovery from kill -9 with an escalation overdue (./recovery.ts).
 * Then consult delivery (./consults.ts), widget cold load in Chromium (./widgetLoad.ts) and
 * handoff start and presentation (./handoffs.ts).
 * Bursts of commands under production rate limits (./burst.ts) come right after the round trips.
 * Then clinical alerts (./alerts.ts): MLLP to the clinician, a storm, rule evaluation cost.
 * BENCH_PARTS=oncall,burst,paging,recovery,consult,widget,handoff,alert picks parts; counts are
 * set by BENCH_* (see each file).
 */
import * as sdk from "matrix-js-sdk";
import { TestClinician } from "../harness/clinician.js";
import { stopHomeserver } from "../harness/homeserver.js";
import { startBotScenario } from "../harness/scenario.js";
import { removeTempDirs } from "../harness/tempDir.js";
import { runAlertBench } from "./alerts.js";
import { runBurstBench } from "./burst.js";
import { runConsultBench } from "./consults.js";
import { runHandoffBench } from "./handoffs.js";
import { runPagingBench } from "./paging.js";
import { runRecoveryBench } from "./recovery.js";
import { runWidgetLoadBench } from "./widgetLoad.js";
import { ms, percentile } from "./stats.js";

const ROUNDS = Number(process.env.BENCH_ROUND_TRIPS ?? 200);
const WARMUP = 10;
const PARTS = (process.env.BENCH_PARTS ?? "oncall,burst,paging,recovery,consult,widget,handoff,alert").split(",");

/** Runs warm-up plus n iterations, printing progress every 50. */
async function repeat(label: string, n: number, once: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < WARMUP + n; i++) {
    await once(i);
    const done = i - WARMUP + 1;
    if (done > 0 && done % 50 === 0) process.stdout.write(`[bench] ${label}: ${done}/${n}\n`);
  }
}

/** The floor's echo: replies to each text message from `peer` with a notice in reply to it. */
function startEcho(echo: TestClinician, roomId: string, peer: string): void {
  echo.client.on(sdk.RoomEvent.Timeline, async (ev) => {
    if (ev.getRoomId() !== roomId || ev.getSender() !== peer) return;
    await echo.client.decryptEventIfNeeded(ev);
    if (ev.getType() !== "m.room.message" || ev.getContent().msgtype !== "m.text") return;
    await echo.client.sendEvent(roomId, sdk.EventType.RoomMessage, {
      msgtype: sdk.MsgType.Notice,
      body: `echo: ${String(ev.getContent().body)}`,
      "m.relates_to": { "m.in_reply_to": { event_id: ev.getId()! } },
    });
  });
}

const stats = (s: number[]) => ({ p50: percentile(s, 50), p99: percentile(s, 99) });

async function main(): Promise<void> {
  if (PARTS.includes("oncall")) await oncallBench();
  if (PARTS.includes("burst")) console.log(await runBurstBench());
  if (PARTS.includes("paging")) console.log(await runPagingBench());
  if (PARTS.includes("recovery")) console.log(await runRecoveryBench());
  if (PARTS.includes("consult")) console.log(await runConsultBench());
  if (PARTS.includes("widget")) console.log(await runWidgetLoadBench());
  if (PARTS.includes("handoff")) console.log(await runHandoffBench());
  if (PARTS.includes("alert")) console.log(await runAlertBench());
  await stopHomeserver();
  removeTempDirs();
  process.exit(0);
}

async function oncallBench(): Promise<void> {
  console.log(`[bench] starting Synapse and Rounds; ${ROUNDS} round trips each, after ${WARMUP} warm-up`);
  const scenario = await startBotScenario("bench-clinician", { LOG_LEVEL: "warn" });
  const { hs, rounds, botUserId, clinician: alice, roomId: botRoom } = scenario;
  const echo = await TestClinician.create(hs, "bench-echo");
  echo.acceptInvites();
  const echoRoom = await alice.openEncryptedDm(echo.userId);
  startEcho(echo, echoRoom, alice.userId);

  // Interleave the two so machine noise hits both alike.
  const bot: number[] = [];
  const floor: number[] = [];
  await repeat("round trips (bot + floor)", ROUNDS, async (i) => {
    let t = performance.now();
    const e1 = await alice.send(echoRoom, `ping ${i}`);
    await alice.waitForNotice(echoRoom, echo.userId, { after: e1 });
    const floorMs = performance.now() - t;
    t = performance.now();
    const e2 = await alice.send(botRoom, "!oncall cardiology");
    await alice.waitForNotice(botRoom, botUserId, { after: e2 });
    const botMs = performance.now() - t;
    if (i >= WARMUP) {
      floor.push(floorMs);
      bot.push(botMs);
    }
  });
  bot.sort((a, b) => a - b);
  floor.sort((a, b) => a - b);

  const metrics = await (await fetch(`http://127.0.0.1:${rounds.metricsPort}/metrics`)).text();
  const metric = (name: string) => Number(metrics.split("\n").find((l) => l.startsWith(name))?.split(" ").pop() ?? NaN);
  const phaseMs = (p: string) =>
    ms((1000 * metric(`rounds_bot_phase_seconds_sum{phase="${p}"}`)) / metric(`rounds_bot_phase_seconds_count{phase="${p}"}`));
  const inBot = metric("rounds_bot_command_seconds_sum") / metric("rounds_bot_command_seconds_count");
  const store = metric("rounds_appservice_transaction_store_seconds_sum") / metric("rounds_appservice_transaction_store_seconds_count");

  const b = stats(bot);
  const f = stats(floor);
  console.log(`
Rounds benchmark (${ROUNDS} round trips each, E2EE both ways, one Synapse, PGlite)
  floor: client -> echo client -> client   p50 ${ms(f.p50)}   p99 ${ms(f.p99)}
  !oncall -> bot reply                     p50 ${ms(b.p50)}   p99 ${ms(b.p99)}
  ratio bot/floor                          p50 ${(b.p50 / f.p50).toFixed(2)}x   p99 ${(b.p99 / f.p99).toFixed(2)}x   (target p50 <= 1.5x)
Where the bot's time goes (means from Rounds' own metrics):
  commit transaction to inbox              ${ms(store * 1000)}
  bot handling in all                      ${ms(inBot * 1000)}
    decrypt the command                    ${phaseMs("decrypt")}
    run it (schedule lookup in the DB)     ${phaseMs("command")}
    encrypt and send the reply (to 200)    ${phaseMs("reply")}
  the rest is delivery: Synapse -> appservice push, and the reply back through Synapse to the client's sync`);

  echo.stop();
  // Rounds owns the appservice port: this instance stops before the paging one starts.
  await scenario.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
