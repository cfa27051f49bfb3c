import type { IRoomEvent } from "matrix-widget-api";
import { httpHandoffApi } from "../lib/handoffApi.js";
import { mountWidget } from "../lib/mountWidget.js";
import "../lib/widget.css";
import "./handoff.css";
import type { HandoffRoomActions } from "./actionProps.js";
import { handoffCapabilities, handoffWatch } from "./capabilities.js";
import { HandoffWidget } from "./HandoffWidget.js";

void mountWidget(document.getElementById("app")!, {
  capabilities: handoffCapabilities,
  watch: handoffWatch,
  app: ({ session, apiSession, viewer }) => {
    const { api: widgetApi, feed } = session;
    const room: HandoffRoomActions = {
      // The client encrypts the event: clinical text never leaves the room in clear text.
      send: async (type, content) => {
        const res = await widgetApi.sendRoomEvent(type, content, feed.roomId);
        if (!res.event_id) throw new Error("Element did not return the event's id.");
        // Shown at once from what was sent; Element's echo of the same event id is then ignored.
        feed.addEvents([{ type, content, sender: viewer, event_id: res.event_id, room_id: feed.roomId, origin_server_ts: Date.now(), unsigned: {} }]);
        return res.event_id;
      },
      reread: async (missing) => {
        const types = [...new Set(missing.map((m) => m.type))];
        const held = await Promise.all(types.map((t) => widgetApi.readRoomEvents(t, 100, undefined, [feed.roomId])));
        const pairs = [...new Map(missing.filter((m) => m.relatesTo).map((m) => [`${m.relatesTo} ${m.type}`, m])).values()];
        const related = await Promise.all(pairs.map(async (m) => (await widgetApi.readEventRelations(m.relatesTo!, feed.roomId, "m.reference", m.type)).chunk));
        return [...held.flat(), ...related.flat()] as IRoomEvent[];
      },
    };
    return <HandoffWidget feed={feed} api={httpHandoffApi(apiSession)} roomId={feed.roomId} viewer={viewer} room={room} />;
  },
});
