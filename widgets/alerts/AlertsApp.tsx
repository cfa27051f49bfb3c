import { useState } from "preact/hooks";
import type { AlertApi } from "../lib/alertApi.js";
import { useFeedVersion } from "../lib/hooks.js";
import { LastUpdated, useLive } from "../lib/live.js";
import { TabList, TabPanel } from "../lib/tabs.js";
import { ErrorNote } from "../lib/forms.js";
import type { RoomFeed } from "../lib/roomFeed.js";
import { AlertCard } from "./AlertCard.js";
import { QuietHoursForm } from "./QuietHoursForm.js";
import { RulesView } from "./RulesView.js";

type Tab = "alerts" | "quiet" | "rules";

export interface AlertsAppProps {
  api: AlertApi;
  feed: RoomFeed;
  viewer: string;
  /** Sends an encrypted text message in this room; returns its event id. */
  sendText: (body: string) => Promise<string>;
}

/**
 * The clinician's alerts desk, pinned in their own alerts room: their alerts with each one's
 * decrypted message (read from the room through Element) and closed-loop trail, acknowledge,
 * snooze and false positive; their quiet hours; and, for coordinators, the rules and analytics.
 * The list reads again whenever an alert's state changes in the room.
 */
export function AlertsApp({ api, feed, viewer, sendText }: AlertsAppProps) {
  const version = useFeedVersion(feed);
  const [changed, setChanged] = useState(0);
  const live = useLive(() => api.mine(), [api, version, changed]);
  const [tab, setTab] = useState<Tab>("alerts");
  const [seenRules, setSeenRules] = useState(false);
  const mine = live.data;
  const tabs: Array<{ id: Tab; label: string }> = [
    { id: "alerts", label: "My alerts" },
    { id: "quiet", label: "Quiet hours" },
    ...(mine?.coordinator ? [{ id: "rules" as const, label: "Rules and analytics" }] : []),
  ];
  const open = mine?.alerts.filter((a) => a.status === "open") ?? [];
  const closed = mine?.alerts.filter((a) => a.status !== "open") ?? [];
  const textOf = (eventId: string | null) => {
    const ev = eventId ? feed.eventsOf("m.room.message").find((e) => e.event_id === eventId) : undefined;
    const body = (ev?.content as { body?: unknown } | undefined)?.body;
    return typeof body === "string" ? body : null;
  };
  const card = (a: (typeof open)[number]) => (
    <AlertCard key={a.id} alert={a} text={textOf(a.message_event_id)} api={api} roomId={feed.roomId} viewer={viewer} maxSnoozeMinutes={mine!.max_snooze_minutes} sendText={sendText} onChanged={() => setChanged((n) => n + 1)} />
  );
  return (
    <main>
      <h1>Alerts</h1>
      <TabList
        label="Alerts"
        tabs={tabs}
        selected={tab}
        onSelect={(id) => {
          setTab(id);
          if (id === "rules") setSeenRules(true);
        }}
      />
      <TabPanel id="alerts" selected={tab}>
        {!mine && !live.error && (
          <p class="muted" role="status">
            Loading your alerts…
          </p>
        )}
        {!mine && <ErrorNote message={live.error} />}
        {mine && (
          // One keyed list: an alert moving from open to closed keeps its card (an open trail stays open).
          <div>
            {[
              <h2 key="h-open">Open ({open.length})</h2>,
              open.length === 0 ? (
                <p key="none" class="muted">
                  No open alerts. New ones appear here and in this room as they come.
                </p>
              ) : null,
              ...open.map(card),
              closed.length > 0 ? <h2 key="h-closed">Closed in the last 12 hours</h2> : null,
              ...closed.map(card),
            ]}
            <LastUpdated live={live} />
          </div>
        )}
      </TabPanel>
      <TabPanel id="quiet" selected={tab}>
        <QuietHoursForm api={api} />
      </TabPanel>
      {mine?.coordinator && (
        <TabPanel id="rules" selected={tab}>
          {seenRules && <RulesView api={api} />}
        </TabPanel>
      )}
    </main>
  );
}
