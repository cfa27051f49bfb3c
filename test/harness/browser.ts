// Real-browser widget tests: one Chromium per test run, and a host page that runs a widget the way
// Element does (ClientWidgetApi, widget in an iframe on its own origin), with a driver backed by
// a test clinician's real E2EE Matrix client. See test/browser/widgetHost.test.ts for its use.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from "playwright-core";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { bundleForBrowser } from "../browser/host/bundle.js";
import { ClientDriver } from "../browser/host/clientDriver.js";
import { knownRooms, startLiveFeed } from "../browser/host/liveFeed.js";
import type { HostConfig, HostEvent, HostTimings, HostUpdate, WidgetDefinition } from "../browser/host/protocol.js";
import { serveStatic, type StaticServer } from "../browser/host/staticServer.js";
import type { TestClinician } from "./clinician.js";
import { waitUntil } from "./waitUntil.js";

export type { WidgetDefinition } from "../browser/host/protocol.js";

// DESIGN §3: Debian's Chromium; `npx playwright install` cannot download here.
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface OpenWidgetOptions {
  clinician: TestClinician;
  /** The room the widget lives in (Element locks a room widget to its room). */
  roomId: string;
  widget: WidgetDefinition;
  capabilities?: { deny?: readonly string[] };
  /** Whether the clinician lets the widget have an OpenID token; default allow. */
  openId?: "allow" | "block";
  theme?: "light" | "dark";
  language?: string;
  /** How long to wait for capability negotiation to finish; default 30 s. */
  readyTimeoutMs?: number;
}

export interface WidgetTimings extends HostTimings {
  /** iframe created → ClientWidgetApi "ready" (capabilities negotiated), in ms. */
  iframeToReadyMs: number;
}

export interface WidgetHandle {
  page: Page;
  /** The widget's iframe: `handle.frame.getByLabel("Clinical question").waitFor()` waits for its UI. */
  frame: Frame;
  /** The URL the iframe loaded, after template substitution and widgetId/parentUrl. */
  url: string;
  /** Every capability the widget asked for, in its order, across negotiation rounds. */
  requestedCapabilities(): Promise<string[]>;
  approvedCapabilities(): Promise<string[]>;
  timings: WidgetTimings;
  /** Console lines of the host page and the widget, for a failing test's message. */
  consoleMessages(): string[];
  /**
   * Runs axe-core on the widget as it is now, at 1280 px and at 380 px (Element's side panel on a
   * phone), and checks nothing overflows sideways at 380 px; throws naming each violation and `state`.
   */
  /**
   * axe-core at 1280 and 380 px, and no overflow at 380 px. With `screenshot` named and
   * ROUNDS_SCREENSHOTS set to a folder, also saves the 380 px view there as `<screenshot>.png`
   * (scripts/screenshots.mjs takes the README's pictures this way).
   */
  checkAccessibility(state: string, screenshot?: string): Promise<void>;
  /** What the host client holds of the widget's room (types, decryption, timelines), for a failing test's message. */
  timelineReport(): string;
  close(): Promise<void>;
}

let browser: Promise<Browser> | null = null;
let hostServer: Promise<StaticServer> | null = null;

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!existsSync(path)) throw new Error(`Chromium not found at ${path}: run \`node scripts/ensure-chromium.mjs\` (or npm test, which runs it) or set CHROMIUM_PATH`);
  return path;
}

/** The run's one Chromium, launched on first use. */
export function sharedBrowser(): Promise<Browser> {
  browser ??= chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  return browser;
}

function host(): Promise<StaticServer> {
  hostServer ??= (async () => {
    const script = await bundleForBrowser(join(repoRoot, "test", "browser", "host", "hostPage.ts"), "widget-host");
    const html = '<!doctype html><html><head><meta charset="utf-8"><title>Rounds widget host</title>' +
      "<style>body{margin:0}iframe{border:0;width:100vw;height:100vh;display:block}</style></head>" +
      '<body><script src="/host.js"></script></body></html>';
    return serveStatic("localhost", {
      "/": { contentType: "text/html; charset=utf-8", body: html },
      "/host.js": { contentType: "text/javascript; charset=utf-8", body: script },
    });
  })();
  return hostServer;
}

