import { useState } from "preact/hooks";
import type { HandoffApi } from "../lib/handoffApi.js";
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
      <div role="tablist" aria-label="Handoffs">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            onClick={() => {
              setTab(t.id);
              if (t.id === "quality") setSeenQuality(true);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <section role="tabpanel" id="panel-start" aria-labelledby="tab-start" hidden={tab !== "start"}>
        <StartHandoffForm api={api} roomId={roomId} viewer={viewer} onStarted={() => setStarted((n) => n + 1)} />
      </section>
      <section role="tabpanel" id="panel-mine" aria-labelledby="tab-mine" hidden={tab !== "mine"}>
        <MyHandoffs api={api} viewer={viewer} refreshKey={started} />
      </section>
      <section role="tabpanel" id="panel-quality" aria-labelledby="tab-quality" hidden={tab !== "quality"}>
        {seenQuality && <UnitQuality api={api} />}
      </section>
    </main>
  );
}
