/**
 * Handoff benchmark, two figures against one floor measured in the same run, interleaved sample
 * by sample: one E2EE message from the outgoing to the incoming clinician in the handoff room.
 * - start: `!handoff start @incoming` in the unit room -> the incoming clinician's client has the
 *   opening message of the new encrypted handoff room (a room is created with its widget, state
 *   and both members before anything can be said in it);
 * - present: `!handoff add` with an SBAR item -> the incoming clinician's client has the bot's
 *   readable copy of the item (the bot sends the encrypted item event, records it, and posts it).
 */
import * as sdk from "matrix-js-sdk";
import { TestClinician } from "../harness/clinician.js";
import { getHomeserver } from "../harness/homeserver.js";
import { RoundsProcess } from "../harness/rounds.js";
import { Arrivals } from "./paging.js";
import { ms, progress, ratio, summary } from "./stats.js";

const STARTS = Number(process.env.BENCH_HANDOFF_STARTS ?? 10);
const ITEMS = Number(process.env.BENCH_HANDOFF_ITEMS ?? 30);
const WARMUP = 2;

export async function runHandoffBench(): Promise<string> {
  progress(`handoffs: starting Rounds; ${STARTS} handoff starts and ${ITEMS} items after ${WARMUP} warm-up each`);
  const hs = await getHomeserver();
  const rounds = new RoundsProcess(hs, { LOG_LEVEL: "warn" });
  await rounds.start();
  const [olga, ian] = await Promise.all([TestClinician.create(hs, "olga"), TestClinician.create(hs, "ian")]);
  olga!.acceptInvites();
  ian!.acceptInvites();
  const bot = `@rounds_handoff:${hs.serverName}`;
  try {
    const unitRoom = await olga!.openEncryptedDm(bot);
    await rounds.admin("/_rounds/admin/v1/handoff/units/bench", { method: "PUT", body: JSON.stringify({ name: "Bench Ward", room_id: unitRoom, deadline_minutes: 600 }) });

    // Ian's client: the opening message of each new handoff room, the bot's item copies, and Olga's floor messages.
    const arrivals = new Arrivals(ian!.client, (ev, body) => {
      if (ev.getSender() === bot && /^Handoff #\d+ on Bench Ward/.test(body)) return `start:${ev.getRoomId()}`;
      if (ev.getSender() === bot) return /^Patient \d+ — (bench-item-\d+)/.exec(body)?.[1] ?? null;
      if (ev.getSender() === olga!.userId) return /^plain (bench-floor-\w+-\d+)$/.exec(body)?.[1] ?? null;
      return null;
    });

    const start: number[] = [];
    const startFloor: number[] = [];
    let room = "";
    for (let i = 0; i < WARMUP + STARTS; i++) {
      if (room) {
        const c = await olga!.send(room, "!handoff cancel");
        await olga!.waitForNotice(room, bot, { after: c });
      }
      let t0 = performance.now();
      if (room) {
        await olga!.send(room, `plain bench-floor-s-${i}`);
        const f = (await arrivals.wait(`bench-floor-s-${i}`)).at - t0;
        if (i >= WARMUP) startFloor.push(f);
      }
      const invited = nextInvite(ian!.client);
      t0 = performance.now();
      await olga!.send(unitRoom, `!handoff start ${ian!.userId}`);
      const roomId = await invited;
      const s = (await arrivals.wait(`start:${roomId}`)).at - t0;
      room = roomId;
      if (i >= WARMUP) start.push(s);
    }
    progress(`handoffs: ${STARTS} starts done`);

    const present: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < WARMUP + ITEMS; i++) {
      let t0 = performance.now();
      await olga!.send(room, `plain bench-floor-p-${i}`);
      const f = (await arrivals.wait(`bench-floor-p-${i}`)).at - t0;
      t0 = performance.now();
      await olga!.send(
        room,
        `!handoff add Encounter/bench-${i} bench-item-${i}\nS: Post-operative day one, stable\nB: Elective hip replacement\nA: Pain controlled, obs normal\nR: Mobilise with physiotherapy`,
      );
      const p = (await arrivals.wait(`bench-item-${i}`)).at - t0;
      if (i >= WARMUP) {
        floor.push(f);
        present.push(p);
      }
      if (i >= WARMUP && (i - WARMUP + 1) % 10 === 0) progress(`handoffs: ${i - WARMUP + 1}/${ITEMS} items`);
    }
    const ss = summary(start);
    const sf = summary(startFloor);
    const ps = summary(present);
    const pf = summary(floor);
    return [
      `handoff start -> the incoming clinician's client has the new handoff room's opening message (${ss.n} starts):`,
      `  start    p50 ${ms(ss.p50)}  p99 ${ms(ss.p99)}  max ${ms(ss.max)}`,
      `  floor    p50 ${ms(sf.p50)}  p99 ${ms(sf.p99)}  (one E2EE message, same two clients)`,
      `  ratio    p50 ${ratio(ss.p50, sf.p50)}  p99 ${ratio(ss.p99, sf.p99)}`,
      `patient presented (!handoff add) -> the incoming clinician's client has the item (${ps.n} items):`,
      `  present  p50 ${ms(ps.p50)}  p99 ${ms(ps.p99)}  max ${ms(ps.max)}`,
      `  floor    p50 ${ms(pf.p50)}  p99 ${ms(pf.p99)}`,
      `  ratio    p50 ${ratio(ps.p50, pf.p50)}  p99 ${ratio(ps.p99, pf.p99)}`,
    ].join("\n");
  } catch (err) {
    process.stderr.write(`[bench] handoffs failed: ${(err as Error).stack}\n`);
    rounds.dumpLogs(40);
    throw err;
  } finally {
    olga?.stop();
    ian?.stop();
    await rounds.stop();
  }
}

/** The room the client is invited to next (the new handoff room). */
function nextInvite(client: sdk.MatrixClient, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(sdk.RoomEvent.MyMembership, onMembership);
      reject(new Error("no handoff room invite arrived"));
    }, timeoutMs);
    function onMembership(room: sdk.Room, membership: string): void {
      if (membership !== "invite") return;
      clearTimeout(timer);
      client.off(sdk.RoomEvent.MyMembership, onMembership);
      resolve(room.roomId);
    }
    client.on(sdk.RoomEvent.MyMembership, onMembership);
  });
}