export async function closeBrowser(): Promise<void> {
  const [b, h] = [browser, hostServer];
  browser = hostServer = null;
  await Promise.all([b?.then((x) => x.close()), h?.then((x) => x.close())]);
}

// A root-level hook: the first spec that imports this module registers it, so Chromium lives for
// the whole run and closes at its end. (If the run is killed, playwright kills Chromium on exit.)
if (typeof after === "function") after(closeBrowser);

/** The widgets installed in the room's state, as Element finds them (legacy and stable types). */
export function installedWidgets(clinician: TestClinician, roomId: string): WidgetDefinition[] {
  const state = clinician.client.getRoom(roomId)?.currentState;
  const events = ["im.vector.modular.widgets", "m.widget"].flatMap((type) => state?.getStateEvents(type) ?? []);
  return events.flatMap((e) => {
    const c = e.getContent();
    if (typeof c.id !== "string" || typeof c.url !== "string") return []; // `{}` means removed
    return [{ id: c.id, url: c.url, type: c.type, name: c.name, data: c.data, waitForIframeLoad: c.waitForIframeLoad }];
  });
}

const WIDTHS = [1280, 380] as const;

/** axe-core's browser build, read once: it runs inside the widget's own frame. */
let axeSource: string | null = null;

/**
 * axe-core run inside the widget's frame itself. (@axe-core/playwright finishes every run in a
 * blank page of the same context, after which the widget's messages to its host stopped arriving
 * in 3 of 5 runs, and its legacy mode does not enter a frame of another origin.)
 */
async function checkAccessibility(page: Page, frame: Frame, state: string, screenshot?: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  const problems: string[] = [];
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  try {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: size.height });
      if (!(await frame.evaluate(() => "axe" in window))) await frame.evaluate(axeSource);
      const violations = await frame.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
        return (await axe.run(document, { resultTypes: ["violations"] })).violations;
      });
      for (const v of violations) problems.push(`${width} px: ${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      const overflow = await frame.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (width === 380 && overflow > 0) problems.push(`380 px: the page is ${overflow} px wider than the panel`);
      const folder = process.env.ROUNDS_SCREENSHOTS;
      if (width === 380 && screenshot && folder) {
        // The top of the widget, as a clinician opening it sees it.
        await frame.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(folder, `${screenshot}.png`) });
      }
    }
  } finally {
    await page.setViewportSize(size);
  }
  if (problems.length) throw new Error(`accessibility of ${state}:\n${problems.join("\n")}`);
}

/** Waits until `who` is joined to the room and has synced the widget `id` installed in it; a timeout says what the client holds. */
export async function installedWidget(who: TestClinician, roomId: string, id: string, timeoutMs: number): Promise<WidgetDefinition> {
  try {
    return await waitUntil(
      async () => (who.client.getRoom(roomId)?.getMyMembership() === "join" ? installedWidgets(who, roomId).find((w) => w.id === id) : undefined),
      `${who.userId} to join ${roomId} and see widget ${id}`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${timelineReport(who, roomId)}`);
  }
}

/** One line per event the clinician's client holds for the room: whether a widget could read it. */
export function timelineReport(clinician: TestClinician, roomId: string): string {
  const room = clinician.client.getRoom(roomId);
  if (!room) return `${clinician.userId} has no room ${roomId}`;
  const live = room.getLiveTimeline();
  const timelines = room.getUnfilteredTimelineSet().getTimelines();
  const lines = [`${clinician.userId} in ${roomId}: ${room.getMyMembership()}, ${timelines.length} timeline(s), live has ${live.getEvents().length} event(s)`];
  for (const t of timelines) {
    for (const ev of t.getEvents()) {
      const failed = ev.isDecryptionFailure() ? ` undecryptable (${ev.decryptionFailureReason ?? "?"})` : "";
      lines.push(`  ${t === live ? "live" : "gap "} ${ev.getId()} ${ev.getWireType()}→${ev.getType()} from ${ev.getSender()}${failed}`);
    }
  }
  return lines.join("\n");
}

