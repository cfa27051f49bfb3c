import type { Pager } from "../ports/pager.js";
import { PageError, type PageService } from "./pageService.js";

/** The paging engine as the Pager port: pages raised for another workflow's object, keyed by its origin. */
export function pagerOf(pages: PageService): Pager {
  return {
    async page(req) {
      const r = await pages.trigger({ requester: req.requester, serviceQuery: req.service, urgency: req.urgency, note: req.note, originRoomId: null, originEventId: req.origin });
      return { number: r.page.number, targets: r.targets, roomId: r.page.roomId, eventId: await pages.requestEventId(r.page.id) };
    },
    async resolve(req) {
      try {
        await pages.resolve({ by: req.requester, number: req.number });
      } catch (err) {
        // Resolved already (by a responder, or a retry): nothing left to stop.
        if (!(err instanceof PageError)) throw err;
      }
    },
    onAcknowledged(prefix, listener) {
      pages.onAcknowledged(async (page) => {
        if (!page.originEventId?.startsWith(prefix) || !page.ackedBy || !page.ackedAt) return;
        await listener({ origin: page.originEventId, by: page.ackedBy, via: page.ackVia ?? "unknown", at: page.ackedAt, number: page.number });
      });
    },
  };
}
