/**
 * Recovery after a crash: Rounds is killed with kill -9 while a page waits to escalate, the
 * deadline passes while it is down, and it is started again. Measures the time from the restart
 * to the escalation being recorded and to the next on-call having it, decrypted. The floor, in
 * the same run through the same Synapse, sample by sample: a plain E2EE client process started
 * cold (./coldClient.mjs) that logs in, loads its crypto, syncs and sends one message, timed from
 * its spawn to the receiver having it. Both start a Node process, crypto and a sync from nothing.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import * as sdk from "matrix-js-sdk";
import { registerUser } from "../../appservice/setup/synapseAdmin.js";
import { pagingSchedule, startPagingScenario } from "../harness/pagingScenario.js";
import { ms, progress, ratio, summary } from "./stats.js";
import { untilTime } from "../harness/waitUntil.js";

const RESTARTS = Number(process.env.BENCH_RESTARTS ?? 5);
/** Long enough that the requester's client sees the page notified before the step is due. */
const STEP_S = 8;


export async function runRecoveryBench(): Promise<string> {
  progress(`recovery: ${RESTARTS} kill -9 restarts with an escalation overdue, against a cold E2EE client process`);
  const s = await startPagingScenario({ LOG_LEVEL: "info" });
  try {
    const { wendy, lena, liam, cora } = s.people;
    const people = { lena: lena.userId, liam: liam.userId, cora: cora.userId };
    await s.rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: pagingSchedule(people, { delays: { emergent: 3, urgent: STEP_S, routine: 600 } }), headers: { "content-type": "application/yaml" } });

    // The floor's sender: an account with a password, so each sample logs in as a new device.
    const password = `cold-${process.pid}-secret`;
    const cold = await registerUser(s.hs.url, s.hs.secrets.registrationSharedSecret, { localpart: `bench-cold${process.pid}`, password });
    const { room_id: floorRoom } = await liam.client.createRoom({
      preset: sdk.Preset.TrustedPrivateChat,
      invite: [cold.userId],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    const join = await fetch(`${s.hs.url}/_matrix/client/v3/join/${encodeURIComponent(floorRoom)}`, { method: "POST", headers: { authorization: `Bearer ${cold.accessToken}`, "content-type": "application/json" }, body: "{}" });
    if (!join.ok) throw new Error(`the floor's sender could not join its room: ${join.status} ${await join.text()}`);

    const recorded: number[] = [];
    const delivered: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      // Floor sample.
      const body = `cold start ${i}`;
      const got = liam.waitForMessage((b) => b === body, { roomId: floorRoom, what: "the cold client's message" });
      const t0 = Date.now();
      const child = spawn(process.execPath, [fileURLToPath(new URL("./coldClient.mjs", import.meta.url))], {
        env: { ...process.env, HS_URL: s.hs.url, USER_ID: cold.userId, PASSWORD: password, ROOM_ID: floorRoom, BODY: body },
        stdio: ["ignore", "ignore", "inherit"],
      });
      await got;
      floor.push(Date.now() - t0);
      await once(child, "exit");

      // Rounds sample.
      const cmd = await wendy.send(s.dm, `!page cardiology urgent recovery drill ${i}`);
      const number = Number(/Page #(\d+)/.exec((await wendy.waitForNotice(s.dm, s.botUserId, { after: cmd })).body)![1]);
      const page = await lena.waitForMessage((b) => b.includes(`page #${number}`), { what: "the page" });
      const state = await s.waitForPageState(wendy, page.roomId, (st) => st.number === number && st.status === "notified");
      await s.rounds.kill();
      await untilTime((state.deadline_ts as number) + 1000);
      const escalatedLog = s.rounds.waitForLog((l) => l.msg === "page: escalated" && l.page === state.id);
      const escalation = liam.waitForMessage((b) => b.startsWith(`⬆️ Escalated urgent page #${number}`), { what: "the escalation" });
      const restartedAt = Date.now();
      await s.rounds.start();
      recorded.push(((await escalatedLog).time as number) - restartedAt);
      await escalation;
      delivered.push(Date.now() - restartedAt);
      const ack = await liam.send(page.roomId, `!ack ${number}`);
      await liam.waitForNotice(page.roomId, s.botUserId, { after: ack });
      progress(`recovery: ${i + 1}/${RESTARTS}`);
    }
    const [r, d, f] = [summary(recorded), summary(delivered), summary(floor)];
    return [
      `recovery after kill -9 with an escalation overdue (n=${d.n})`,
      `  restart -> escalation recorded:          p50 ${ms(r.p50)}  max ${ms(r.max)}`,
      `  restart -> next on-call has it, decrypted: p50 ${ms(d.p50)}  max ${ms(d.max)}`,
      `  floor, cold E2EE client spawn -> its message received: p50 ${ms(f.p50)}  max ${ms(f.max)}`,
      `  ratio (delivered / floor), p50: ${ratio(d.p50, f.p50)}`,
    ].join("\n");
  } finally {
    await s.stop();
  }
}
