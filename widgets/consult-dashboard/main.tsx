import { MatrixCapabilities } from "matrix-widget-api";
import { ConsultEventType } from "../../appservice/shared/events/terms.js";
import { uploadEncrypted } from "../lib/encryptedFiles.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import "../lib/dashboard.css";
import { consultsCapabilities, consultsWatch } from "./capabilities.js";
import { ConsultsApp } from "./ConsultsApp.js";
import type { RequestRoomActions } from "./NewConsultForm.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: consultsCapabilities,
  // Finding colleagues as Element would; without it, Rounds' staff directory.
  optionalCapabilities: [MatrixCapabilities.MSC3973UserDirectorySearch],
  watch: consultsWatch,
  app: ({ session, api }) => {
    const { api: widgetApi, feed } = session;
    const room: RequestRoomActions = {
      uploadAttachment: (file, mimetype) => uploadEncrypted(async (blob) => (await widgetApi.uploadFile(blob)).content_uri, file, mimetype),
      // The client encrypts the event; the bot relays it into the consult room.
      sendRequest: async (content) => {
        const res = await widgetApi.sendRoomEvent(ConsultEventType.Request, content, feed.roomId);
        if (!res.event_id) throw new Error("Element did not return the request's event id.");
        return res.event_id;
      },
    };
    return <ConsultsApp api={api} roomId={feed.roomId} room={room} />;
  },
});
