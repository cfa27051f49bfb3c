/**
 * Widget cold load in Chromium: from the host page creating the widget's iframe to the widget's
 * form being usable, for the `consults` widget (the "Clinical question" field) and the `consult`
 * widget (its status and the requester's "Cancel consult" button enabled).
 * Each load is in a fresh browser context, so nothing is cached. The floor, measured in the same
 * run and the same host page: a minimal static HTML page on another origin, iframe creation → its
 * load event. Also the size of each widget's bundle (the files its index.html references).
 * BENCH_WIDGET_LOADS sets the number of loads of each (default 20), after 2 warm-up loads.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { WIDGET_PATH } from "../../appservice/shared/widgetApiPaths.js";
import { installedWidgets, openWidget, sharedBrowser, type WidgetDefinition } from "../harness/browser.js";
import type { TestClinician } from "../harness/clinician.js";
import { startConsultScenario } from "../harness/consultScenario.js";
import { waitUntil } from "../harness/waitUntil.js";
import { serveStatic } from "../browser/host/staticServer.js";
import { ms, progress, ratio, summary } from "./stats.js";

const LOADS = Number(process.env.BENCH_WIDGET_LOADS ?? 20);
const WARMUP = 2;
const DIST = join(repoRoot, "widgets", "dist");
const FLOOR_HTML = '<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body><p>floor</p></body></html>';

/** What "usable" means for each widget: every selector matches an element that is not disabled. */
const INTERACTIVE: Record<"consult-dashboard" | "consult-room", string[]> = {
  "consult-dashboard": ["textarea#question"],
  "consult-room": ['section[aria-label="Consult status"] [data-status]', 'form[aria-label="Cancel the consult"] button[type="submit"]'],
};

/**
 * Runs in the widget's frame: resolves with the epoch time (ms, sub-ms precision) at which every
 * selector matches a rendered element that is not disabled. Kept as source text so that the
 * TypeScript loader's helpers never end up in the page.
 */
const STAMP_WHEN_USABLE = `(selectors) => new Promise((resolve, reject) => {
  const usable = () => selectors.every((sel) => {
    const el = document.querySelector(sel);
    return !!el && !el.disabled && el.getClientRects().length > 0;
  });
  const stamp = () => performance.timeOrigin + performance.now();
  if (usable()) return resolve(stamp());
  // Woken by each DOM change; the deadline only turns a widget that never renders into an error.
  const observer = new MutationObserver(() => {
    if (!usable()) return;
    const at = stamp();
    observer.disconnect();
    clearTimeout(deadline);
    resolve(at);
  });
  const deadline = setTimeout(() => {
    observer.disconnect();
    reject(new Error("not usable within 60 s: " + selectors.join(" + ")));
  }, 60000);
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})`;

interface LoadSample {
  /** iframe created → its load event. */
  loaded: number;
  /** iframe created → ClientWidgetApi ready (capabilities negotiated). */
  ready: number;
  /** iframe created → the widget's form usable. */
  interactive: number;
  /** iframe created → each step inside the frame (its HTML, its scripts run, mountWidget's marks). */
  steps: Record<string, number>;
}

/** The frame's own timeline: navigation timing and mountWidget's performance marks. */
const FRAME_STEPS = `() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const files = performance.getEntriesByType("resource").filter((r) => /\\.(js|css)$/.test(new URL(r.name).pathname));
  const steps = { "HTML received": nav.responseEnd, "scripts and styles fetched": Math.max(...files.map((r) => r.responseEnd)), "scripts run": nav.domContentLoadedEventStart };
  for (const m of performance.getEntriesByType("mark")) if (m.name.startsWith("rounds:")) steps[m.name.slice(7)] = m.startTime;
  return { origin: performance.timeOrigin, steps };
}`;

