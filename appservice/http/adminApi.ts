import express, { type Router } from "express";
import type { InboxStore } from "../inbox/inboxStore.js";
import type { Logger } from "../logging.js";
import type { OnCallService } from "../oncall/oncallService.js";
import { requireAdminToken } from "./auth.js";
import { ErrCode, sendError } from "./errors.js";

/**
 * The coordinator's admin API, used by the `rounds` CLI. It goes through the running appservice
 * because the embedded database admits one process at a time.
 */
export function adminRouter(deps: {
  adminToken: string;
  oncall: OnCallService;
  inbox: InboxStore;
  wakeInbox: () => void;
  log: Logger;
}): Router {
  const router = express.Router();
  router.use("/_rounds/admin", requireAdminToken(deps.adminToken));


  router.get("/_rounds/admin/v1/oncall/:service", async (req, res) => {
    const at = typeof req.query.at === "string" ? new Date(req.query.at) : new Date();
    if (Number.isNaN(at.getTime())) return sendError(res, ErrCode.BadJson, "'at' must be an ISO 8601 date-time");
    res.json(await deps.oncall.whoIsOnCall(String(req.params.service), at));
  });
  router.get("/_rounds/admin/v1/dead-letters", async (_req, res) => {
    res.json({ deadLetters: await deps.inbox.listDeadLetters() });
  });

  router.post("/_rounds/admin/v1/dead-letters/:eventId/replay", async (req, res) => {
    const eventId = String(req.params.eventId);
    if (!(await deps.inbox.replayDeadLetter(eventId))) {
      return sendError(res, ErrCode.NotFound, `no dead letter for event ${eventId}`);
    }
    deps.log.info({ eventId }, "admin: dead letter put back in the inbox");
    deps.wakeInbox();
    res.json({ replayed: eventId });
  });
  return router;
}
