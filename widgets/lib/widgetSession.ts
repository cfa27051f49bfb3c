import {
  UnstableApiVersion,
  WidgetApi,
  WidgetApiToWidgetAction,
  type IRoomEvent,
  type IWidgetApiRequest,
} from "matrix-widget-api";
import { RoomFeed } from "./roomFeed.js";
import { themeFrom, type Theme, type WidgetParams } from "./widgetParams.js";

/** What a widget watches in its room: state types and timeline event types. */
export interface RoomWatch {
  state: readonly string[];
  events: readonly string[];
}

export interface WidgetSession {
  api: WidgetApi;
  params: WidgetParams;
  feed: RoomFeed;
  /** Resolves once Element has answered the capability request. */
  ready: Promise<void>;
  /** Reads what the room already holds into the feed (after `ready`). */
  load: () => Promise<void>;
}

type ActionEvent<D> = CustomEvent<IWidgetApiRequest & { data: D }>;

/**
 * matrix-widget-api 1.19 console.logs every message it posts, and a message carries the decrypted
 * request or report (and a reply echoes the event it answers). Clinical text must not land in a
 * console, so this transport posts without logging. Left alone if the library changes shape.
 */
function postWithoutLogging(api: WidgetApi): void {
  const transport = api.transport as unknown as { sendInternal?: unknown; transportWindow?: Window; targetOrigin?: string | null };
  const target = transport.transportWindow;
  if (typeof transport.sendInternal !== "function" || !target) return;
  transport.sendInternal = (message: unknown) => target.postMessage(message, transport.targetOrigin ?? "*");
}

/**
 * Opens the channel to Element. Listeners go on before `start()`, because Element pushes the
 * room's state (update_state, MSC2762) right after approving the capabilities.
 */
export function connectWidget(params: WidgetParams, capabilities: readonly string[], watch: RoomWatch, onTheme: (t: Theme) => void): WidgetSession {
  const api = new WidgetApi(params.widgetId, params.parentOrigin);
  postWithoutLogging(api);
  const feed = new RoomFeed(params.roomId);
  api.requestCapabilities([...capabilities]);

  const handle = <D>(action: WidgetApiToWidgetAction, use: (data: D) => void) =>
    api.on(`action:${action}`, (ev: ActionEvent<D>) => {
      ev.preventDefault();
      use(ev.detail.data);
      // The reply needs only the request id; echoing the event back would copy its content again.
      api.transport.reply({ ...ev.detail, data: {} }, {});
    });
  handle<{ state: IRoomEvent[] }>(WidgetApiToWidgetAction.UpdateState, (data) => feed.addState(data.state));
  // Live events; older clients also send state changes this way.
  handle<IRoomEvent>(WidgetApiToWidgetAction.SendEvent, (ev) => (ev.state_key === undefined ? feed.addEvents([ev]) : feed.addState([ev])));
  handle<{ name?: string }>(WidgetApiToWidgetAction.ThemeChange, (data) => onTheme(themeFrom(data.name)));

  const ready = new Promise<void>((resolve) => api.once("ready", () => resolve()));
  api.start();
  return { api, params, feed, ready, load: () => loadRoom(api, feed, watch) };
}

/** Past events, and state too when the client predates update_state. */
async function loadRoom(api: WidgetApi, feed: RoomFeed, watch: RoomWatch): Promise<void> {
  const rooms = [feed.roomId];
  const versions = await api.getClientVersions();
  const pushesState = versions.includes(UnstableApiVersion.MSC2762_UPDATE_STATE);
  await Promise.all([
    ...watch.events.map(async (type) => feed.addEvents(await api.readRoomEvents(type, 100, undefined, rooms))),
    ...(pushesState ? [] : watch.state.map(async (type) => feed.addState(await api.readStateEvents(type, undefined, undefined, rooms)))),
  ]);
}

/** Capabilities Element did not grant, so the widget can say which ones it is missing. */
export function missingCapabilities(api: WidgetApi, capabilities: readonly string[]): string[] {
  return capabilities.filter((c) => !api.hasCapability(c));
}
