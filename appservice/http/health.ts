import express, { type Router } from "express";
import type { Db } from "../db/connect.js";

/** /health answers 200 only when both the database and the homeserver answer. */
export function healthRouter(deps: { db: Db; homeserverUrl: string; botsReady: () => boolean }): Router {
  const router = express.Router();
  router.get("/health", async (_req, res) => {
    const checks = { database: false, homeserver: false, bots: deps.botsReady() };
    try {
      await deps.db.raw("select 1");
      checks.database = true;
    } catch {
      /* reported below */
    }
    try {
      const r = await fetch(`${deps.homeserverUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(3000) });
      checks.homeserver = r.ok;
    } catch {
      /* reported below */
    }
    const ok = checks.database && checks.homeserver;
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "unavailable", checks });
  });
  return router;
}
