import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { isClear } from "../../appservice/shared/handoffApiTerms.js";
import type { HandoffView } from "../../appservice/shared/handoffApi.js";
import { Disclosure } from "../lib/disclosure.js";
import { ErrorNote, errorText } from "../lib/forms.js";
import type { HandoffApi } from "../lib/handoffApi.js";
import { knownZone, ZoneContext } from "../lib/zone.js";
import { useNow } from "../lib/hooks.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { useRereadWhile } from "../lib/useRereadWhile.js";
import type { HandoffRoomActions } from "./actionProps.js";
import { CancelForm } from "./CancelForm.js";
import { Checklist } from "./Checklist.js";
import { ClosedView } from "./ClosedView.js";
import { HandoffSummary } from "./HandoffSummary.js";
import { missingEvents, missingKey } from "./missingEvents.js";
import { PatientList } from "./PatientList.js";
import type { HandoffRoomData } from "./roomData.js";
import { isOpen, rolesOf } from "./roles.js";
import { canSignOff, OverrideForm, SignOffPanel } from "./SignOffPanel.js";
import { Person } from "../lib/people.js";

export interface HandoffAppProps extends HandoffRoomData {
  api: HandoffApi;
  roomId: string;
  viewer: string;
  room: HandoffRoomActions;
  /** The room's events as the widget holds them; re-reads of missing ones go into it. */
  feed?: RoomFeed;
  /** Waits between those re-reads, in ms; the last one repeats. */
  rereadAfterMs?: readonly number[];
}

/**
 * The handoff room's widget. The state event says what changed; the server's view (reloaded on
 * every new state, and returned by every action) gives the patients, questions, tasks and
 * checklist; the decrypted room events give their text.
 */
export function HandoffApp({ api, roomId, viewer, room, handoff, stateEventId, content, feed, rereadAfterMs }: HandoffAppProps) {
  const now = useNow();
  const [fromApi, setFromApi] = useState<{ view: HandoffView; basis: string | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const basis = useRef(stateEventId);
  basis.current = stateEventId;
  const keep = (view: HandoffView) => setFromApi({ view, basis: basis.current });

  useEffect(() => {
    if (!handoff) return;
    let current = true;
    api
      .handoff(handoff.id, roomId)
      .then((r) => {
        if (!current) return;
        keep(r.handoff);
        setLoadError(null);
      })
      .catch((err: unknown) => current && setLoadError(`Could not load this handoff's details: ${errorText(err)}`));
    return () => {
      current = false;
    };
  }, [api, roomId, handoff?.id, stateEventId]);

  // The server's view names every item, read-back, question and answer; one the room has not
  // given the widget (its key still on the way, or a sync gap) is read again until it arrives.
  const loaded = fromApi && handoff && fromApi.view.id === handoff.id ? fromApi.view : null;
  const missing = loaded ? missingEvents(loaded, content) : [];
  const key = missingKey(missing);
  const reread = useMemo(() => (room.reread && key ? () => room.reread!(missing) : undefined), [room, key]);
  useRereadWhile(key !== "" && feed !== undefined, reread, feed!, rereadAfterMs);

  if (!handoff) {
    return (
      <main>
        <p class="muted" role="status">
          Waiting for the handoff's details from the room…
        </p>
      </main>
    );
  }
  const view = fromApi && fromApi.view.id === handoff.id ? fromApi.view : null;
  // A state event newer than the view has the latest status and counts; the reload brings the rest.
  const shown = view ? (fromApi?.basis === stateEventId ? view : { ...view, ...handoff }) : null;
  const roles = rolesOf(handoff, viewer);
  return (
    // Every time on this page is the unit's, whatever the device's zone.
    <ZoneContext.Provider value={knownZone(view?.time_zone)}>
      <main>
        <HandoffSummary handoff={shown ?? handoff} now={now} />
        <ErrorNote message={loadError} />
        {!roles.participant && (
          <p class="muted">
            You are following this handoff; only <Person id={handoff.outgoing} /> and <Person id={handoff.incoming} /> take part.
          </p>
        )}
        {!shown ? (
          !loadError && (
            <p class="muted" role="status">
              Loading the patients…
            </p>
          )
        ) : (
          <HandoffBody api={api} roomId={roomId} viewer={viewer} room={room} handoff={shown} content={content} now={now} onView={keep} />
        )}
      </main>
    </ZoneContext.Provider>
  );
}

function HandoffBody(props: { api: HandoffApi; roomId: string; viewer: string; room: HandoffRoomActions; handoff: HandoffView; content: HandoffRoomData["content"]; now: number; onView: (v: HandoffView) => void }) {
  const { handoff, viewer, content, now } = props;
  const roles = rolesOf(handoff, viewer);
  return (
    <>
      <ClosedView handoff={handoff} content={content} now={now} />
      <PatientList {...props} />
      <Checklist {...props} canTick={roles.participant} />
      <SignOffPanel {...props} />
      {roles.participant && isOpen(handoff) && (
        <Disclosure label="More actions">
          {canSignOff(handoff, viewer) && !isClear(handoff.outstanding) && <OverrideForm {...props} />}
          <CancelForm {...props} />
        </Disclosure>
      )}
    </>
  );
}
