import express, { type Router } from "express";
import { z } from "zod";
import { RulesFileError } from "../alert/alertRules.js";
import { AlertError, type AlertService } from "../alert/alertService.js";
import type { AlertStore } from "../alert/alertStore.js";
import { ruleReport } from "../alert/ruleReport.js";
import type { RuleSetStore } from "../alert/ruleSetStore.js";
import { requireAdminToken } from "./auth.js";
import { jsonBody } from "./bodyParsing.js";
import { ErrCode, sendError } from "./errors.js";

const PatientLimitsBody = z.strictObject({
  patient: z.strictObject({ id: z.string().min(1).max(64), authority: z.string().min(1).max(80) }),
  rule: z.string().min(1).max(64),
  limits: z.unknown(),
});

/** The alert rules for coordinators (check or load a rules file, YAML in a JSON body; see what is in force), and each alert's trail. */
export function alertAdminRouter(deps: { adminToken: string; ruleSets: RuleSetStore; alerts: AlertStore; service: Pick<AlertService, "setPatientLimitsFor" | "allPatientLimits"> }): Router {
  const router = express.Router();
  router.use("/_rounds/admin/v1/alerts", requireAdminToken(deps.adminToken), jsonBody("1mb"));
  router.get("/_rounds/admin/v1/alerts/rules", (_req, res) => {
    res.json(deps.ruleSets.info());
  });
  // Per-rule effectiveness for quality staff and coordinators (no patient data).
  router.get("/_rounds/admin/v1/alerts/report", async (req, res) => {
    const raw = typeof req.query.since === "string" ? req.query.since : null;
    const since = raw ? new Date(raw) : new Date(Date.now() - 30 * 86_400_000);
    if (Number.isNaN(since.getTime())) return sendError(res, ErrCode.BadJson, "'since' must be an ISO date such as 2026-11-01");
    res.json({ since: since.toISOString(), rules: ruleReport(deps.ruleSets.rules().rules, await deps.alerts.outcomes(since)) });
  });
  // The closed loop of one alert for quality staff: each step with its time, references only.
  router.get("/_rounds/admin/v1/alerts/:number/trail", async (req, res) => {
    const n = Number(req.params.number);
    if (!Number.isSafeInteger(n) || n < 1) return sendError(res, ErrCode.BadJson, "the alert number must be a whole number such as 12");
    const a = await deps.alerts.byNumber(n);
    if (!a) return sendError(res, ErrCode.NotFound, `there is no alert #${n}`);
    res.json({
      alert: { number: a.number, id: a.id, rule: a.ruleId, priority: a.priority, status: a.status, repeats: a.repeats, corrections: a.corrections, source: a.source },
      trail: (await deps.alerts.trailOf(a.id)).map((t) => ({ step: t.step, at: t.at.toISOString(), actor: t.actor, ref: t.ref })),
    });
  });
  // Patients' own limits (a coordinator's view has the patient references: this API is behind the admin token).
  router.get("/_rounds/admin/v1/alerts/patient-limits", async (_req, res) => {
    res.json({ limits: (await deps.service.allPatientLimits()).map((l) => ({ patient: l.patient, rule: l.ruleId, limits: l.limits, set_by: l.setBy, set_at: l.setAt.toISOString() })) });
  });
  router.put("/_rounds/admin/v1/alerts/patient-limits", async (req, res) => {
    const body = PatientLimitsBody.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0]!;
      return sendError(res, ErrCode.BadJson, `${issue.path.join(".") || "body"}: ${issue.message}; send {"patient": {"id": "…", "authority": "…"}, "rule": "<lab rule id>", "limits": {"urgent": {"above": 6}} or null}`);
    }
    try {
      const limits = await deps.service.setPatientLimitsFor({ by: "admin", patient: body.data.patient, ruleId: body.data.rule, limits: body.data.limits });
      res.json({ rule: body.data.rule, limits });
    } catch (err) {
      if (err instanceof AlertError) return sendError(res, err.code === "not_found" ? ErrCode.NotFound : ErrCode.BadJson, err.humanMessage);
      throw err;
    }
  });
  router.post("/_rounds/admin/v1/alerts/rules", async (req, res) => {
    const body = req.body as { yaml?: unknown; dry_run?: unknown } | undefined;
    const extra = body && typeof body === "object" ? Object.keys(body).filter((k) => k !== "yaml" && k !== "dry_run") : [];
    if (extra.length) return sendError(res, ErrCode.BadJson, `unknown key '${extra[0]}'; send {"yaml": "<the rules file>", "dry_run": true|false}`);
    if (typeof body?.yaml !== "string") return sendError(res, ErrCode.BadJson, 'send {"yaml": "<the rules file>"}');
    if (body.dry_run !== undefined && typeof body.dry_run !== "boolean") return sendError(res, ErrCode.BadJson, "dry_run: must be true or false");
    try {
      const saved = await deps.ruleSets.save(body.yaml, { dryRun: body.dry_run === true });
      res.json({ version: saved.version, rules: saved.set.rules.map((r) => ({ id: r.id, kind: r.kind })) });
    } catch (err) {
      if (err instanceof RulesFileError) return sendError(res, ErrCode.BadJson, `nothing saved; the rules file has ${err.problems.length} problem(s): ${err.problems.join("; ")}`);
      throw err;
    }
  });
  return router;
}
