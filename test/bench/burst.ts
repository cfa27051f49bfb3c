/**
 * Bursts under the production template's rate limits (the harness's Synapse runs them): two
 * clinicians each send 8 commands as fast as they may, so the bot has 16 replies to send at
 * once, past a clinician's own burst of 10. The floor, in the same run through the same Synapse:
 * the same two clinicians each send 8 messages to their own plain client that echoes each one
 * (8 replies each, within a client's burst), i.e. the same traffic with nobody throttled.
 * Reports the time from the burst's start to the last reply, and the ratio of the two.
 */
import * as sdk from "matrix-js-sdk";
import { TestClinician } from "../harness/clinician.js";
import { startBotScenario } from "../harness/scenario.js";
import { ms, progress, ratio, summary } from "./stats.js";

const BURSTS = Number(process.env.BENCH_BURSTS ?? 3);
const PER_CLINICIAN = 8;

/** Replies to each text message in the room from anyone but itself, as a notice in reply to it. */
function startEcho(echo: TestClinician): void {
  echo.client.on(sdk.RoomEvent.Timeline, async (ev) => {
    if (ev.getSender() === echo.userId) return;
    await echo.client.decryptEventIfNeeded(ev);
    if (ev.getType() !== "m.room.message" || ev.getContent().msgtype !== "m.text") return;
    await echo.client.sendEvent(ev.getRoomId()!, sdk.EventType.RoomMessage, {
      msgtype: sdk.MsgType.Notice,
      body: `echo: ${String(ev.getContent().body)}`,
      "m.relates_to": { "m.in_reply_to": { event_id: ev.getId()! } },
    });
  });
}

/** Each clinician sends its commands back to back; resolves with ms from the first send to the last reply. */
async function burst(rooms: { who: TestClinician; roomId: string; replier: string }[], text: string): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    rooms.map(async ({ who, roomId, replier }) => {
      const ids: string[] = [];
      for (let i = 0; i < PER_CLINICIAN; i++) ids.push(await who.send(roomId, text));
      await Promise.all(ids.map((id) => who.waitForNotice(roomId, replier, { after: id, timeoutMs: 300_000 })));
    }),
  );
  return performance.now() - t0;
}

export async function runBurstBench(): Promise<string> {
  progress(`burst: ${BURSTS} bursts of ${PER_CLINICIAN} commands from each of two clinicians`);
  const scenario = await startBotScenario("burst-a", { LOG_LEVEL: "warn" });
  const { hs, botUserId, clinician: a, roomId: aBot } = scenario;
  const b = await TestClinician.create(hs, "burst-b");
  const bBot = await b.openEncryptedDm(botUserId);
  const [echoA, echoB] = [await TestClinician.create(hs, "burst-echo-a"), await TestClinician.create(hs, "burst-echo-b")];
  for (const e of [echoA, echoB]) {
    e.acceptInvites();
    startEcho(e);
  }
  const [aEcho, bEcho] = [await a.openEncryptedDm(echoA.userId), await b.openEncryptedDm(echoB.userId)];

  const bot: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < BURSTS; i++) {
    // A clinician's own bucket (burst 10, one more every 5 s) refills between bursts, for both.
    if (i > 0) await new Promise((r) => setTimeout(r, 2 * PER_CLINICIAN * 5_000));
    floor.push(await burst([{ who: a, roomId: aEcho, replier: echoA.userId }, { who: b, roomId: bEcho, replier: echoB.userId }], `hello ${i}`));
    await new Promise((r) => setTimeout(r, 2 * PER_CLINICIAN * 5_000));
    bot.push(await burst([{ who: a, roomId: aBot, replier: botUserId }, { who: b, roomId: bBot, replier: botUserId }], "!oncall cardiology"));
    progress(`burst ${i + 1}/${BURSTS}: bot ${ms(bot.at(-1)!)}, floor ${ms(floor.at(-1)!)}`);
  }
  for (const c of [b, echoA, echoB]) c.stop();
  await scenario.stop();
  const s = summary(bot);
  const f = summary(floor);
  return `
Bursts under production rate limits (${BURSTS} bursts; ${2 * PER_CLINICIAN} commands from two clinicians at once)
  floor: 2 x 8 messages to plain echo clients, first send to last reply p50 ${ms(f.p50)}   max ${ms(f.max)}
  16 commands to the on-call bot, first send to last reply             p50 ${ms(s.p50)}   max ${ms(s.max)}
  ratio bot/floor                                                      p50 ${ratio(s.p50, f.p50)}`;
}
