/**
 * Paging benchmarks, each against a floor measured in the same run through the same Synapse:
 *  1. `!page` sent -> the on-call's client has the decrypted page, against one-way E2EE
 *     client -> client delivery (wendy -> a plain peer client), interleaved sample by sample.
 *  2. Escalation lateness: when each escalation happened minus its deadline, over many timers,
 *     beside the timer poll interval and bare setTimeout lateness on the same machine.
 *  3. Throughput: pages triggered and delivered per second while other pages keep escalating,
 *     against client -> client messages per second at the same concurrency.
 */
import * as sdk from "matrix-js-sdk";
import { StateType } from "../../appservice/shared/events/index.js";
import { TestClinician } from "../harness/clinician.js";
import { pagingSchedule, startPagingScenario, type PagingScenario } from "../harness/pagingScenario.js";
import type { LogLine } from "../harness/rounds.js";
import { ms, progress, ratio, summary } from "./stats.js";

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const LATENCY_PAGES = num("BENCH_PAGES", 100);
const WARMUP = num("BENCH_PAGE_WARMUP", 5);
const ESCALATION_PAGES = num("BENCH_ESCALATION_PAGES", 70);
/** primary, backup, primary again, backup again (loops: 1): three escalation timers per page, then it runs out. */
const ESCALATIONS_PER_PAGE = 3;
const ESCALATIONS = ESCALATION_PAGES * ESCALATIONS_PER_PAGE;
const ESCALATION_DELAY_S = num("BENCH_ESCALATION_DELAY_S", 3);
const ESCALATION_CONCURRENCY = num("BENCH_ESCALATION_CONCURRENCY", 4);
const BACKGROUND_PAGES = num("BENCH_BACKGROUND_PAGES", 50);
const BACKGROUND_DELAY_S = num("BENCH_BACKGROUND_DELAY_S", 60);
const THROUGHPUT_PAGES = num("BENCH_THROUGHPUT_PAGES", 60);
const THROUGHPUT_BATCH = num("BENCH_THROUGHPUT_BATCH", 4);
const TIMER_POLL_MS = 250; // what startPagingScenario sets ROUNDS_TIMER_POLL_MS to

const MSG_ESCALATED = "page: escalated";
const MSG_EXHAUSTED = "page: escalation exhausted; coordinators told";

interface Arrival {
  at: number;
  body: string;
  event: sdk.MatrixEvent;
}

/**
 * Timestamps decrypted messages on one client as they arrive, by a key taken from the message
 * (one listener, so waiting costs the same for floor and page samples however long the timeline).
 */
export class Arrivals {
  private readonly arrived = new Map<string, Arrival>();
  private readonly waiting = new Map<string, (a: Arrival) => void>();

  constructor(client: sdk.MatrixClient, key: (ev: sdk.MatrixEvent, body: string) => string | null) {
    const seen = new Set<string>();
    const consider = async (ev: sdk.MatrixEvent) => {
      await client.decryptEventIfNeeded(ev);
      const id = ev.getId();
      if (ev.getType() !== "m.room.message" || !id || seen.has(id)) return;
      const body = String(ev.getContent().body ?? "");
      const k = key(ev, body);
      if (!k) return;
      seen.add(id);
      const a = { at: performance.now(), body, event: ev };
      const w = this.waiting.get(k);
      if (w) {
        this.waiting.delete(k);
        w(a);
      } else this.arrived.set(k, a);
    };
    client.on(sdk.RoomEvent.Timeline, (ev) => void consider(ev));
    client.on(sdk.MatrixEventEvent.Decrypted, (ev) => void consider(ev));
  }

