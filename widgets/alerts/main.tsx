import { httpAlertApi } from "../lib/alertApi.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import "../lib/dashboard.css";
import { AlertsApp } from "./AlertsApp.js";
import { alertsCapabilities, alertsWatch, MESSAGE } from "./capabilities.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: alertsCapabilities,
  watch: alertsWatch,
  app: ({ session, apiSession, viewer }) => {
    const { api, feed } = session;
    return (
      <AlertsApp
        api={httpAlertApi(apiSession)}
        feed={feed}
        viewer={viewer}
        sendText={async (body) => {
          const sent = await api.sendRoomEvent(MESSAGE, { msgtype: "m.text", body }, feed.roomId);
          if (!sent.event_id) throw new Error("Element did not return the message's event id.");
          return sent.event_id;
        }}
      />
    );
  },
});
