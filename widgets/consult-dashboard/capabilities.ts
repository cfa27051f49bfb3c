import { MatrixCapabilities } from "matrix-widget-api";
import { ConsultEventType } from "../../appservice/shared/events/terms.js";

/**
 * Everything the consults widget asks Element for, and nothing else: send the encrypted request
 * and upload encrypted attachments. The dashboard reads the API, not the room. The timeline
 * capability for its own room lets the request name that room explicitly, so it can never land in
 * whichever room the user happens to be viewing. OpenID needs no capability.
 */
export function consultsCapabilities(roomId: string): string[] {
  return [`org.matrix.msc2762.send.event:${ConsultEventType.Request}`, MatrixCapabilities.MSC4039UploadFile, `org.matrix.msc2762.timeline:${roomId}`];
}

export const consultsWatch = { state: [], events: [] } as const;
