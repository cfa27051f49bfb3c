import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { Logger } from "../logging.js";
import { CsvImportError, parseAbsenceBound } from "../oncall/csvImport.js";
import type { OnCallService } from "../oncall/oncallService.js";
import { conflictJson } from "../oncall/scheduleErrors.js";
import { parseScheduleFile, ScheduleFileError, scheduleUsers } from "../oncall/scheduleFile.js";
import { parseDateTime } from "../oncall/timeParsing.js";
import { requireAdminToken } from "./auth.js";
import { ErrCode, sendError } from "./errors.js";

const BASE = "/_rounds/admin/v1";
const DAY_MS = 86_400_000;

class BadInput extends Error {}

/** A time from a query or body: ISO 8601 with an offset, or a local time in `zone`. */
function time(value: unknown, name: string, zone = "UTC"): Date {
  if (typeof value !== "string" || !value) throw new BadInput(`'${name}' is required: an ISO 8601 date-time such as 2026-03-29T08:00:00Z`);
  const d = parseDateTime(value, zone);
  if (!d) throw new BadInput(`'${name}' must be an ISO 8601 date-time such as 2026-03-29T08:00:00Z (or local YYYY-MM-DDTHH:MM)`);
  return d.toJSDate();
}

function optionalTime(value: unknown, name: string, fallback: Date, zone?: string): Date {
  return value === undefined ? fallback : time(value, name, zone);
}

const isForced = (req: Request) => req.query.force === "1" || req.query.force === "true";

function id(req: Request): number {
  const raw = String(req.params.id);
  if (!/^\d{1,15}$/.test(raw)) throw new BadInput(`'${raw}' is not an id; use the number from the list`);
  return Number(raw);
}

function body(req: Request): Record<string, unknown> {
  if (!req.body || typeof req.body !== "object" || Array.isArray(req.body)) throw new BadInput("send a JSON object as the request body");
  return req.body as Record<string, unknown>;
}

function text(req: Request, what: string): string {
  if (typeof req.body !== "string" || req.body.trim() === "") throw new BadInput(`send the ${what} as the request body`);
  return req.body;
}

/** Whether the homeserver knows a user; unset (or a lookup that fails) means "cannot tell". */
export type UserExists = (userId: string) => Promise<boolean>;

/**
 * The users a schedule names that the homeserver says do not exist: a warning, not a refusal,
 * since a coordinator may import the rota before IT creates the accounts. A lookup that fails
 * (the homeserver may refuse profile lookups) is reported as unchecked, never as absent.
 */
async function checkUsers(yamlText: string, userExists: UserExists | undefined, log: Logger): Promise<{ unknownUsers: string[]; uncheckedUsers: string[] }> {
  const result = { unknownUsers: [] as string[], uncheckedUsers: [] as string[] };
  if (!userExists) return result;
  const users = scheduleUsers(parseScheduleFile(yamlText));
  let failure: string | null = null;
  for (let i = 0; i < users.length; i += 8) {
    const batch = users.slice(i, i + 8);
    const known = await Promise.all(
      batch.map((u) =>
        userExists(u).catch((err: unknown) => {
          failure = (err as Error).message;
          return null;
        }),
      ),
    );
    batch.forEach((u, j) => {
      if (known[j] === false) result.unknownUsers.push(u);
      if (known[j] === null) result.uncheckedUsers.push(u);
    });
  }
  if (failure) log.warn({ err: failure, unchecked: result.uncheckedUsers.length }, "admin: could not check whether some schedule users exist");
  return result;
}

/**
 * The coordinator's schedule API (used by the `rounds` CLI): imports and dry runs, overrides,
 * absences, conflicts, fairness and calendar export. Bad input gets a 400 that says what to fix,
 * and changes nothing; conflicts get a 409 listing them unless the caller passes ?force=1.
 */
