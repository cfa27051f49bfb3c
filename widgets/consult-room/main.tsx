import type { IRoomEvent } from "matrix-widget-api";
import { ConsultEventType } from "../../appservice/shared/events/terms.js";
import { downloadDecrypted } from "../lib/encryptedFiles.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import { consultCapabilities, consultWatch, ROOM_CREATE } from "./capabilities.js";
import { ConsultWidget } from "./ConsultWidget.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: consultCapabilities,
  watch: consultWatch,
  app: ({ session, api, viewer }) => {
    const { api: widgetApi, feed } = session;
    const send = async (type: string, content: Record<string, unknown>, what: string) => {
      const res = await widgetApi.sendRoomEvent(type, content, feed.roomId);
      if (!res.event_id) throw new Error(`Element did not return the ${what}'s event id.`);
      return res.event_id;
    };
    const room = {
      // The client encrypts these events: the report and reasons never leave the room in clear text.
      sendReport: (content: Record<string, unknown>) => send(ConsultEventType.Report, content, "report"),
      sendNote: (content: Record<string, unknown>) => send(ConsultEventType.Note, content, "reason"),
      download: (attachment: Parameters<typeof downloadDecrypted>[1]) =>
        downloadDecrypted(async (mxc) => (await widgetApi.downloadFile(mxc)).file as Blob | ArrayBuffer | string, attachment),
    };
    const reportsFor = async (requestEventId: string) =>
      (await widgetApi.readEventRelations(requestEventId, feed.roomId, "m.reference", ConsultEventType.Report)).chunk as IRoomEvent[];
    // What the client holds, and what the homeserver relates to the room's create event: the bot's
    // requests refer to it, so they are found even after a sync gap dropped them from the timeline.
    const rereadRequests = async () => {
      const held = (await widgetApi.readRoomEvents(ConsultEventType.Request, 100, undefined, [feed.roomId])) as IRoomEvent[];
      const create = feed.stateOf(ROOM_CREATE)[0]?.event_id;
      if (!create) return held;
      const related = (await widgetApi.readEventRelations(create, feed.roomId, "m.reference", ConsultEventType.Request)).chunk as IRoomEvent[];
      return [...held, ...related];
    };
    return <ConsultWidget feed={feed} api={api} roomId={feed.roomId} viewer={viewer} room={room} reportsFor={reportsFor} rereadRequests={rereadRequests} />;
  },
});
