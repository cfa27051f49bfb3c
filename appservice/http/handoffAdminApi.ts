import express, { type Router } from "express";
import type { HandoffService } from "../handoff/handoffService.js";
import { unknownKeys } from "../shared/unknownKeys.js";
import { requireAdminToken } from "./auth.js";
import { jsonBody } from "./bodyParsing.js";
import { ErrCode, sendError } from "./errors.js";
import { HandoffUnitSchema } from "../handoff/handoffUnitSchema.js";

/**
 * Handoffs for IT and unit leads: the units' settings (template, checklist, shift times, charge
 * role), quality figures per unit, and each handoff's audit trail (who presented, read back,
 * signed off and overrode, with event references only). `rounds handoffs ...` calls these.
 */
export function handoffAdminRouter(deps: { adminToken: string; handoffs: HandoffService }): Router {
  const router = express.Router();
  router.use(["/_rounds/admin/v1/handoff", "/_rounds/admin/v1/handoffs"], requireAdminToken(deps.adminToken));
  router.use("/_rounds/admin/v1/handoff", jsonBody("64kb"));

  router.get("/_rounds/admin/v1/handoff/units", async (_req, res) => {
    res.json({ units: await deps.handoffs.listUnits() });
  });
  router.put("/_rounds/admin/v1/handoff/units/:id", async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== "object" || Array.isArray(body)) return sendError(res, ErrCode.BadJson, "send the unit as a JSON object");
    if (body.id !== undefined && body.id !== req.params.id) return sendError(res, ErrCode.BadJson, "id: must match the unit id in the URL");
    // Unknown keys by name with the nearest known one, at every level: a misspelt key would
    // otherwise be dropped and its setting silently lost.
    const unknown = unknownKeys(HandoffUnitSchema, body);
    if (unknown.length > 0) return sendError(res, ErrCode.BadJson, unknown.join("; "));
    res.json({ unit: await deps.handoffs.saveUnit({ ...body, id: req.params.id }) });
  });
  router.get("/_rounds/admin/v1/handoffs/metrics", async (req, res) => {
    const raw = typeof req.query.since === "string" ? req.query.since : null;
    const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
    if (Number.isNaN(since.getTime())) return sendError(res, ErrCode.BadJson, "'since' must be an ISO date such as 2026-11-01");
    res.json(await deps.handoffs.quality(since, typeof req.query.unit === "string" && req.query.unit ? req.query.unit : undefined));
  });
  router.get("/_rounds/admin/v1/handoffs/:number/audit", async (req, res) => {
    const n = Number(req.params.number);
    if (!Number.isSafeInteger(n) || n < 1) return sendError(res, ErrCode.BadJson, "the handoff number must be a whole number such as 12");
    const h = await deps.handoffs.byNumber(n);
    res.json({ handoff: { number: h.number, id: h.id, unit: h.unit, status: h.status, outgoing: h.outgoing, incoming: h.incoming }, audit: await deps.handoffs.audit(h.id) });
  });
  return router;
}
