import type { IRoomEvent } from "matrix-widget-api";
import { ConsultEventType } from "../../appservice/shared/events/index.js";
import { downloadDecrypted } from "../lib/encryptedFiles.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import { consultCapabilities, consultWatch } from "./capabilities.js";
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
    const rereadRequests = async () => (await widgetApi.readRoomEvents(ConsultEventType.Request, 100, undefined, [feed.roomId])) as IRoomEvent[];
    return <ConsultWidget feed={feed} api={api} roomId={feed.roomId} viewer={viewer} room={room} reportsFor={reportsFor} rereadRequests={rereadRequests} />;
  },
});
