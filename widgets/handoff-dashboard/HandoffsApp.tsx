import { useState } from "preact/hooks";
import type { HandoffApi } from "../lib/handoffApi.js";
import { TabList, TabPanel } from "../lib/tabs.js";
import { MyHandoffs } from "./MyHandoffs.js";
import { StartHandoffForm } from "./StartHandoffForm.js";
import { UnitQuality } from "./UnitQuality.js";

export interface HandoffsAppProps {
  api: HandoffApi;
  roomId: string;
  viewer: string;
}

const TABS = [
  { id: "start", label: "Start a handoff" },
  { id: "mine", label: "My handoffs" },
  { id: "quality", label: "Unit quality" },
] as const;

/**
 * The clinician's handoff desk, in their "Handoffs" room with the bot and in unit rooms. The
 * panels stay mounted, so switching tabs loses nothing; the quality figures load when first shown.
 */
export function HandoffsApp({ api, roomId, viewer }: HandoffsAppProps) {
  const [tab, setTab] = useState<(typeof TABS)[number]["id"]>("start");
  const [started, setStarted] = useState(0);
  const [seenQuality, setSeenQuality] = useState(false);
  return (
    <main>
      <h1>Handoffs</h1>
      <TabList
        label="Handoffs"
        tabs={TABS}
        selected={tab}
        onSelect={(id) => {
          setTab(id);
          if (id === "quality") setSeenQuality(true);
        }}
      />
      <TabPanel id="start" selected={tab}>
        <StartHandoffForm api={api} roomId={roomId} viewer={viewer} onStarted={() => setStarted((n) => n + 1)} />
      </TabPanel>
      <TabPanel id="mine" selected={tab}>
        <MyHandoffs api={api} viewer={viewer} refreshKey={started} />
      </TabPanel>
      <TabPanel id="quality" selected={tab}>
        {seenQuality && <UnitQuality api={api} />}
      </TabPanel>
    </main>
  );
}