/** Raw and gzip bytes of a built widget: its index.html and every file it references. */
export function bundleSize(widget: "consult-dashboard" | "consult-room"): { files: string[]; raw: number; gzip: number } {
  const html = readFileSync(join(DIST, widget, "index.html"));
  const refs = [...html.toString("utf8").matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => r.startsWith(`${WIDGET_PATH}/`));
  const files = [`${widget}/index.html`, ...refs.map((r) => r.slice(WIDGET_PATH.length + 1))];
  const bodies = files.map((f) => readFileSync(join(DIST, f)));
  return { files, raw: bodies.reduce((n, b) => n + b.length, 0), gzip: bodies.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0) };
}

async function installed(who: TestClinician, roomId: string, id: string): Promise<WidgetDefinition> {
  return waitUntil(
    async () => (who.client.getRoom(roomId)?.getMyMembership() === "join" ? installedWidgets(who, roomId).find((w) => w.id === id) : undefined),
    `${who.userId} to see widget ${id} in ${roomId}`,
    120_000,
  ).catch((err: Error) => {
    const room = who.client.getRoom(roomId);
    throw new Error(`${err.message} (membership ${room?.getMyMembership() ?? "no room"}, widgets ${installedWidgets(who, roomId).map((w) => w.id).join(", ") || "none"})`);
  });
}

/** One cold load of `widget`; times are from the host page's iframe creation. */
async function loadOnce(who: TestClinician, roomId: string, widget: WidgetDefinition, selectors: string[]): Promise<LoadSample> {
  const h = await openWidget({ clinician: who, roomId, widget, readyTimeoutMs: 60_000 });
  try {
    // Watches the DOM from now on (the form needs the OpenID exchange and an API call after
    // "ready", so it cannot be usable yet) and stamps the moment every selector is usable.
    const usableAt = (await h.frame.evaluate(`(${STAMP_WHEN_USABLE})(${JSON.stringify(selectors)})`)) as number;
    const hostOrigin = await h.page.evaluate(() => performance.timeOrigin);
    const created = hostOrigin + h.timings.iframeCreatedMs;
    const frame = (await h.frame.evaluate(`(${FRAME_STEPS})()`)) as { origin: number; steps: Record<string, number> };
    const steps = Object.fromEntries(Object.entries(frame.steps).map(([k, t]) => [k, frame.origin + t - created]));
    return {
      steps,
      loaded: h.timings.iframeLoadedMs === null ? Number.NaN : h.timings.iframeLoadedMs - h.timings.iframeCreatedMs,
      ready: h.timings.iframeToReadyMs,
      interactive: usableAt - created,
    };
  } finally {
    await h.close();
  }
}

/** One cold load of the floor page into an iframe of a fresh host page: creation → load event. */
async function floorOnce(hostUrl: string, floorUrl: string): Promise<number> {
  const context = await (await sharedBrowser()).newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(hostUrl);
    return await page.evaluate(
      (src) =>
        new Promise<number>((resolve, reject) => {
          const iframe = document.createElement("iframe");
          const t0 = performance.now();
          iframe.addEventListener("load", () => resolve(performance.now() - t0), { once: true });
          iframe.addEventListener("error", () => reject(new Error("floor iframe failed")), { once: true });
          iframe.src = src;
          document.body.append(iframe);
        }),
      floorUrl,
    );
  } finally {
    await context.close();
  }
}

async function measure<T>(label: string, once: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < WARMUP + LOADS; i++) {
    const sample = await once();
    if (i >= WARMUP) out.push(sample);
    if (i + 1 - WARMUP === LOADS || (i >= WARMUP && (i + 1 - WARMUP) % 10 === 0)) progress(`${label}: ${i + 1 - WARMUP}/${LOADS}`);
  }
  return out;
}

