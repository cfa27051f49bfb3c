import express, { type Router } from "express";
import type { Logger } from "../logging.js";
import type { CalendarFeeds } from "../oncall/calendarFeeds.js";
import { ErrCode, sendError } from "./errors.js";

/** The subscribable calendar feed: GET /_rounds/calendar/v1/<secret>.ics, no other credential. */
export function calendarFeedRouter(deps: { feeds: CalendarFeeds; log: Logger }): Router {
  const router = express.Router();
  router.get("/_rounds/calendar/v1/:file", async (req, res) => {
    const m = /^(.+)\.ics$/.exec(String(req.params.file));
    const body = m ? await deps.feeds.feed(m[1]!) : null;
    // The same answer for a malformed and an unknown secret: nothing to probe.
    if (body === null) return sendError(res, ErrCode.NotFound, "no such calendar; ask the on-call bot for a new link with !calendar");
    res.type("text/calendar; charset=utf-8").set("cache-control", "private, max-age=300").send(body);
  });
  return router;
}
