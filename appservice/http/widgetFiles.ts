import { existsSync } from "node:fs";
import { resolve } from "node:path";
import express, { Router } from "express";
import type { Logger } from "../logging.js";
import { WIDGET_PATH } from "../shared/widgetApiPaths.js";
import { ErrCode, sendError } from "./errors.js";

/**
 * The URL a bot installs for a widget. Element fills in the $-variables and appends widgetId and
 * parentUrl; the widget reads them to talk to its host.
 */
export function widgetUrl(publicUrl: string, name: string): string {
  return `${publicUrl.replace(/\/$/, "")}${WIDGET_PATH}/${name}/index.html?roomId=$matrix_room_id&userId=$matrix_user_id&theme=$org.matrix.msc2873.client_theme`;
}

/**
 * Serves the built widgets (the workflows declare which) from the appservice's own origin, so their API calls are same-origin.
 * Hashed assets are cached for good; pages are revalidated so a new build shows at once.
 */
export function widgetFilesRouter(opts: { dir: string; widgets: readonly string[]; renamed?: Readonly<Record<string, string>>; log: Logger }): Router {
  const dir = resolve(opts.dir);
  const router = Router();
  const renamed = new Map(Object.entries(opts.renamed ?? {}));
  // A widget pinned under its former name: the same file in the new folder, query string kept.
  router.use(WIDGET_PATH, (req, res, next) => {
    const q = req.url.indexOf("?");
    const [, first = "", ...rest] = (q === -1 ? req.url : req.url.slice(0, q)).split("/");
    const now = renamed.get(first);
    if (now === undefined) return next();
    res.redirect(308, `${req.baseUrl}/${now}/${rest.join("/")}${q === -1 ? "" : req.url.slice(q)}`);
  });
  const missing = opts.widgets.filter((w) => !existsSync(resolve(dir, w, "index.html")));
  if (missing.length) {
    opts.log.warn({ dir, missing }, "widgets are not built; run `npm run build:widgets` (npm start and npm test build them)");
  }
  router.use(
    WIDGET_PATH,
    express.static(dir, {
      index: ["index.html"],
      setHeaders(res, path) {
        res.setHeader("Cache-Control", path.endsWith(".html") ? "no-cache" : "public, max-age=31536000, immutable");
        res.setHeader("X-Content-Type-Options", "nosniff");
        // Framed by Element from any origin a deployment uses, so no X-Frame-Options here.
        res.setHeader("Referrer-Policy", "no-referrer");
      },
    }),
    (_req, res) => sendError(res, ErrCode.NotFound, missing.length ? "The Rounds widgets are not built on this server. Run `npm run build:widgets`, then reload." : "No such widget file."),
  );
  return router;
}
