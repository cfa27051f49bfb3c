import { expect } from "chai";
import { createLogger } from "../../appservice/logging.js";
import { pingUntilUp, type PingOutcome } from "../../appservice/matrix/appservicePing.js";

describe("the start-up ping of the homeserver", function () {
  const log = createLogger("silent");
  const noSleep = async () => undefined;

  it("tries again after a failed ping until one gets through, so Synapse resends what it queued without waiting out its backoff", async function () {
    const answers: PingOutcome[] = [{ ok: false, why: "502 M_CONNECTION_FAILED AlreadyCalled" }, { ok: false, why: "504" }, { ok: true, durationMs: 3 }];
    let calls = 0;
    const up = await pingUntilUp(async () => answers[calls++]!, { log, stopped: () => false, sleep: noSleep });
    expect(up).to.equal(true);
    expect(calls).to.equal(3);
  });

  it("counts a thrown fetch as a failed ping, and gives up at its deadline", async function () {
    let calls = 0;
    const up = await pingUntilUp(
      async () => {
        calls++;
        throw new Error("ECONNREFUSED");
      },
      { log, stopped: () => false, sleep: noSleep, giveUpMs: 0 },
    );
    expect(up).to.equal(false);
    expect(calls).to.equal(1);
  });

  it("stops when Rounds stops", async function () {
    let calls = 0;
    let stopped = false;
    const up = await pingUntilUp(
      async () => {
        calls++;
        stopped = true;
        return { ok: false, why: "502" };
      },
      { log, stopped: () => stopped, sleep: noSleep },
    );
    expect(up).to.equal(false);
    expect(calls).to.equal(1);
  });
});
