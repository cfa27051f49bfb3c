import { useState } from "preact/hooks";
import type { ConsultApi } from "../lib/consultApi.js";
import { MyConsults } from "./MyConsults.js";
import { NewConsultForm, type RequestRoomActions } from "./NewConsultForm.js";

export interface ConsultsAppProps {
  api: ConsultApi;
  roomId: string;
  room: RequestRoomActions;
}

const TABS = [
  { id: "new", label: "New consult" },
  { id: "mine", label: "My consults" },
] as const;

/** The clinician's consult desk in their room with the consult bot. Both panels stay mounted, so a half-written request survives a look at the dashboard. */
export function ConsultsApp({ api, roomId, room }: ConsultsAppProps) {
  const [tab, setTab] = useState<(typeof TABS)[number]["id"]>("new");
  const [created, setCreated] = useState(0);
  return (
    <main>
      <h1>Consults</h1>
      <div role="tablist" aria-label="Consults">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`panel-${t.id}`} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <section role="tabpanel" id="panel-new" aria-labelledby="tab-new" hidden={tab !== "new"}>
        <NewConsultForm api={api} roomId={roomId} room={room} onCreated={() => setCreated((n) => n + 1)} />
      </section>
      <section role="tabpanel" id="panel-mine" aria-labelledby="tab-mine" hidden={tab !== "mine"}>
        <MyConsults api={api} refreshKey={created} />
      </section>
    </main>
  );
}