  wait(k: string, timeoutMs = 60_000): Promise<Arrival> {
    const a = this.arrived.get(k);
    if (a) {
      this.arrived.delete(k);
      return Promise.resolve(a);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(k);
        reject(new Error(`no message ${k} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(k, (got) => {
        clearTimeout(timer);
        resolve(got);
      });
    });
  }
}

const tagOf = (body: string) => /\[bench:([^\]]+)\]/.exec(body)?.[1] ?? null;
const replyTo = (ev: sdk.MatrixEvent): string | null => ev.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? null;

/** Counts matching Rounds log lines from now on; `reached(n)` resolves once n have been seen. */
function logCounter(s: PagingScenario, match: (l: LogLine) => boolean) {
  let count = 0;
  const goals: { n: number; resolve: () => void }[] = [];
  // waitForLog is the harness's only log hook: a matcher that never matches sees every line.
  void s.rounds
    .waitForLog((l) => {
      if (match(l)) {
        count++;
        for (const g of goals.filter((g) => count >= g.n)) g.resolve();
      }
      return false;
    }, 3_600_000)
    .catch(() => undefined);
  return {
    get count() {
      return count;
    },
    reached(n: number, timeoutMs: number, what: string): Promise<void> {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${count}/${n} ${what} within ${timeoutMs} ms`)), timeoutMs);
        goals.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

/** Bare setTimeout lateness in this process, sampled until stopped: what any timer gets here. */
function sampleTimerFloor(): { stop(): number[] } {
  const samples: number[] = [];
  let running = true;
  const tick = () => {
    if (!running) return;
    const delay = 20 + Math.random() * 180;
    const due = performance.now() + delay;
    setTimeout(() => {
      samples.push(performance.now() - due);
      tick();
    }, delay);
  };
  tick();
  return {
    stop() {
      running = false;
      return samples;
    },
  };
}

/** Prometheus histogram (cumulative buckets) for one label set, from the metrics text. */
function histogram(text: string, name: string, label: string): { buckets: Map<number, number>; sum: number; count: number } {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || !line.includes(label)) continue;
    const value = Number(line.split(" ").pop());
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)![1]!;
      buckets.set(le === "+Inf" ? Infinity : Number(le), value);
    } else if (line.startsWith(`${name}_sum`)) sum = value;
    else if (line.startsWith(`${name}_count`)) count = value;
  }
  return { buckets, sum, count };
}

/** Upper bucket bound for a percentile of the difference of two histogram snapshots. */
function bucketPercentile(before: ReturnType<typeof histogram>, after: ReturnType<typeof histogram>, p: number): number {
  const count = after.count - before.count;
  for (const le of [...after.buckets.keys()].sort((a, b) => a - b)) {
    if (after.buckets.get(le)! - (before.buckets.get(le) ?? 0) >= (p / 100) * count) return le;
  }
  return Infinity;
}

export async function runPagingBench(): Promise<string> {
  progress("paging: starting Rounds with the paging schedule, fake Twilio and four clinicians");
  const s = await startPagingScenario({ LOG_LEVEL: "info" });
  try {
    return await bench(s);
  } catch (err) {
    s.rounds.dumpLogs(40);
    throw err;
  } finally {
    await s.stop();
  }
}

