// The widget host page, bundled for the browser. It does what Element does for a room widget:
// fill in the URL template, add widgetId and parentUrl, put the widget in a sandboxed iframe and
// talk to it through ClientWidgetApi, locked to the widget's room.
import { ClientWidgetApi, Widget } from "matrix-widget-api";
import { BridgedDriver } from "./bridgedDriver.js";
import type { HostConfig, HostEvent, HostUpdate } from "./protocol.js";

// Element's AppTile iframe settings, so a widget that needs more than Element grants fails here too.
const SANDBOX = "allow-forms allow-popups allow-popups-to-escape-sandbox allow-same-origin allow-scripts allow-presentation allow-downloads";
const ALLOW = "microphone; camera; encrypted-media; autoplay; display-capture; clipboard-write; clipboard-read;";

let api: ClientWidgetApi | null = null;
let driver: BridgedDriver | null = null;

function widgetUrl(widget: Widget, config: HostConfig): string {
  const templated = widget.getCompleteUrl({
    widgetRoomId: config.roomId,
    currentUserId: config.userId,
    userDisplayName: config.displayName,
    clientId: "health.rounds.test-host",
    clientTheme: config.theme,
    clientLanguage: config.language,
    deviceId: config.deviceId,
    baseUrl: config.baseUrl,
  });
  const url = new URL(templated);
  url.searchParams.set("widgetId", widget.id);
  url.searchParams.set("parentUrl", window.location.href.split("#", 2)[0]!);
  // As Element: `$` has no special meaning in a URL, and widgets expect to see it unencoded.
  return url.toString().replace(/%24/g, "$");
}

function report(event: HostEvent): void {
  window.roundsHostEvent(event).catch((e: unknown) => console.error("could not report to the test", e));
}

window.roundsHost = {
  open(config) {
    if (api) throw new Error("this host page already runs a widget");
    const widget = new Widget({
      id: config.widget.id,
      creatorUserId: config.userId,
      type: config.widget.type ?? "m.custom",
      url: config.widget.url,
      name: config.widget.name ?? config.widget.id,
      data: config.widget.data ?? {},
      waitForIframeLoad: config.widget.waitForIframeLoad ?? true,
    });
    const src = widgetUrl(widget, config);
    const iframe = document.createElement("iframe");
    iframe.id = "widget";
    iframe.title = widget.name ?? widget.id;
    iframe.sandbox.value = SANDBOX;
    iframe.allow = ALLOW;
    iframe.src = src;
    const iframeCreatedMs = performance.now();
    let iframeLoadedMs: number | null = null;
    iframe.addEventListener("load", () => (iframeLoadedMs ??= performance.now()), { once: true });
    document.body.append(iframe);

    // Built in the same task as the iframe, so it is listening before the widget can load.
    driver = new BridgedDriver(config.knownRooms);
    api = new ClientWidgetApi(widget, iframe, driver);
    api.setViewedRoomId(config.roomId);
    api.once("ready", () => report({ kind: "ready", timings: { iframeCreatedMs, iframeLoadedMs, readyMs: performance.now() } }));
    api.on("error:preparing", (e: unknown) => report({ kind: "error", message: `capability negotiation failed: ${String(e)}` }));
    return src;
  },

  update(update: HostUpdate) {
    if (!api || !driver) return;
    // Not awaited, as Element does not: a slow widget must not hold up the next update.
    if (update.kind === "event") api.feedEvent(update.event).catch((e: unknown) => console.warn("feedEvent failed", e));
    else if (update.kind === "state") api.feedStateUpdate(update.event).catch((e: unknown) => console.warn("feedStateUpdate failed", e));
    else driver.knownRooms = update.roomIds;
  },
};
