import { ALERT_STATE_TYPE } from "../../appservice/shared/events/alertTerms.js";

/**
 * What the Alerts widget asks Element for: the alerts' state in this room, the bot's encrypted
 * alert messages (Element decrypts them; the value and the patient are only there), and sending
 * a text message, which is how a false positive's reason stays encrypted. Reads and sends name
 * this room explicitly (timeline capability). OpenID needs no capability.
 */
export function alertsCapabilities(roomId: string): string[] {
  return [
    `org.matrix.msc2762.receive.state_event:${ALERT_STATE_TYPE}`,
    `org.matrix.msc2762.receive.event:${MESSAGE}`,
    `org.matrix.msc2762.send.event:${MESSAGE}#m.text`,
    `org.matrix.msc2762.timeline:${roomId}`,
  ];
}

export const MESSAGE = "m.room.message";

export const alertsWatch = { state: [ALERT_STATE_TYPE], events: [MESSAGE] } as const;
