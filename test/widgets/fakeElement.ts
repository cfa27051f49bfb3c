import { expect } from "chai";
import type { IRoomEvent } from "matrix-widget-api";
import { installDom } from "./dom.js";

interface Message {
  api: "fromWidget" | "toWidget";
  widgetId: string;
  requestId: string;
  action: string;
  data: Record<string, unknown>;
  response?: Record<string, unknown>;
}

/**
 * Element's side of the postMessage channel, reduced to what the session uses: it answers the
 * widget's requests and sends its own, as ClientWidgetApi does with update_state (MSC2762).
 */
export class FakeElement {
  readonly fromWidget: Message[] = [];
  /** The widget id Element addresses; a second widget in one test takes its own, so an earlier widget's transport ignores it. */
  widgetId = "rounds-consult";
  private seq = 0;
  constructor(
    private readonly versions: string[],
    private readonly timeline: IRoomEvent[],
    private readonly openId: Record<string, unknown> = { state: "blocked" },
  ) {}

  postMessage = (msg: Message, origin: string) => {
    expect(origin).to.equal("https://element.example");
    this.fromWidget.push(msg);
    if (msg.api !== "fromWidget" || msg.response) return;
    const response =
      msg.action === "supported_api_versions"
        ? { supported_versions: this.versions }
        : msg.action === "org.matrix.msc2876.read_events"
          ? { events: this.timeline.filter((e) => e.type === msg.data.type) }
          : msg.action === "get_openid"
            ? this.openId
            : {};
    setTimeout(() => this.deliver({ ...msg, response }), 0);
  };

  private deliver(data: Message) {
    window.dispatchEvent(new window.MessageEvent("message", { data }));
  }

  /** What Element does once the iframe has loaded: offer capabilities, then say which were approved. */
  async approveAll(): Promise<void> {
    const caps = await this.request("capabilities", {});
    await this.request("notify_capabilities", { requested: caps.capabilities, approved: caps.capabilities });
  }

  /** Sends a request to the widget and resolves with its reply. */
  async request(action: string, data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const requestId = `host-${++this.seq}`;
    this.deliver({ api: "toWidget", widgetId: this.widgetId, requestId, action, data });
    // Up to 5 s: a loaded machine delays timers, and that is not the widget failing to answer.
    for (const until = Date.now() + 5000; Date.now() < until; ) {
      const reply = this.fromWidget.find((m) => m.requestId === requestId && m.response);
      if (reply) return reply.response!;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`no reply to ${action}`);
  }
}

const g = globalThis as Record<string, unknown>;

/** A DOM as a widget's frame sees it: the transport listens on its global scope, as in a browser. */
export function installFrame(): () => Promise<void> {
  const restore = installDom();
  g.addEventListener = window.addEventListener.bind(window);
  g.removeEventListener = window.removeEventListener.bind(window);
  return async () => {
    delete g.addEventListener;
    delete g.removeEventListener;
    delete g.parent;
    await restore();
  };
}

/** Element as the frame's parent, or none (null) for a page opened outside Element. */
export function embedIn(host: FakeElement | null): void {
  if (host) g.parent = host;
  else delete g.parent;
  Object.defineProperty(window, "parent", { value: host ?? window, configurable: true });
}
