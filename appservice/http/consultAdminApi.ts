import express, { type Router } from "express";
import type { ConsultService } from "../consult/consultService.js";
import { requireAdminToken } from "./auth.js";
import { ErrCode, sendError } from "./errors.js";

/**
 * Consult response times for IT and service leads: p50/p90 time to accept and to complete per
 * service (`rounds consults metrics`). The same figures are Prometheus histograms.
 */
export function consultAdminRouter(deps: { adminToken: string; consults: ConsultService }): Router {
  const router = express.Router();
  router.use("/_rounds/admin/v1/consults", requireAdminToken(deps.adminToken));
  router.get("/_rounds/admin/v1/consults/metrics", async (req, res) => {
    const raw = typeof req.query.since === "string" ? req.query.since : null;
    const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
    if (Number.isNaN(since.getTime())) return sendError(res, ErrCode.BadJson, "'since' must be an ISO date such as 2026-11-01");
    res.json(await deps.consults.responseTimes(since));
  });
  return router;
}