async function displayName(t: TestClinician, roomId: string): Promise<string> {
  const member = t.client.getRoom(roomId)?.getMember(t.userId)?.rawDisplayName;
  if (member && member !== t.userId) return member;
  return (await t.client.getProfileInfo(t.userId).catch(() => ({ displayname: undefined }))).displayname ?? t.userId;
}

function within<T>(promise: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why())), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Opens `widget` in its own browser context for `clinician` in `roomId`, and resolves once
 * capability negotiation has finished (ClientWidgetApi "ready"). The widget's own UI may still be
 * loading: wait for it through `frame`.
 */
export async function openWidget(opts: OpenWidgetOptions): Promise<WidgetHandle> {
  const { client } = opts.clinician;
  const [b, server] = await Promise.all([sharedBrowser(), host()]);
  const context: BrowserContext = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const lines: string[] = [];
  page.on("console", (m) => lines.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => lines.push(`[pageerror] ${e.message}`));

  const driver = new ClientDriver(client, opts.roomId, { deny: opts.capabilities?.deny ?? [], openId: opts.openId ?? "allow" });
  let settle!: { ready: (t: HostTimings) => void; fail: (e: Error) => void };
  const ready = new Promise<HostTimings>((resolve, reject) => (settle = { ready: resolve, fail: reject }));
  ready.catch(() => {}); // a failure may come before it is awaited below; it is still seen there
  // Bindings reach every frame; only the host page may use them, or a widget could skip ClientWidgetApi.
  await page.exposeBinding("roundsDriver", ({ frame }, method: string, args: unknown[]) =>
    frame === page.mainFrame() ? driver.call(method, args) : { ok: false, message: "not the host page" },
  );
  await page.exposeBinding("roundsHostEvent", ({ frame }, ev: HostEvent) => {
    if (frame !== page.mainFrame()) return;
    if (ev.kind === "ready") settle.ready(ev.timings);
    else settle.fail(new Error(ev.message));
  });

  let stopFeed = (): void => {};
  const close = async (): Promise<void> => {
    stopFeed();
    await context.close();
  };
  try {
    await page.goto(`${server.origin}/`);
    const config: HostConfig = {
      widget: opts.widget,
      roomId: opts.roomId,
      userId: opts.clinician.userId,
      displayName: await displayName(opts.clinician, opts.roomId),
      deviceId: client.getDeviceId() ?? "",
      baseUrl: client.baseUrl,
      theme: opts.theme ?? "light",
      language: opts.language ?? "en",
      knownRooms: knownRooms(client),
    };
    const url = await page.evaluate((c) => window.roundsHost.open(c), config);
    const frame = await (await page.waitForSelector("iframe#widget", { state: "attached" })).contentFrame();
    if (!frame) throw new Error("the widget iframe has no frame");

    // Updates go to the page one at a time, in sync order.
    let queue = Promise.resolve();
    let open = true;
    const push = (u: HostUpdate): void => {
      queue = queue.then(() => (open ? page.evaluate((x) => window.roundsHost.update(x), u) : undefined)).catch(() => {});
    };
    const stop = startLiveFeed(client, push);
    stopFeed = () => {
      open = false;
      stop();
    };

    const readyMs = opts.readyTimeoutMs ?? 30_000;
    const t = await within(ready, readyMs, () => `widget ${opts.widget.id} was not ready within ${readyMs} ms (${url})\n${lines.join("\n")}`);
    return {
      page,
      frame,
      url,
      requestedCapabilities: async () => [...driver.requested],
      approvedCapabilities: async () => [...driver.approved],
      timings: { ...t, iframeToReadyMs: t.readyMs - t.iframeCreatedMs },
      consoleMessages: () => [...lines],
      timelineReport: () => timelineReport(opts.clinician, opts.roomId),
      checkAccessibility: (state, screenshot) => checkAccessibility(page, frame, state, screenshot),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