export function scheduleAdminRouter(deps: { adminToken: string; oncall: OnCallService; log: Logger; userExists?: UserExists }): Router {
  const { oncall, log } = deps;
  const router = express.Router();
  const rawText = express.text({ type: "*/*", limit: "2mb" });
  const json = express.json({ limit: "100kb" });

  router.use("/_rounds/admin", requireAdminToken(deps.adminToken));

  /** Domain errors to status codes, in one place. */
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof BadInput) return sendError(res, ErrCode.BadJson, err.message);
        if (err instanceof ScheduleFileError || err instanceof CsvImportError) {
          res.status(400).json({ errcode: ErrCode.BadJson, error: err.message, problems: err.problems });
          return;
        }
        next(err);
      }
    };

  router.post(
    `${BASE}/schedule`,
    rawText,
    handle(async (req, res) => {
      const yamlText = text(req, "schedule YAML");
      const result = await oncall.importSchedule(yamlText, { force: isForced(req) });
      const users = await checkUsers(yamlText, deps.userExists, log);
      log.info({ services: result.services, warnings: result.warnings.length, unknownUsers: users.unknownUsers.length }, "admin: schedule imported");
      res.json({ ...result, warnings: result.warnings.map(conflictJson), ...users });
    }),
  );

  router.post(
    `${BASE}/schedule/check`,
    rawText,
    handle(async (req, res) => {
      const yamlText = text(req, "schedule YAML");
      const r = await oncall.checkSchedule(yamlText);
      res.json({ ...r, conflicts: r.conflicts.map(conflictJson), ...(await checkUsers(yamlText, deps.userExists, log)) });
    }),
  );

  router.get(
    `${BASE}/conflicts`,
    handle(async (req, res) => {
      const days = req.query.days === undefined ? undefined : Number(req.query.days);
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 365)) throw new BadInput("'days' must be a whole number from 1 to 365");
      const conflicts = await oncall.conflicts({ days });
      res.json({ conflicts: conflicts.map(conflictJson) });
    }),
  );

  router.get(
    `${BASE}/fairness`,
    handle(async (req, res) => {
      const to = optionalTime(req.query.to, "to", new Date());
      const from = optionalTime(req.query.from, "from", new Date(to.getTime() - 28 * DAY_MS));
      res.json({ from: from.toISOString(), to: to.toISOString(), people: await oncall.fairness(from, to) });
    }),
  );

  // --- overrides ---
  router.get(
    `${BASE}/overrides`,
    handle(async (req, res) => {
      const service = typeof req.query.service === "string" ? req.query.service : undefined;
      const from = req.query.from === undefined ? undefined : time(req.query.from, "from");
      const to = req.query.to === undefined ? undefined : time(req.query.to, "to");
      res.json({ overrides: await oncall.listOverrides({ serviceId: service, from, to }) });
    }),
  );

  router.post(
    `${BASE}/overrides`,
    json,
    handle(async (req, res) => {
      const b = body(req);
      if (typeof b.service !== "string" || typeof b.level !== "string" || typeof b.user !== "string") {
        throw new BadInput("send { service, level, user, start, end, reason? }; times are local to the service unless they carry an offset");
      }
      const svc = await oncall.serviceInfo(b.service);
      if (b.reason !== undefined && typeof b.reason !== "string") throw new BadInput("'reason' must be text");
      const r = await oncall.addOverride(
        { serviceId: svc.id, level: b.level, userId: b.user, startsAt: time(b.start, "start", svc.timezone), endsAt: time(b.end, "end", svc.timezone), reason: (b.reason as string) ?? null },
        { force: isForced(req) },
      );
      log.info({ overrideId: r.id, service: svc.id, warnings: r.warnings.length }, "admin: override added");
      res.json({ id: r.id, warnings: r.warnings.map(conflictJson) });
    }),
  );

  router.post(
    `${BASE}/overrides/import`,
    rawText,
    handle(async (req, res) => {
      const r = await oncall.importOverridesCsv(text(req, "overrides CSV"), { force: isForced(req) });
      log.info({ count: r.ids.length, warnings: r.warnings.length }, "admin: overrides imported");
      res.json({ ids: r.ids, warnings: r.warnings.map(conflictJson) });
    }),
  );

  router.delete(
    `${BASE}/overrides/:id`,
    handle(async (req, res) => {
      await oncall.removeOverride(id(req));
      log.info({ overrideId: id(req) }, "admin: override removed");
      res.json({ removed: id(req) });
    }),
  );

  // --- absences ---
  router.get(
    `${BASE}/absences`,
    handle(async (req, res) => {
      const user = typeof req.query.user === "string" ? req.query.user : undefined;
      res.json({ absences: await oncall.listAbsences({ userId: user }) });
    }),
  );

  router.post(
    `${BASE}/absences`,
    json,
    handle(async (req, res) => {
      const b = body(req);
      if (typeof b.user !== "string" || typeof b.start !== "string" || typeof b.end !== "string") {
        throw new BadInput("send { user, start, end, label?, timezone? }; a bare date is a whole day and the end date is inclusive");
      }
      const zone = typeof b.timezone === "string" ? b.timezone : await oncall.defaultTimezone();
      const startsAt = parseAbsenceBound(b.start, zone, "start");
      const endsAt = parseAbsenceBound(b.end, zone, "end");
      if (!startsAt || !endsAt) throw new BadInput("'start' and 'end' must be dates YYYY-MM-DD or date-times such as 2026-03-29T08:00");
      if (b.label !== undefined && typeof b.label !== "string") throw new BadInput("'label' must be text");
      const r = await oncall.addAbsence({ userId: b.user, startsAt, endsAt, label: (b.label as string) ?? null }, { force: isForced(req) });
      log.info({ absenceId: r.id, warnings: r.warnings.length }, "admin: absence added");
      res.json({ id: r.id, warnings: r.warnings.map(conflictJson) });
    }),
  );

  router.post(
    `${BASE}/absences/import`,
    rawText,
    handle(async (req, res) => {
      const zone = typeof req.query.timezone === "string" ? req.query.timezone : undefined;
      const r = await oncall.importAbsencesCsv(text(req, "absences CSV"), { force: isForced(req), timezone: zone });
      log.info({ count: r.ids.length, warnings: r.warnings.length }, "admin: absences imported");
      res.json({ ids: r.ids, warnings: r.warnings.map(conflictJson) });
    }),
  );

  router.delete(
    `${BASE}/absences/:id`,
    handle(async (req, res) => {
      await oncall.removeAbsence(id(req));
      log.info({ absenceId: id(req) }, "admin: absence removed");
      res.json({ removed: id(req) });
    }),
  );

  // --- calendars ---
  const calendarWindow = (req: Request) => {
    const from = optionalTime(req.query.from, "from", new Date());
    const to = optionalTime(req.query.to, "to", new Date(from.getTime() + 28 * DAY_MS));
    return { from, to };
  };

  router.get(
    `${BASE}/ical/user/:userId`,
    handle(async (req, res) => {
      const { from, to } = calendarWindow(req);
      res.type("text/calendar").send(await oncall.icalForUser(String(req.params.userId), from, to));
    }),
  );

  router.get(
    `${BASE}/ical/service/:serviceId`,
    handle(async (req, res) => {
      const { from, to } = calendarWindow(req);
      res.type("text/calendar").send(await oncall.icalForService(String(req.params.serviceId), from, to));
    }),
  );

  return router;
}
