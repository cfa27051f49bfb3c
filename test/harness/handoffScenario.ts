import * as sdk from "matrix-js-sdk";
import { HandoffStateSchema, StateType, type HandoffState } from "../../appservice/shared/events/index.js";
import { TestClinician } from "./clinician.js";
import { waitForWorkflowState, widgetSession, type WidgetCaller } from "./widgetCaller.js";
import { getHomeserver, type TestHomeserver } from "./homeserver.js";
import { RoundsProcess } from "./rounds.js";
import { waitUntil } from "./waitUntil.js";

/**
 * 4 West: nurse Nora made its encrypted unit room and invited the handoff bot. Olga hands over to
 * Ian; Ivy is Ian's colleague on the unit; Charlie is the charge nurse; Quinn reviews incidents.
 * 4 East has the same people but a six-second deadline, for the escalation.
 */
export interface HandoffScenario {
  hs: TestHomeserver;
  rounds: RoundsProcess;
  handoffBot: string;
  people: { nora: TestClinician; olga: TestClinician; ian: TestClinician; ivy: TestClinician; charlie: TestClinician; quinn: TestClinician };
  /** 4 West's encrypted unit room, where handoffs are started. */
  unitRoom: string;
  /** Sends a command and resolves with the handoff bot's reply to it. */
  command(who: TestClinician, roomId: string, text: string): Promise<string>;
  /** Waits until `who` has joined the room (they accept invites on their own). */
  joined(who: TestClinician, roomId: string): Promise<void>;
  /** Waits until `who` sees a handoff state in `roomId` that matches. */
  waitForHandoff(who: TestClinician, roomId: string, match: (s: HandoffState) => boolean, what?: string): Promise<HandoffState>;
  /** A widget API session for `who`, made from a real OpenID token as a widget would. */
  widgetSession(who: TestClinician): Promise<WidgetCaller>;
  stop(): Promise<void>;
}

export async function startHandoffScenario(env: Record<string, string> = {}): Promise<HandoffScenario> {
  const hs = await getHomeserver();
  const rounds = new RoundsProcess(hs, { ROUNDS_TIMER_POLL_MS: "250", ...env });
  await rounds.start();
  const people: Partial<HandoffScenario["people"]> = {};
  try {
    const names = ["nora", "olga", "ian", "ivy", "charlie", "quinn"] as const;
    const made = await Promise.all(names.map((n) => TestClinician.create(hs, n)));
    names.forEach((n, i) => (people[n] = made[i]!));
    const p = people as HandoffScenario["people"];
    for (const c of Object.values(p)) c.acceptInvites();
    const handoffBot = `@rounds_handoff:${hs.serverName}`;

    const joined = (who: TestClinician, roomId: string) =>
      waitUntil(async () => who.client.getRoom(roomId)?.getMyMembership() === "join", `${who.userId} to join ${roomId}`, 60_000).then(() => undefined);

    // The unit room: a nurse makes it, encrypted, and invites the bot (which joins invites from local users).
    const { room_id: unitRoom } = await p.nora.client.createRoom({
      name: "4 West",
      preset: sdk.Preset.PrivateChat,
      invite: [handoffBot, p.olga.userId, p.ian.userId, p.ivy.userId],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await waitUntil(async () => p.nora.client.getRoom(unitRoom)?.getMember(handoffBot)?.membership === "join", "the handoff bot to join the unit room");
    for (const who of [p.olga, p.ian, p.ivy]) await joined(who, unitRoom);

    const unit = {
      name: "4 West",
      template: "sbar",
      room_id: unitRoom,
      checklist: ["Allergies reviewed", "Lines and drains checked"],
      charge: { users: [p.charlie.userId] },
      incident_reviewers: [p.quinn.userId],
    };
    await rounds.admin("/_rounds/admin/v1/handoff/units/4west", { method: "PUT", body: JSON.stringify(unit) });
    await rounds.admin("/_rounds/admin/v1/handoff/units/4east", {
      method: "PUT",
      body: JSON.stringify({ name: "4 East", template: "sbar", deadline_minutes: 0.1, escalate_after_minutes: 0.1, charge: { users: [p.charlie.userId] }, incident_reviewers: [p.quinn.userId] }),
    });

    return {
      hs,
      rounds,
      handoffBot,
      people: p,
      unitRoom,
      joined,
      async command(who, roomId, text) {
        const id = await who.send(roomId, text);
        return (await who.waitForNotice(roomId, handoffBot, { after: id })).body;
      },
      waitForHandoff: (who, roomId, match, what = "handoff state") => waitForWorkflowState(who, roomId, StateType.Handoff, HandoffStateSchema, match, what),
      widgetSession: (who) => widgetSession(rounds.url, who),
      async stop() {
        for (const c of Object.values(p)) c.stop();
        await rounds.stop();
      },
    };
  } catch (err) {
    rounds.dumpLogs(60);
    for (const c of Object.values(people)) c?.stop();
    await rounds.stop();
    throw err;
  }
}
