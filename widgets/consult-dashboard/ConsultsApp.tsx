import { useState } from "preact/hooks";
import type { ConsultApi } from "../lib/consultApi.js";
import { TabList, TabPanel } from "../lib/tabs.js";
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
      <TabList label="Consults" tabs={TABS} selected={tab} onSelect={setTab} />
      <TabPanel id="new" selected={tab}>
        <NewConsultForm api={api} roomId={roomId} room={room} onCreated={() => setCreated((n) => n + 1)} />
      </TabPanel>
      <TabPanel id="mine" selected={tab}>
        <MyConsults api={api} refreshKey={created} />
      </TabPanel>
    </main>
  );
}