export async function runWidgetLoadBench(): Promise<string> {
  progress(`widget load: starting Synapse, Rounds and Chromium; ${LOADS} cold loads of each, after ${WARMUP} warm-up`);
  const s = await startConsultScenario({ LOG_LEVEL: "warn", ROUNDS_WIDGET_RATE_LIMIT: "100000" });
  const floorServer = await serveStatic("127.0.0.1", { "/floor.html": { contentType: "text/html; charset=utf-8", body: FLOOR_HTML } });
  try {
    const { wendy } = s.people;
    // Wendy's Consults room (consults widget), and a consult she requested (consult widget).
    const cmd = await wendy.send(s.dm, "!consult");
    const opened = await wendy.waitForNotice(s.dm, s.consultBot, { after: cmd, timeoutMs: 120_000 });
    const consultsRoom = /https:\/\/matrix\.to\/#\/(!\S+?)\.?(?:\s|$)/.exec(opened.body)?.[1];
    if (!consultsRoom) throw new Error(`no Consults room in: ${opened.body}`);
    const request = await wendy.send(s.dm, "!consult cardiology routine Encounter/bench-1 Please review the rate control plan before discharge");
    const sent = await wendy.waitForNotice(s.dm, s.consultBot, { after: request, timeoutMs: 120_000 });
    const consultRoom = /It is discussed in https:\/\/matrix\.to\/#\/(!\S+?)\.?$/.exec(sent.body)?.[1];
    if (!consultRoom) throw new Error(`no consult room in: ${sent.body}`);
    const consults = await installed(wendy, consultsRoom, "rounds-consults");
    const consult = await installed(wendy, consultRoom, "rounds-consult");
    // The request must be decrypted by Wendy's client before the widget can show it.
    await wendy.waitForMessage((b) => b.includes("rate control plan"), { roomId: consultRoom, sender: s.consultBot, what: "the relayed request", timeoutMs: 120_000 });

    const consultsLoads = await measure("consults widget", () => loadOnce(wendy, consultsRoom, consults, INTERACTIVE["consult-dashboard"]));
    const consultLoads = await measure("consult widget", () => loadOnce(wendy, consultRoom, consult, INTERACTIVE["consult-room"]));

    // The host page's URL: open one widget to learn it (the harness serves it on first use).
    const probe = await openWidget({ clinician: wendy, roomId: consultsRoom, widget: consults, readyTimeoutMs: 60_000 });
    const hostUrl = probe.page.url();
    await probe.close();
    const floor = await measure("floor page", () => floorOnce(hostUrl, `${floorServer.origin}/floor.html`));

    const f = summary(floor);
    const lines = [
      "",
      `Widget cold load in Chromium (${LOADS} loads each, fresh browser context each, times from iframe creation)`,
      `  floor: static page on another origin, iframe created → load event: p50 ${ms(f.p50)}, p99 ${ms(f.p99)}`,
    ];
    for (const [name, samples] of [
      ["consult-dashboard", consultsLoads],
      ["consult-room", consultLoads],
    ] as const) {
      const loaded = summary(samples.map((x) => x.loaded));
      const ready = summary(samples.map((x) => x.ready));
      const usable = summary(samples.map((x) => x.interactive));
      const size = bundleSize(name);
      lines.push(
        `  ${name} widget (usable = ${INTERACTIVE[name].join(" + ")}):`,
        `    iframe load event   p50 ${ms(loaded.p50)} (${ratio(loaded.p50, f.p50)} floor), p99 ${ms(loaded.p99)} (${ratio(loaded.p99, f.p99)} floor)`,
        `    widget API ready    p50 ${ms(ready.p50)} (${ratio(ready.p50, f.p50)} floor), p99 ${ms(ready.p99)} (${ratio(ready.p99, f.p99)} floor)`,
        `    form usable         p50 ${ms(usable.p50)} (${ratio(usable.p50, f.p50)} floor), p99 ${ms(usable.p99)} (${ratio(usable.p99, f.p99)} floor)`,
        `    where the time goes (p50 from iframe creation): ${Object.keys(samples[0]!.steps)
          .map((k) => `${k} ${ms(summary(samples.map((x) => x.steps[k] ?? Number.NaN)).p50)}`)
          .join(", ")}`,
        `    bundle: ${size.files.length} files, ${(size.raw / 1024).toFixed(1)} KiB raw, ${(size.gzip / 1024).toFixed(1)} KiB gzip (${size.files.join(", ")})`,
      );
    }
    return lines.join("\n");
  } finally {
    await floorServer.close();
    await s.stop();
  }
}
