import { ConsultStateSchema, StateType, type ConsultState } from "../../appservice/shared/events/index.js";
import { getHomeserver, type TestHomeserver } from "./homeserver.js";
import { TestClinician } from "./clinician.js";
import { RoundsProcess } from "./rounds.js";
import { waitForWorkflowState, widgetSession, type WidgetCaller } from "./widgetCaller.js";

/**
 * Cardiology: primary lena, backup liam, attending sam (not in the escalation), coordinator cora.
 * Wendy, a ward doctor, requests consults.
 */
export function consultSchedule(u: { lena: string; liam: string; sam: string; cora: string }): string {
  return `
clinicians:
  - { user: "${u.lena}", name: "Dr Lena Primary" }
  - { user: "${u.liam}", name: "Dr Liam Backup" }
  - { user: "${u.sam}", name: "Dr Sam Attending" }
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    coordinator: "${u.cora}"
    escalation:
      steps: [ { level: primary }, { level: backup } ]
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${u.lena}"] }
      - level: backup
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${u.liam}"] }
      - level: attending
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${u.sam}"] }
`;
}

export interface ConsultScenario {
  hs: TestHomeserver;
  rounds: RoundsProcess;
  consultBot: string;
  people: { wendy: TestClinician; lena: TestClinician; liam: TestClinician; sam: TestClinician; cora: TestClinician };
  /** Wendy's encrypted DM with the consult bot. */
  dm: string;
  /** Waits until `who` sees the consult state of `roomId` match. */
  waitForConsult(who: TestClinician, roomId: string, match: (s: ConsultState) => boolean, what?: string): Promise<ConsultState>;
  /** A widget API session for `who`, made from a real OpenID token as a widget would. */
  widgetSession(who: TestClinician): Promise<WidgetCaller>;
  stop(): Promise<void>;
}

export type { WidgetCaller };

export async function startConsultScenario(env: Record<string, string> = {}): Promise<ConsultScenario> {
  const hs = await getHomeserver();
  const rounds = new RoundsProcess(hs, { ROUNDS_TIMER_POLL_MS: "250", ...env });
  await rounds.start();
  try {
    const [wendy, lena, liam, sam, cora] = await Promise.all(["wendy", "lena", "liam", "sam", "cora"].map((n) => TestClinician.create(hs, n)));
    for (const c of [wendy, lena, liam, sam, cora]) c!.acceptInvites();
    const people = { wendy: wendy!, lena: lena!, liam: liam!, sam: sam!, cora: cora! };
    const schedule = consultSchedule({ lena: lena!.userId, liam: liam!.userId, sam: sam!.userId, cora: cora!.userId });
    await rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: schedule, headers: { "content-type": "application/yaml" } });
    const consultBot = `@rounds_consult:${hs.serverName}`;
    const dm = await people.wendy.openEncryptedDm(consultBot);
    return {
      hs,
      rounds,
      consultBot,
      people,
      dm,
      waitForConsult: (who, roomId, match, what = "consult state") => waitForWorkflowState(who, roomId, StateType.Consult, ConsultStateSchema, match, what),
      widgetSession: (who) => widgetSession(rounds.url, who),
      async stop() {
        for (const c of Object.values(people)) c.stop();
        await rounds.stop();
      },
    };
  } catch (err) {
    rounds.dumpLogs(60);
    await rounds.stop();
    throw err;
  }
}
