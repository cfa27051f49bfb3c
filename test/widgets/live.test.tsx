import { expect } from "chai";
import { act } from "preact/test-utils";
import { LastUpdated, useLive } from "../../widgets/lib/live.js";
import { mount, settle, text, useDom } from "./dom.js";

/** A source whose answers the test scripts; `called(n)` resolves when it has been read n times. */
function source(answers: (() => Promise<string>)[]) {
  let reads = 0;
  const waiting = new Map<number, () => void>();
  return {
    load: () => {
      reads++;
      waiting.get(reads)?.();
      return (answers[Math.min(reads, answers.length) - 1] ?? answers.at(-1)!)();
    },
    called: (n: number) => (reads >= n ? Promise.resolve() : new Promise<void>((r) => waiting.set(n, r))),
  };
}

function Board({ load, everyMs }: { load: () => Promise<string>; everyMs: number }) {
  const live = useLive(load, [], everyMs);
  return (
    <div>
      <LastUpdated live={live} everyMs={everyMs} />
      <output>{live.data ?? "loading"}</output>
    </div>
  );
}

describe("live dashboards", function () {
  useDom();

  it("reads again on its own, with no Refresh button", async function () {
    const s = source([async () => "one consult", async () => "two consults"]);
    const root = await mount(<Board load={s.load} everyMs={20} />);
    await act(() => s.called(3)); // the interval's reads
    await settle();
    expect(root.querySelector("output")!.textContent).to.equal("two consults");
    expect(text(root)).to.match(/^Updated /);
    expect(root.querySelector("button")).to.equal(null);
  });

  it("reads at once when the device comes back online", async function () {
    const s = source([async () => "one consult", async () => "two consults"]);
    const root = await mount(<Board load={s.load} everyMs={60_000} />);
    expect(root.querySelector("output")!.textContent).to.equal("one consult");
    await act(() => {
      window.dispatchEvent(new window.Event("online"));
    });
    await settle();
    expect(root.querySelector("output")!.textContent).to.equal("two consults");
  });

  it("keeps what it showed when a read fails, and says since when and why", async function () {
    const s = source([async () => "one consult", async () => Promise.reject(new Error("Could not reach the Rounds server."))]);
    const root = await mount(<Board load={s.load} everyMs={60_000} />);
    await act(() => {
      window.dispatchEvent(new window.Event("online"));
    });
    await settle();
    expect(root.querySelector("output")!.textContent).to.equal("one consult");
    const stale = root.querySelector('[role="status"]')!;
    expect(stale.textContent).to.match(/^Not updated since .+: Could not reach the Rounds server\. Trying again every 60 s\.$/);
  });
});
