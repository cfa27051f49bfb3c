import { StateType } from "../../appservice/shared/events/index.js";
import { FakeTwilio } from "./fakeTwilio.js";
import { getHomeserver, type TestHomeserver } from "./homeserver.js";
import { TestClinician } from "./clinician.js";
import { RoundsProcess } from "./rounds.js";
import { waitUntil } from "./waitUntil.js";

export const TWILIO_SID = `AC${"0123456789abcdef".repeat(2)}`;
export const TWILIO_TOKEN = "fake-twilio-auth-token-0123456789";

/** A paging schedule: cardiology (primary lena, backup liam, coordinator cora) and a service with a gap. */
export function pagingSchedule(
  u: { lena: string; liam: string; cora: string },
  opts: { delays?: { emergent: number; urgent: number; routine: number }; loops?: number } = {},
): string {
  const delays = opts.delays ?? { emergent: 3, urgent: 3, routine: 600 };
  return `
chains:
  stroke-seniors: ["${u.liam}"]
clinicians:
  - { user: "${u.lena}", name: "Dr Lena Primary" }
  - { user: "${u.liam}", name: "Dr Liam Backup" }
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    coordinator: "${u.cora}"
    escalation:
      steps: [ { level: primary }, { level: backup } ]
      loops: ${opts.loops ?? 0}
      delays: { emergent: ${delays.emergent}, urgent: ${delays.urgent}, routine: ${delays.routine} }
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${u.lena}"] }
      - level: backup
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${u.liam}"] }
  - id: stroke
    name: Stroke
    timezone: Europe/London
    coordinator: "${u.cora}"
    escalation:
      steps: [ { level: primary }, { chain: stroke-seniors } ]
      loops: 1
      fallback: { user: "${u.cora}" }
      delays: { emergent: 1, urgent: 1, routine: 1 }
    levels:
      - level: primary
        rotation: { kind: weekly, handover: "08:00", start: "2020-01-06", members: ["${u.lena}"] }
  - id: nightcover
    name: Night cover
    timezone: Europe/London
    coordinator: "${u.cora}"
    levels:
      - level: primary
        rotation: { kind: daily, handover: "20:00", start: "2099-01-01", members: ["${u.lena}"] }
`;
}

export interface PagingScenario {
  hs: TestHomeserver;
  rounds: RoundsProcess;
  twilio: FakeTwilio;
  twilioFrom: string;
  botUserId: string;
  people: { wendy: TestClinician; lena: TestClinician; liam: TestClinician; cora: TestClinician };
  phones: { lena: string; liam: string };
  /** Wendy's encrypted DM with the on-call bot. */
  dm: string;
  waitForPageState(c: TestClinician, roomId: string, match: (s: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Rounds with SMS through the fake Twilio, the paging schedule, four clinicians and their phones. */
export async function startPagingScenario(env: Record<string, string> = {}): Promise<PagingScenario> {
  const hs = await getHomeserver();
  const twilio = await FakeTwilio.start({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  const twilioFrom = "+15005550006";
  const rounds = new RoundsProcess(hs, {
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM_NUMBER: twilioFrom,
    TWILIO_API_URL: twilio.url,
    ROUNDS_PUBLIC_URL: `http://127.0.0.1:${hs.appservicePort}`,
    ROUNDS_TIMER_POLL_MS: "250",
    ...env,
  });
  await rounds.start();
  try {
    return await setUp(hs, rounds, twilio, twilioFrom);
  } catch (err) {
    rounds.dumpLogs(40);
    await rounds.stop();
    await twilio.stop();
    throw err;
  }
}

async function setUp(hs: TestHomeserver, rounds: RoundsProcess, twilio: FakeTwilio, twilioFrom: string): Promise<PagingScenario> {
  const [wendy, lena, liam, cora] = await Promise.all([
    TestClinician.create(hs, "wendy"),
    TestClinician.create(hs, "lena"),
    TestClinician.create(hs, "liam"),
    TestClinician.create(hs, "cora"),
  ]);
  for (const c of [wendy, lena, liam, cora]) c.acceptInvites();
  await rounds.admin("/_rounds/admin/v1/schedule?force=1", { method: "POST", body: pagingSchedule({ lena: lena.userId, liam: liam.userId, cora: cora.userId }), headers: { "content-type": "application/yaml" } });
  const phones = { lena: "+15550001001", liam: "+15550001002" };
  for (const [who, phone] of [[lena, phones.lena], [liam, phones.liam]] as const) {
    await rounds.admin(`/_rounds/admin/v1/contacts/${encodeURIComponent(who.userId)}`, {
      method: "PUT",
      body: JSON.stringify({ phone, smsAfter: { urgent: 1, emergent: 1, routine: null } }),
    });
  }
  const botUserId = `@rounds_oncall:${hs.serverName}`;
  const dm = await wendy.openEncryptedDm(botUserId);
  return {
    hs,
    rounds,
    twilio,
    twilioFrom,
    botUserId,
    people: { wendy, lena, liam, cora },
    phones,
    dm,
    waitForPageState: (c, roomId, match) =>
      waitUntil(async () => {
        const room = c.client.getRoom(roomId);
        const states = room?.currentState.getStateEvents(StateType.Page) ?? [];
        return states.map((e) => e.getContent()).find(match) ?? null;
      }, "page state"),
    async stop() {
      for (const c of [wendy, lena, liam, cora]) c.stop();
      await rounds.stop();
      await twilio.stop();
    },
  };
}
