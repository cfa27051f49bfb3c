// What the widget host page and the Node test process say to each other. The page runs
// matrix-widget-api's ClientWidgetApi; every WidgetDriver call it makes is answered in Node by the
// test clinician's real Matrix client, because the page has no client of its own.
import type { IMatrixApiError, IOpenIDCredentials, IRoomEvent, ISendEventDetails, WidgetDriver } from "matrix-widget-api";

/**
 * The driver calls the page forwards to Node (the part of WidgetDriver that Rounds widgets use).
 * Where WidgetDriver's own signature can cross the page boundary as it is, it is reused.
 */
export interface DriverApi {
  validateCapabilities(requested: string[]): Promise<string[]>;
  sendEvent(eventType: string, content: unknown, stateKey: string | null, roomId: string | null): Promise<ISendEventDetails>;
  readRoomTimeline: WidgetDriver["readRoomTimeline"];
  readRoomState: WidgetDriver["readRoomState"];
  readEventRelations: WidgetDriver["readEventRelations"];
  /** The token, or null when the host refuses (as a user declining Element's prompt would). */
  askOpenID(): Promise<IOpenIDCredentials | null>;
  getMediaConfig: WidgetDriver["getMediaConfig"];
  uploadFile(file: FileBytes): Promise<{ contentUri: string }>;
  downloadFile(contentUri: string): Promise<FileBytes>;
  searchUserDirectory: WidgetDriver["searchUserDirectory"];
}

export type DriverMethod = keyof DriverApi;

export const DRIVER_METHODS: readonly DriverMethod[] = [
  "validateCapabilities",
  "sendEvent",
  "readRoomTimeline",
  "readRoomState",
  "readEventRelations",
  "askOpenID",
  "getMediaConfig",
  "uploadFile",
  "downloadFile",
  "searchUserDirectory",
];

/** File contents cross the page boundary as base64: the binding serialises JSON-like values only. */
export interface FileBytes {
  base64: string;
  type: string;
}

/** A Matrix error keeps its detail so the widget sees what Element would send (`matrix_api_error`). */
export type DriverReply =
  | { ok: true; value: unknown }
  | { ok: false; message: string; matrixApiError?: IMatrixApiError };

export interface WidgetDefinition {
  id: string;
  /** The template URL, as in the widget's state event (`$matrix_room_id` and friends are filled in). */
  url: string;
  type?: string;
  name?: string;
  data?: Record<string, unknown>;
  waitForIframeLoad?: boolean;
}

export interface HostConfig {
  widget: WidgetDefinition;
  roomId: string;
  userId: string;
  displayName: string;
  deviceId: string;
  baseUrl: string;
  theme: string;
  language: string;
  knownRooms: string[];
}

/** Milliseconds on the host page's clock (performance.now()). */
export interface HostTimings {
  iframeCreatedMs: number;
  iframeLoadedMs: number | null;
  readyMs: number;
}

export type HostEvent = { kind: "ready"; timings: HostTimings } | { kind: "error"; message: string };

/** Live updates from the clinician's sync, fed to ClientWidgetApi as Element feeds its own. */
export type HostUpdate =
  | { kind: "event"; event: IRoomEvent }
  | { kind: "state"; event: IRoomEvent }
  | { kind: "knownRooms"; roomIds: string[] };

export interface HostPageApi {
  /** Creates the widget iframe and its ClientWidgetApi; returns the URL the iframe loads. */
  open(config: HostConfig): string;
  update(update: HostUpdate): void;
}

declare global {
  interface Window {
    roundsHost: HostPageApi;
    roundsDriver(method: DriverMethod, args: unknown[]): Promise<DriverReply>;
    roundsHostEvent(event: HostEvent): Promise<void>;
  }
}
