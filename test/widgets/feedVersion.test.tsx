import { expect } from "chai";
import { render } from "preact";
import { useFeedVersion } from "../../widgets/lib/hooks.js";
import { RoomFeed } from "../../widgets/lib/roomFeed.js";
import { settle, useDom } from "./dom.js";

/** Waits for the DOM to show `text`: effects scheduled outside act() run on the next animation frame. */
async function shows(root: HTMLElement, text: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (root.textContent !== text && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await settle();
}

describe("widget room feed: a component sees every change", function () {
  useDom();

  it("sees a change made between its first render and its subscription", async function () {
    const feed = new RoomFeed("!room:rounds.test");
    function Count() {
      useFeedVersion(feed);
      return <p>{feed.stateOf("health.rounds.consult").length}</p>;
    }
    const root = document.createElement("div");
    document.body.append(root);
    // Rendered, but its effects (the subscription) not yet run: as when Element pushes the room's
    // state just as the app first renders.
    render(<Count />, root);
    expect(root.textContent).to.equal("0");
    feed.addState([{ type: "health.rounds.consult", state_key: "c1", room_id: feed.roomId, sender: "@rounds_consult:rounds.test", event_id: "$s1", origin_server_ts: 1, content: { id: "c1" }, unsigned: {} }]);
    await shows(root, "1");
    expect(root.textContent).to.equal("1");
    // And later changes as before.
    feed.addState([{ type: "health.rounds.consult", state_key: "c2", room_id: feed.roomId, sender: "@rounds_consult:rounds.test", event_id: "$s2", origin_server_ts: 2, content: { id: "c2" }, unsigned: {} }]);
    await shows(root, "2");
    expect(root.textContent).to.equal("2");
    render(null, root);
    root.remove();
  });
});
