import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../appservice/setup/synapseConfig.js";
import { mllpSend } from "./mllpSend.js";
import { pagingSchedule, startPagingScenario, type PagingScenario } from "./pagingScenario.js";
import { freePort } from "./ports.js";
import { tempDir } from "./tempDir.js";

export interface AlertsScenario extends PagingScenario {
  /** Sends HL7 v2 to Rounds' MLLP listener with mllp_send; returns the ACKs it printed. */
  mllp(name: string, ...messages: string[]): Promise<string>;
}

/**
 * The paging scenario with a lab sending over MLLP from 127.0.0.1 and the example alert rules,
 * routed so that 4WEST's alerts go to cardiology (lena on call, liam backup, cora coordinating).
 */
export async function startAlertsScenario(delays: { emergent: number; urgent: number; routine: number }): Promise<AlertsScenario> {
  const dir = tempDir("alerts");
  const port = await freePort();
  writeFileSync(join(dir, "sources.yaml"), 'sources:\n  - { id: lab, kind: mllp, allow: ["127.0.0.1"], sending_facility: GENHOSP }\n');
  const s = await startPagingScenario({ ROUNDS_ALERT_SOURCES_FILE: join(dir, "sources.yaml"), ROUNDS_ALERT_MLLP_PORT: String(port), ROUNDS_ALERT_INTAKE_POLL_MS: "250" });
  const people = { lena: s.people.lena.userId, liam: s.people.liam.userId, cora: s.people.cora.userId };
  await s.rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: pagingSchedule(people, { delays }), headers: { "content-type": "application/yaml" } });
  const rules = readFileSync(join(repoRoot, "appservice/alert/example-rules.yaml"), "utf8")
    .replace("units: { 4WEST: medicine, RENAL: nephrology }", "units: { 4WEST: cardiology }")
    .replace("default_service: medicine", "default_service: cardiology");
  await s.rounds.admin("/_rounds/admin/v1/alerts/rules", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ yaml: rules }) });
  return Object.assign(s, { mllp: (name: string, ...messages: string[]) => mllpSend(dir, port, name, ...messages) });
}
