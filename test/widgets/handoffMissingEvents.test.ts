import { expect } from "chai";
import { HandoffEventType } from "../../appservice/shared/events/index.js";
import { missingEvents } from "../../widgets/handoff-room/missingEvents.js";
import type { HandoffContent } from "../../widgets/handoff-room/roomData.js";
import { ANCHOR, entryView, handoffView, questionView } from "./handoffFixtures.js";

const held = (items: string[] = [], readBacks: string[] = [], questions: string[] = [], answers: string[] = []): HandoffContent => {
  const m = (ids: string[]) => new Map(ids.map((id) => [id, {} as never]));
  return { items: m(items), readBacks: m(readBacks), questions: m(questions), answers: m(answers), notes: new Map() };
};

describe("handoff widget: events the server names but the room has not given", function () {
  const view = handoffView({
    anchor_event_id: ANCHOR,
    entries: [entryView({ entry_id: "e1", item_event_id: "$item1", readback_event_id: "$rb1", read_back: true }), entryView({ entry_id: "e2", item_event_id: "$item2" })],
    questions: [questionView({ entry_id: "e2", event_id: "$q1", answer_event_id: "$a1" })],
  });

  it("names nothing once the room holds every item, read-back, question and answer", function () {
    expect(missingEvents(view, held(["$item1", "$item2"], ["$rb1"], ["$q1"], ["$a1"]))).to.deep.equal([]);
  });

  it("names each missing event with what it refers to, so it can be fetched through relations", function () {
    expect(missingEvents(view, held(["$item1"], [], [], []))).to.deep.equal([
      { eventId: "$rb1", type: HandoffEventType.ReadBack, relatesTo: "$item1" },
      { eventId: "$item2", type: HandoffEventType.Item, relatesTo: ANCHOR },
      { eventId: "$q1", type: HandoffEventType.Question, relatesTo: "$item2" },
      { eventId: "$a1", type: HandoffEventType.Answer, relatesTo: "$q1" },
    ]);
  });
});
