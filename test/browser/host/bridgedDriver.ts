// Runs in the host page. A WidgetDriver with no Matrix client of its own: each call goes to the
// Node test process (window.roundsDriver), which answers with the clinician's logged-in client.
import {
  OpenIDRequestState,
  WidgetDriver,
  type Capability,
  type IGetMediaConfigResult,
  type IMatrixApiError,
  type IOpenIDUpdate,
  type IReadEventRelationsResult,
  type IRoomEvent,
  type ISearchUserDirectoryResult,
  type ISendEventDetails,
  type IWidgetApiErrorResponseDataDetails,
  type SimpleObservable,
} from "matrix-widget-api";
import type { DriverApi, DriverMethod, FileBytes } from "./protocol.js";

/** A failed driver call; carries the Matrix error so processError can pass it to the widget. */
class DriverCallError extends Error {
  constructor(
    message: string,
    readonly matrixApiError?: IMatrixApiError,
  ) {
    super(message);
  }
}

async function call<M extends DriverMethod>(method: M, ...args: Parameters<DriverApi[M]>): Promise<Awaited<ReturnType<DriverApi[M]>>> {
  const reply = await window.roundsDriver(method, args);
  if (!reply.ok) throw new DriverCallError(reply.message, reply.matrixApiError);
  return reply.value as Awaited<ReturnType<DriverApi[M]>>;
}

async function toBytes(file: XMLHttpRequestBodyInit): Promise<FileBytes> {
  if (file instanceof FormData || file instanceof URLSearchParams) throw new Error("uploadFile takes bytes, not form data");
  const blob = file instanceof Blob ? file : new Blob([file]);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { base64: btoa(binary), type: blob.type };
}

function toBlob(file: FileBytes): Blob {
  const binary = atob(file.base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: file.type });
}

export class BridgedDriver extends WidgetDriver {
  /** getKnownRooms is synchronous in the driver contract, so Node keeps this list current. */
  constructor(public knownRooms: string[]) {
    super();
  }

  override async validateCapabilities(requested: Set<Capability>): Promise<Set<Capability>> {
    return new Set(await call("validateCapabilities", [...requested]));
  }

  override sendEvent(eventType: string, content: unknown, stateKey?: string | null, roomId?: string | null): Promise<ISendEventDetails> {
    return call("sendEvent", eventType, content, stateKey ?? null, roomId ?? null);
  }

  override readRoomTimeline(...args: Parameters<DriverApi["readRoomTimeline"]>): Promise<IRoomEvent[]> {
    return call("readRoomTimeline", ...args);
  }

  override readRoomState(...args: Parameters<DriverApi["readRoomState"]>): Promise<IRoomEvent[]> {
    return call("readRoomState", ...args);
  }

  override readEventRelations(...args: Parameters<DriverApi["readEventRelations"]>): Promise<IReadEventRelationsResult> {
    return call("readEventRelations", ...args);
  }

  override askOpenID(observer: SimpleObservable<IOpenIDUpdate>): void {
    call("askOpenID").then(
      (token) => observer.update(token ? { state: OpenIDRequestState.Allowed, token } : { state: OpenIDRequestState.Blocked }),
      (e: unknown) => {
        console.error("OpenID token request failed", e);
        observer.update({ state: OpenIDRequestState.Blocked });
      },
    );
  }

  override getMediaConfig(): Promise<IGetMediaConfigResult> {
    return call("getMediaConfig");
  }

  override async uploadFile(file: XMLHttpRequestBodyInit): Promise<{ contentUri: string }> {
    return call("uploadFile", await toBytes(file));
  }

  override async downloadFile(contentUri: string): Promise<{ file: XMLHttpRequestBodyInit }> {
    return { file: toBlob(await call("downloadFile", contentUri)) };
  }

  override searchUserDirectory(...args: Parameters<DriverApi["searchUserDirectory"]>): Promise<ISearchUserDirectoryResult> {
    return call("searchUserDirectory", ...args);
  }

  override getKnownRooms(): string[] {
    return this.knownRooms;
  }

  override processError(error: unknown): IWidgetApiErrorResponseDataDetails | undefined {
    return error instanceof DriverCallError && error.matrixApiError ? { matrix_api_error: error.matrixApiError } : undefined;
  }
}