async function bench(s: PagingScenario): Promise<string> {
  const { wendy, lena, liam, cora } = s.people;
  const users = { lena: lena.userId, liam: liam.userId, cora: cora.userId };
  const importSchedule = (delays: { emergent: number; urgent: number; routine: number }, loops: number) =>
    s.rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: pagingSchedule(users, { delays, loops }), headers: { "content-type": "application/yaml" } });
  // Matrix delivery is what is measured here: no SMS fallback timers alongside.
  for (const who of [lena, liam]) {
    await s.rounds.admin(`/_rounds/admin/v1/contacts/${encodeURIComponent(who.userId)}`, {
      method: "PUT",
      body: JSON.stringify({ phone: who === lena ? s.phones.lena : s.phones.liam, smsAfter: { urgent: null, emergent: null, routine: null } }),
    });
  }

  // The floor's peer: a plain E2EE client in a DM with wendy.
  const peer = await TestClinician.create(s.hs, "bench-peer");
  peer.acceptInvites();
  const peerRoom = await wendy.openEncryptedDm(peer.userId);
  const peerArrivals = new Arrivals(peer.client, (ev, body) => (ev.getSender() === wendy.userId ? tagOf(body) : null));
  // Lena: first page messages by tag (not the escalations, which quote the request), and the bot's replies to her.
  const lenaArrivals = new Arrivals(lena.client, (ev, body) => {
    if (ev.getSender() !== s.botUserId) return null;
    if (ev.getContent().msgtype === "m.notice") return replyTo(ev) ? `reply:${replyTo(ev)}` : null;
    return body.startsWith("⬆️") ? null : tagOf(body);
  });
  const wendyArrivals = new Arrivals(wendy.client, (ev) => (ev.getSender() === s.botUserId && ev.getContent().msgtype === "m.notice" ? replyTo(ev) : null));
  const pageNumber = (body: string) => Number(/page #(\d+)/i.exec(body)![1]);

  /** Raises a page from wendy's DM; resolves with the bot's answer once Rounds has armed the timers. */
  const raise = async (urgency: string, tag: string) => {
    const cmd = await wendy.send(s.dm, `!page cardiology ${urgency} bench [bench:${tag}]`);
    const reply = await wendyArrivals.wait(cmd);
    if (!reply.body.startsWith("Paged Cardiology")) throw new Error(`unexpected answer to !page: ${reply.body}`);
    return pageNumber(reply.body);
  };

  // --- 1. page -> on-call's client, against one-way client -> client --------------------------
  progress(`paging 1/3: page latency, ${LATENCY_PAGES} pages and ${LATENCY_PAGES} floor messages interleaved, after ${WARMUP} warm-up`);
  const pageMs: number[] = [];
  const floorMs: number[] = [];
  const floorOnce = async (tag: string) => {
    const t = performance.now();
    await wendy.send(peerRoom, `ping [bench:${tag}]`);
    return (await peerArrivals.wait(tag)).at - t;
  };
  const pageOnce = async (tag: string) => {
    const t = performance.now();
    const cmd = await wendy.send(s.dm, `!page cardiology urgent bench latency [bench:${tag}]`);
    const page = await lenaArrivals.wait(tag);
    const took = page.at - t;
    // Outside the timed part: the requester's answer, then lena acknowledges so pages don't pile up.
    await wendyArrivals.wait(cmd);
    const ack = await lena.send(page.event.getRoomId()!, `!ack ${pageNumber(page.body)}`);
    const answer = await lenaArrivals.wait(`reply:${ack}`);
    if (!answer.body.startsWith("Acknowledged")) throw new Error(`unexpected answer to !ack: ${answer.body}`);
    return took;
  };
  for (let i = 0; i < WARMUP + LATENCY_PAGES; i++) {
    // Alternate which goes first, so neither always follows the other's load.
    let f: number, p: number;
    if (i % 2) {
      f = await floorOnce(`f1-${i}`);
      p = await pageOnce(`p1-${i}`);
    } else {
      p = await pageOnce(`p1-${i}`);
      f = await floorOnce(`f1-${i}`);
    }
    if (i >= WARMUP) {
      pageMs.push(p);
      floorMs.push(f);
    }
    const done = i - WARMUP + 1;
    if (done > 0 && done % 25 === 0) progress(`paging 1/3: ${done}/${LATENCY_PAGES}`);
  }

  // --- 2. escalation lateness --------------------------------------------------------------
  progress(`paging 2/3: escalation lateness, ${ESCALATION_PAGES} routine pages escalating ${ESCALATIONS_PER_PAGE} times each, every ${ESCALATION_DELAY_S} s, raised ${ESCALATION_CONCURRENCY} at a time`);
  await importSchedule({ emergent: 600, urgent: 600, routine: ESCALATION_DELAY_S }, 1);
  const metricsText = async () => (await fetch(`http://127.0.0.1:${s.rounds.metricsPort}/metrics`)).text();
  const histBefore = histogram(await metricsText(), "rounds_timer_lateness_seconds", 'kind="page.escalate"');
  const phaseStart = Date.now();
  const deadlines = new Map<string, number>(); // `${page id}:${step}` -> deadline of that step's escalation timer
  // Reads the pending timers' deadlines before they fire: whenever the page state event changes in the
  // requester's client (Rounds writes it right after arming a step's timer), after each page is raised
  // and after each escalation. Reads are coalesced: a timer armed during a read is seen by the next one.
  let reading: Promise<void> | null = null;
  let again = false;
  const readDeadlines = (): Promise<void> => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      do {
        again = false;
        const { timers } = await s.rounds.admin<{ timers: { kind: string; ref: string; step: string; dueAt: string }[] }>("/_rounds/admin/v1/timers");
        for (const t of timers) if (t.kind === "page.escalate" && !deadlines.has(`${t.ref}:${t.step}`)) deadlines.set(`${t.ref}:${t.step}`, Date.parse(t.dueAt));
      } while (again);
    })().finally(() => (reading = null));
    return reading;
  };
  let watchState = true;
  wendy.client.on(sdk.RoomStateEvent.Events, (ev) => {
    if (watchState && ev.getType() === StateType.Page) void readDeadlines().catch(() => undefined);
  });
  const escalated = logCounter(s, (l) => {
    if (l.msg !== MSG_ESCALATED) return false;
    void readDeadlines().catch(() => undefined);
    return true;
  });
  const exhausted = logCounter(s, (l) => l.msg === MSG_EXHAUSTED);
  const timerFloor = sampleTimerFloor();
  const raisedAt = performance.now();
  for (let i = 0; i < ESCALATION_PAGES; i += ESCALATION_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(ESCALATION_CONCURRENCY, ESCALATION_PAGES - i) }, async (_, j) => {
      await raise("routine", `e2-${i + j}`);
      await readDeadlines();
    });
    await Promise.all(batch);
    const raised = i + batch.length;
    if (raised % 20 === 0 || raised === ESCALATION_PAGES) progress(`paging 2/3: raised ${raised}/${ESCALATION_PAGES} pages (${escalated.count}/${ESCALATIONS} escalations so far)`);
  }
  const raiseSeconds = (performance.now() - raisedAt) / 1000;
  await escalated.reached(ESCALATIONS, 120_000 + ESCALATION_DELAY_S * 1000, "escalations");
  progress(`paging 2/3: all ${ESCALATIONS} escalations done; waiting for the pages to run out of steps (so no timers leak into part 3)`);
  await exhausted.reached(ESCALATION_PAGES, 120_000 + ESCALATION_DELAY_S * 1000, "exhausted pages");
  const floorTimers = timerFloor.stop();
  watchState = false;
  const histAfter = histogram(await metricsText(), "rounds_timer_lateness_seconds", 'kind="page.escalate"');
  const lateness: number[] = [];
  let missing = 0;
  for (const l of s.rounds.logs) {
    if (l.msg !== MSG_ESCALATED || Number(l.time) < phaseStart) continue;
    const deadline = deadlines.get(`${String(l.page)}:${String(l.fromStep)}`);
    if (deadline === undefined) missing++;
    else lateness.push(Number(l.time) - deadline);
  }

  // --- 3. throughput while pages escalate --------------------------------------------------
  progress(`paging 3/3: throughput, ${BACKGROUND_PAGES} background pages escalating every ${BACKGROUND_DELAY_S} s, then ${THROUGHPUT_PAGES} pages and ${THROUGHPUT_PAGES} floor messages in interleaved batches of ${THROUGHPUT_BATCH}`);
  await importSchedule({ emergent: 600, urgent: 600, routine: BACKGROUND_DELAY_S }, 10);
  const bgEscalations = logCounter(s, (l) => l.msg === MSG_ESCALATED);
  for (let i = 0; i < BACKGROUND_PAGES; i += 5) {
    await Promise.all(Array.from({ length: Math.min(5, BACKGROUND_PAGES - i) }, (_, j) => raise("routine", `bg3-${i + j}`)));
  }
  // Start measuring once the background is escalating, not merely open.
  if (BACKGROUND_PAGES) await bgEscalations.reached(1, 60_000 + BACKGROUND_DELAY_S * 1000, "background escalation");
  const openAtStart = (await s.rounds.admin<{ pages: { status: string; exhausted: boolean }[] }>("/_rounds/admin/v1/pages")).pages.filter((p) => !p.exhausted).length;
  const escalationsBefore = bgEscalations.count;
  let pageSeconds = 0;
  let floorSeconds = 0;
  const windowStart = performance.now();
  for (let i = 0; i < THROUGHPUT_PAGES; i += THROUGHPUT_BATCH) {
    const tags = Array.from({ length: Math.min(THROUGHPUT_BATCH, THROUGHPUT_PAGES - i) }, (_, j) => `${i + j}`);
    const floorBatch = async () => {
      const t = performance.now();
      await Promise.all(tags.map(async (tag) => {
        await wendy.send(peerRoom, `ping [bench:f3-${tag}]`);
        await peerArrivals.wait(`f3-${tag}`);
      }));
      floorSeconds += (performance.now() - t) / 1000;
    };
    const pageBatch = async () => {
      const t = performance.now();
      const cmds = await Promise.all(tags.map(async (tag) => {
        const cmd = await wendy.send(s.dm, `!page cardiology urgent bench throughput [bench:p3-${tag}]`);
        await lenaArrivals.wait(`p3-${tag}`);
        return cmd;
      }));
      pageSeconds += (performance.now() - t) / 1000;
      await Promise.all(cmds.map((c) => wendyArrivals.wait(c))); // the requester's answers, untimed
    };
    if ((i / THROUGHPUT_BATCH) % 2) {
      await floorBatch();
      await pageBatch();
    } else {
      await pageBatch();
      await floorBatch();
    }
    const done = i + tags.length;
    if (done % 25 === 0 || done === THROUGHPUT_PAGES) progress(`paging 3/3: ${done}/${THROUGHPUT_PAGES} (${bgEscalations.count - escalationsBefore} background escalations meanwhile)`);
  }
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const escalationsDuring = bgEscalations.count - escalationsBefore;
  peer.stop();

  // --- report ------------------------------------------------------------------------------
  const p = summary(pageMs);
  const f = summary(floorMs);
  const late = summary(lateness);
  const tf = summary(floorTimers);
  const hCount = histAfter.count - histBefore.count;
  const hMean = (1000 * (histAfter.sum - histBefore.sum)) / hCount;
  const bound = (q: number) => {
    const le = bucketPercentile(histBefore, histAfter, q);
    return le === Infinity ? "> 30 s" : `<= ${ms(le * 1000)}`;
  };
  const pagesPerS = THROUGHPUT_PAGES / pageSeconds;
  const floorPerS = THROUGHPUT_PAGES / floorSeconds;
  return `
Paging benchmark (E2EE, one Synapse, PGlite; SMS fallback off so only Matrix delivery is measured)
 1. Page -> on-call's client has the decrypted page (${p.n} pages, ${WARMUP} warm-up; each acknowledged after, untimed)
  floor: client -> peer client (one way)   p50 ${ms(f.p50)}   p99 ${ms(f.p99)}
  !page -> lena's client has the page      p50 ${ms(p.p50)}   p99 ${ms(p.p99)}
  ratio page/floor                         p50 ${ratio(p.p50, f.p50)}   p99 ${ratio(p.p99, f.p99)}
 2. Escalation lateness: "page: escalated" log time minus the step's deadline (timer due_at from the admin API)
    ${late.n} timers (${missing} whose deadline fired before it could be read, left out); ${ESCALATION_PAGES} pages raised in ${raiseSeconds.toFixed(1)} s, ${ESCALATIONS_PER_PAGE} escalations each, ${ESCALATION_DELAY_S} s apart
  deadline -> escalation committed         p50 ${ms(late.p50)}   p99 ${ms(late.p99)}   max ${ms(late.max)}
  reference: timer poll interval           ${TIMER_POLL_MS} ms    ratio p99/poll ${ratio(late.p99, TIMER_POLL_MS)}
  reference: bare setTimeout lateness in the bench process, same window (${tf.n} samples)
                                           p50 ${ms(tf.p50)}   p99 ${ms(tf.p99)}   max ${ms(tf.max)}
  Rounds' own fire lateness (rounds_timer_lateness_seconds{kind="page.escalate"}, ${hCount} timers incl. each page's last, exhausting one;
  buckets only)                            mean ${ms(hMean)}   p50 ${bound(50)}   p99 ${bound(99)}
 3. Throughput while pages escalate (${openAtStart} open pages escalating every ${BACKGROUND_DELAY_S} s; ${escalationsDuring} escalations during the ${windowSeconds.toFixed(1)} s window)
  floor: client -> peer client messages    ${floorPerS.toFixed(2)} msg/s   (${THROUGHPUT_PAGES} in batches of ${THROUGHPUT_BATCH})
  pages triggered + delivered to lena      ${pagesPerS.toFixed(2)} pages/s (${THROUGHPUT_PAGES} in batches of ${THROUGHPUT_BATCH})
  ratio pages/floor                        ${ratio(pagesPerS, floorPerS)}`;
}
