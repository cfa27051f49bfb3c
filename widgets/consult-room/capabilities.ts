import { MatrixCapabilities } from "matrix-widget-api";
import { ConsultEventType, StateType } from "../../appservice/shared/events/terms.js";

/**
 * Everything the consult widget asks Element for, and nothing else. The timeline capability for
 * its own room lets reads and the report name that room explicitly, so a report can never land
 * in whichever room the user happens to be viewing. OpenID needs no capability.
 */
export function consultCapabilities(roomId: string): string[] {
  return [
    `org.matrix.msc2762.receive.state_event:${StateType.Consult}`,
    // The create event's id: the relayed requests refer to it (see rereadRequests in main.tsx).
    `org.matrix.msc2762.receive.state_event:${ROOM_CREATE}`,
    `org.matrix.msc2762.receive.event:${ConsultEventType.Request}`,
    `org.matrix.msc2762.receive.event:${ConsultEventType.Report}`,
    `org.matrix.msc2762.send.event:${ConsultEventType.Report}`,
    `org.matrix.msc2762.send.event:${ConsultEventType.Note}`,
    `org.matrix.msc2762.timeline:${roomId}`,
    MatrixCapabilities.MSC4039DownloadFile,
  ];
}

export const ROOM_CREATE = "m.room.create";

export const consultWatch = { state: [StateType.Consult, ROOM_CREATE], events: [ConsultEventType.Request, ConsultEventType.Report] } as const;
