import { useEffect, useRef, useState } from "preact/hooks";
import type { ConsultAttachment, ConsultNoteContent, ConsultReportContent } from "../../appservice/shared/events/index.js";
import type { ConsultView } from "../../appservice/shared/consultWidgetApi.js";
import type { ConsultApi } from "../lib/consultApi.js";
import { ErrorNote, errorText } from "../lib/forms.js";
import { useNow } from "../lib/hooks.js";
import { CandidateActions } from "./CandidateActions.js";
import { CompletedView } from "./CompletedView.js";
import { ConsultantActions } from "./ConsultantActions.js";
import { knownZone, ZoneContext } from "../lib/zone.js";
import { useServices } from "../lib/serviceNames.js";
import { ConsultSummary } from "./ConsultSummary.js";
import { RequestDetails } from "./RequestDetails.js";
import { RequesterActions } from "./RequesterActions.js";
import { isOpen, rolesOf } from "./roles.js";
import type { ConsultRoomData } from "./roomData.js";

/** What the widget does in its room through Element; a fake in tests. */
export interface ConsultRoomActions {
  sendReport: (content: ConsultReportContent) => Promise<string>;
  /** A reason for declining or cancelling, as an encrypted note in the consult room; its event id. */
  sendNote: (content: ConsultNoteContent) => Promise<string>;
  /** Absent when the client cannot download files for widgets. */
  download?: ((attachment: ConsultAttachment) => Promise<Blob>) | undefined;
}

export interface ConsultAppProps extends ConsultRoomData {
  api: ConsultApi;
  roomId: string;
  viewer: string;
  room: ConsultRoomActions;
}

/**
 * The consult room's widget. The state event drives what is shown; an API answer stands in for it
 * from an action until the next state event arrives, and also brings what only the database knows
 * (billing suggestion, rating).
 */
export function ConsultApp({ api, roomId, viewer, room, consult, request, report }: ConsultAppProps) {
  const services = useServices(api);
  const now = useNow();
  const [fromApi, setFromApi] = useState<{ view: ConsultView; basis: typeof consult } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const latest = useRef(consult);
  latest.current = consult;
  const keep = (view: ConsultView) => setFromApi({ view, basis: latest.current });

  useEffect(() => {
    if (!consult) return;
    api
      .consult(consult.id, roomId)
      .then((r) => {
        keep(r.consult);
        setLoadError(null);
      })
      .catch((err: unknown) => setLoadError(`Could not load this consult's details: ${errorText(err)}`));
  }, [api, roomId, consult?.id, consult?.status]);

  if (!consult) {
    return (
      <main>
        <p class="muted" role="status">
          Waiting for the consult's details from the room…
        </p>
      </main>
    );
  }
  const view = fromApi && fromApi.view.id === consult.id ? fromApi.view : null;
  const shown = view && fromApi?.basis === consult ? view : consult;
  const roles = rolesOf(shown, viewer);
  const props = { api, roomId, consult: shown, onView: keep, sendNote: room.sendNote };
  return (
    // Every time on this page is the service's, whatever the device's zone.
    <ZoneContext.Provider value={knownZone(services.zone(shown.service))}>
      <main>
        <ConsultSummary consult={shown} now={now} serviceName={services.name(shown.service)} />
        <ErrorNote message={loadError} />
        {shown.declined_by.includes(viewer) && isOpen(shown) && <p class="muted">You declined this consult.</p>}
        {/* What the clinician must read comes before what they decide, in the DOM and so in tab order: the report (once there is one), the request, then the viewer's actions. */}
        {shown.status === "completed" && <CompletedView report={report} view={view} />}
        <RequestDetails request={request?.content ?? null} download={room.download} />
        {roles.candidate && <CandidateActions {...props} />}
        {roles.consultant && <ConsultantActions {...props} sendReport={room.sendReport} requestEventId={consult?.request_event_id ?? request?.eventId ?? null} />}
        {roles.requester && <RequesterActions {...props} view={view} />}
      </main>
    </ZoneContext.Provider>
  );
}
