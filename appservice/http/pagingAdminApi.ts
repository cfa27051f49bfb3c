import express, { type Router } from "express";
import { z } from "zod";
import type { Logger } from "../logging.js";
import type { ContactService } from "../paging/contactService.js";
import type { PageService } from "../paging/pageService.js";
import type { TimerStore } from "../timers/timerStore.js";
import { matrixUserId } from "../shared/events/index.js";
import { requireAdminToken } from "./auth.js";
import { jsonBody } from "./bodyParsing.js";
import { ErrCode, sendError } from "./errors.js";

const delay = z.union([z.number().int().min(0).max(86_400), z.null()]);
const ContactBody = z
  .object({
    phone: z.union([z.string().regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 phone number such as +447700900123"), z.null()]).optional(),
    smsAfter: z.object({ emergent: delay, urgent: delay, routine: delay }).partial().strict().optional(),
  })
  .strict();

/**
 * Paging for IT and the coordinator: contacts, open pages and pending timers (`rounds contact
 * ...`, `rounds pages`). Phone numbers go in and never come back out in full: answers show only
 * the last digits.
 */
export function pagingAdminRouter(deps: { adminToken: string; contacts: ContactService; pages: PageService; timers: TimerStore; log: Logger }): Router {
  const router = express.Router();
  router.use(["/_rounds/admin/v1/contacts", "/_rounds/admin/v1/pages", "/_rounds/admin/v1/timers"], requireAdminToken(deps.adminToken));

  // Pending timers, for operators checking that nothing is stuck (ids and times only).
  router.get("/_rounds/admin/v1/timers", async (_req, res) => {
    res.json({ timers: (await deps.timers.pending()).map((t) => ({ kind: t.kind, ref: t.ref, step: t.step, dueAt: t.dueAt.toISOString() })) });
  });

  router.put("/_rounds/admin/v1/contacts/:userId", jsonBody("16kb"), async (req, res) => {
    const user = matrixUserId.safeParse(req.params.userId);
    if (!user.success) return sendError(res, ErrCode.BadJson, `'${String(req.params.userId)}' is not a Matrix user id such as @alice:rounds.local`);
    const body = ContactBody.safeParse(req.body);
    if (!body.success) {
      const i = body.error.issues[0]!;
      return sendError(res, ErrCode.BadJson, `${i.path.join(".") || "body"}: ${i.message}`);
    }
    const c = await deps.contacts.update(user.data, body.data);
    deps.log.info({ userId: user.data }, "admin: contact updated");
    res.json(masked(c));
  });

  router.get("/_rounds/admin/v1/contacts/:userId", async (req, res) => {
    const user = matrixUserId.safeParse(req.params.userId);
    if (!user.success) return sendError(res, ErrCode.BadJson, `'${String(req.params.userId)}' is not a Matrix user id`);
    res.json(masked(await deps.contacts.get(user.data)));
  });

  router.get("/_rounds/admin/v1/pages", async (_req, res) => {
    const open = await deps.pages.openPages();
    res.json({
      pages: open.map((p) => ({
        number: p.number,
        id: p.id,
        service: p.serviceId,
        urgency: p.urgency,
        status: p.status,
        step: p.step,
        targets: p.targets,
        requester: p.requester,
        exhausted: p.exhausted,
        createdAt: p.createdAt.toISOString(),
        deadlineAt: p.deadlineAt?.toISOString() ?? null,
      })),
    });
  });
  return router;
}


function masked(c: { userId: string; phone: string | null; smsAfter: Record<string, number | null> }) {
  return { userId: c.userId, phone: c.phone ? `…${c.phone.slice(-3)}` : null, smsAfter: c.smsAfter };
}
