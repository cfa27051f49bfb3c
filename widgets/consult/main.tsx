import type { IRoomEvent } from "matrix-widget-api";
import { ConsultEventType } from "../../appservice/shared/events.js";
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
    const room = {
      // The client encrypts the event: the report never leaves the room in clear text.
      sendReport: async (content: Record<string, unknown>) => {
        const res = await widgetApi.sendRoomEvent(ConsultEventType.Report, content, feed.roomId);
        if (!res.event_id) throw new Error("Element did not return the report's event id.");
        return res.event_id;
      },
      download: (attachment: Parameters<typeof downloadDecrypted>[1]) =>
        downloadDecrypted(async (mxc) => (await widgetApi.downloadFile(mxc)).file as Blob | ArrayBuffer | string, attachment),
    };
    const reportsFor = async (requestEventId: string) =>
      (await widgetApi.readEventRelations(requestEventId, feed.roomId, "m.reference", ConsultEventType.Report)).chunk as IRoomEvent[];
    return <ConsultWidget feed={feed} api={api} roomId={feed.roomId} viewer={viewer} room={room} reportsFor={reportsFor} />;
  },
});
