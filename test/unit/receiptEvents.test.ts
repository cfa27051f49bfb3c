import { expect } from "chai";
import { receiptEvents } from "../../appservice/inbox/receiptEvents.js";
import { RECEIPT_EVENT_ID_PREFIX, RECEIPT_EVENT_TYPE } from "../../appservice/shared/events/index.js";

describe("read receipts as inbox events", function () {
  const receipt = (content: unknown, room: unknown = "!r:x.org") => ({ type: "m.receipt", room_id: room, content });

  it("makes one event per room, event and reader, with an id of those alone, so a resent receipt is stored once", function () {
    const events = receiptEvents([
      receipt({ $a: { "m.read": { "@lena:x.org": { ts: 1700000000000 }, "@house:x.org": { ts: 1700000001000, thread_id: "main" } } } }),
      // Synapse may send the same receipts under both keys of MSC2409.
      receipt({ $a: { "m.read": { "@lena:x.org": { ts: 1700000000000 } } } }),
    ]);
    expect(events.map((e) => [e.type, e.sender, e.room_id, e.origin_server_ts, e.content])).to.deep.equal([
      [RECEIPT_EVENT_TYPE, "@lena:x.org", "!r:x.org", 1700000000000, { event_id: "$a" }],
      [RECEIPT_EVENT_TYPE, "@house:x.org", "!r:x.org", 1700000001000, { event_id: "$a" }],
    ]);
    expect(events.every((e) => e.event_id.startsWith(RECEIPT_EVENT_ID_PREFIX))).to.equal(true);
    expect(receiptEvents([receipt({ $a: { "m.read": { "@lena:x.org": { ts: 5 } } } })])[0]!.event_id).to.equal(events[0]!.event_id);
    expect(receiptEvents([receipt({ $b: { "m.read": { "@lena:x.org": { ts: 5 } } } })])[0]!.event_id).not.to.equal(events[0]!.event_id);
  });

  it("drops what is not a public read receipt by a proper user in a proper room, without throwing", function () {
    const hostile: unknown[] = [
      null,
      "m.receipt",
      { type: "m.typing", room_id: "!r:x.org", content: { user_ids: ["@a:x.org"] } },
      receipt(null),
      receipt({ $a: null }),
      receipt({ $a: { "m.read.private": { "@lena:x.org": { ts: 1 } } } }),
      receipt({ $a: { "m.read": { "not a user": { ts: 1 } } } }),
      receipt({ $a: { "m.read": { "@lena:x.org": { ts: 1 } } } }, "no room"),
      receipt({ $a: { "m.read": "x" } }),
    ];
    expect(receiptEvents(hostile)).to.deep.equal([]);
    // A missing or odd time is the time it arrived, never a crash.
    const [odd] = receiptEvents([receipt({ $a: { "m.read": { "@lena:x.org": { ts: "yesterday" } } } })]);
    expect(odd!.origin_server_ts).to.be.closeTo(Date.now(), 5000);
  });
});
