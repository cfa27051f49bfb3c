import type { ConsultNoteContent, ConsultState } from "../../appservice/shared/events/index.js";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import type { ConsultApi } from "../lib/consultApi.js";

/** What every action form gets: the API, the room it acts from, the consult, and where the answer goes. */
export interface ActionProps {
  api: ConsultApi;
  roomId: string;
  consult: ConsultState;
  onView: (view: ConsultView) => void;
  /** Sends a reason as an encrypted note in the consult room; its event id goes to the API instead of the text. */
  sendNote: (content: ConsultNoteContent) => Promise<string>;
}
