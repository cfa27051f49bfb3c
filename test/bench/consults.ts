/**
 * Consult benchmark: a consult request sent (`!consult` in the requester's encrypted DM with the
 * consult bot) -> the on-call specialist's client has the decrypted request in the new consult
 * room. The floor, measured in the same run and interleaved sample by sample, is one E2EE message
 * from the same requester to the same specialist in an existing DM. A consult does more than
 * relay: it routes, creates an encrypted room, invites, installs the widget and writes state.
 */
import { startConsultScenario } from "../harness/consultScenario.js";
import { Arrivals } from "./paging.js";
import { ms, progress, ratio, summary } from "./stats.js";

const CONSULTS = Number(process.env.BENCH_CONSULTS ?? 30);
const WARMUP = 3;

export async function runConsultBench(): Promise<string> {
  progress(`consults: starting Rounds with the consult schedule; ${CONSULTS} consults after ${WARMUP} warm-up`);
  const s = await startConsultScenario({ LOG_LEVEL: "warn", ROUNDS_CONSULT_ACCEPT_ROUTINE: "86400" });
  const { wendy, lena } = s.people;
  try {
    const floorRoom = await wendy.openEncryptedDm(lena.userId);
    const tag = (body: string) => /bench-(\w+-\d+)/.exec(body)?.[1] ?? null;
    const arrivals = new Arrivals(lena.client, (_ev, body) => tag(body));
    const consult: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < WARMUP + CONSULTS; i++) {
      let t0 = performance.now();
      await wendy.send(floorRoom, `plain message bench-floor-${i}`);
      const f = (await arrivals.wait(`floor-${i}`)).at - t0;
      t0 = performance.now();
      await wendy.send(s.dm, `!consult cardiology routine Encounter/bench-${i} Please advise on the rhythm strip bench-consult-${i}`);
      const c = (await arrivals.wait(`consult-${i}`)).at - t0;
      if (i >= WARMUP) {
        floor.push(f);
        consult.push(c);
      }
      if ((i - WARMUP + 1) % 10 === 0 && i >= WARMUP) progress(`consults: ${i - WARMUP + 1}/${CONSULTS}`);
    }
    const cs = summary(consult);
    const fs = summary(floor);
    return [
      `consult request -> specialist's client has it (${cs.n} consults):`,
      `  consult  p50 ${ms(cs.p50)}  p99 ${ms(cs.p99)}  max ${ms(cs.max)}`,
      `  floor    p50 ${ms(fs.p50)}  p99 ${ms(fs.p99)}  (one E2EE message, same two clients)`,
      `  ratio    p50 ${ratio(cs.p50, fs.p50)}  p99 ${ratio(cs.p99, fs.p99)}`,
    ].join("\n");
  } catch (err) {
    process.stderr.write(`[bench] consults failed: ${(err as Error).stack}\n`);
    s.rounds.dumpLogs(40);
    throw err;
  } finally {
    await s.stop();
  }
}
