import { expect } from "chai";
import { DateTime } from "luxon";
import { TestClinician } from "../harness/clinician.js";
import { startPagingScenario, type PagingScenario } from "../harness/pagingScenario.js";

describe("shift change: hand-over of open pages and the fatigue warning (real Synapse)", function () {
  let s: PagingScenario;

  before(async function () {
    // The shift check ticks every second here (every minute by default); the fatigue limit is 1 h.
    s = await startPagingScenario({ ROUNDS_SHIFT_CHECK_CRON: "* * * * * *", ROUNDS_FATIGUE_LIMIT_HOURS: "1" });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") s.rounds.dumpLogs(120);
  });

  after(async () => s?.stop());

  it("tells the outgoing and incoming on-call, hands the open page over with a summary, and warns the coordinator about hours", async function () {
    const { wendy, lena, cora } = s.people;
    const omar = await TestClinician.create(s.hs, "omar");
    omar.acceptInvites();
    // The first tick records who is on call now; only later changes are announced.
    await s.rounds.waitForLog((l) => l.msg === "shift change check done", 10_000);

    const cmd = await wendy.send(s.dm, "!page cardiology routine handover drill bed 3");
    const number = Number(/Page #(\d+)/.exec((await wendy.waitForNotice(s.dm, s.botUserId, { after: cmd })).body)![1]);
    await lena.waitForMessage((b) => b.includes(`page #${number}`), { what: "the page" });

    // Omar covers primary from now for 3 hours: the next tick is a shift change.
    const zone = "Europe/London";
    const start = DateTime.now().setZone(zone).plus({ seconds: 2 }).toISO({ suppressMilliseconds: true })!;
    const end = DateTime.now().setZone(zone).plus({ hours: 3 }).toISO({ suppressMilliseconds: true })!;
    await s.rounds.admin("/_rounds/admin/v1/overrides", {
      method: "POST",
      body: JSON.stringify({ service: "cardiology", level: "primary", user: omar.userId, start, end, reason: "cover" }),
    });

    const outgoing = await lena.waitForMessage((b) => b.startsWith("Your primary on-call for Cardiology has ended"), { what: "the end-of-shift notice" });
    expect(outgoing.body).to.contain(`${omar.userId} takes over`);
    const incoming = await omar.waitForMessage((b) => b.startsWith("You are now primary on call for Cardiology"), { what: "the start-of-shift notice" });
    expect(incoming.body).to.contain(`taking over from ${lena.userId}`);

    const handed = await omar.waitForMessage((b) => b.startsWith(`🔁 Shift change: ${lena.userId} hands page #${number} to ${omar.userId}`), { what: "the hand-over" });
    expect(handed.body).to.contain("handover drill bed 3");
    expect(handed.body).to.contain("routine page for cardiology");

    // 3 h on call in the 168 h window passes the 1 h limit: the coordinator is told, once.
    const fatigue = await cora.waitForMessage((b) => b.startsWith(`Fatigue warning: ${omar.userId}`), { what: "the fatigue warning" });
    expect(fatigue.body).to.match(/on call 3 h in the 168 h/);

    // The incoming clinician can acknowledge the handed-over page.
    const ack = await omar.send(handed.roomId, `!ack ${number}`);
    expect((await omar.waitForNotice(handed.roomId, s.botUserId, { after: ack })).body).to.equal("Acknowledged. The requester has been told.");
    const state = await s.waitForPageState(wendy, handed.roomId, (st) => st.number === number && st.status === "acknowledged");
    expect(state.targets).to.deep.equal([omar.userId]);
    expect(state.notified).to.deep.equal([lena.userId, omar.userId]);
    omar.stop();
  });
});
