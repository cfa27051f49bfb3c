import { testSchedule } from "./fixtures.js";
import { getHomeserver, type TestHomeserver } from "./homeserver.js";
import { TestClinician } from "./clinician.js";
import { RoundsProcess } from "./rounds.js";

export interface BotScenario {
  hs: TestHomeserver;
  rounds: RoundsProcess;
  clinician: TestClinician;
  /** The clinician's encrypted DM with the on-call bot. */
  roomId: string;
  botUserId: string;
  schedule: ReturnType<typeof testSchedule>;
  stop(): Promise<void>;
}

/** Rounds running with the test schedule, and a clinician in an encrypted DM with the on-call bot. */
export async function startBotScenario(clinicianName: string, env: Record<string, string> = {}): Promise<BotScenario> {
  const hs = await getHomeserver();
  const schedule = testSchedule(hs.serverName);
  const rounds = new RoundsProcess(hs, env);
  await rounds.start();
  await rounds.importSchedule(schedule.yaml);
  const botUserId = `@rounds_oncall:${hs.serverName}`;
  const clinician = await TestClinician.create(hs, clinicianName);
  const roomId = await clinician.openEncryptedDm(botUserId);
  return {
    hs,
    rounds,
    clinician,
    roomId,
    botUserId,
    schedule,
    async stop() {
      clinician.stop();
      await rounds.stop();
    },
  };
}
