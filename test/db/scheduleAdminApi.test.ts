import { expect } from "chai";
import express from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import ICAL from "ical.js";
import { pino } from "pino";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { scheduleAdminRouter } from "../../appservice/http/scheduleAdminApi.js";
import { errorHandler } from "../../appservice/http/errors.js";
import { OnCallService } from "../../appservice/oncall/oncallService.js";
import { OnCallStore } from "../../appservice/oncall/oncallStore.js";
import { NOW, SCHEDULE } from "./scheduleFixtures.js";
import { migrateAll } from "../harness/migrateAll.js";

/** The schedule admin API over HTTP, down to the database (PGlite). */
describe("schedule admin API", function () {
  let db: Db;
  let server: Server;
  let base: string;
  const token = "admin-secret";
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}/_rounds/admin/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    const type = res.headers.get("content-type") ?? "";
    return { status: res.status, type, body: type.includes("json") ? await res.json() : await res.text() };
  };
  const postJson = (path: string, body: unknown) => call(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    const log = pino({ level: "silent" });
    const oncall = new OnCallService(new OnCallStore(db), { now: () => NOW, conflictWindowDays: 7 });
    const app = express();
    // The homeserver knows everyone but @e and @switch; a lookup of @s2 fails (cannot tell).
    const userExists = async (u: string) => {
      if (u === "@s2:x.org") throw new Error("homeserver unreachable");
      return !["@e:x.org", "@switch:x.org"].includes(u);
    };
    app.use(scheduleAdminRouter({ adminToken: token, oncall, log, userExists }));
    app.use(errorHandler(log));
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    await db.destroy();
  });

  it("refuses a bad token", async function () {
    const res = await fetch(`${base}/_rounds/admin/v1/conflicts`, { headers: { authorization: "Bearer nope" } });
    expect(res.status).to.equal(403);
  });

  it("checks, refuses with 409 and imports with force", async function () {
    const clash = SCHEDULE.replace('members: ["@d:x.org", "@e:x.org"]', 'members: ["@a:x.org", "@e:x.org"]');
    const check = await call("/schedule/check", { method: "POST", body: clash });
    expect(check.status).to.equal(200);
    expect(check.body.conflicts.length).to.be.greaterThan(0);
    const refused = await call("/schedule", { method: "POST", body: clash });
    expect(refused.status).to.equal(409);
    expect(refused.body.conflicts[0]).to.include({ kind: "double-booking", serviceId: "cardiology", userId: "@a:x.org" });
    const bad = await call("/schedule", { method: "POST", body: "services: [" });
    expect(bad.status).to.equal(400);
    expect(bad.body.problems[0]).to.match(/^not valid YAML/);
    expect((await call("/schedule?force=1", { method: "POST", body: clash })).status).to.equal(200);
    const ok = await call("/schedule", { method: "POST", body: SCHEDULE });
    const users = { unknownUsers: ["@switch:x.org", "@e:x.org"], uncheckedUsers: ["@s2:x.org"] };
    expect(ok.body).to.deep.equal({ services: ["cardiology", "icu"], clinicians: 2, warnings: [], ...users });
    expect((await call("/schedule/check", { method: "POST", body: SCHEDULE })).body).to.deep.include(users);
  });

  it("refuses a schedule with an unknown key, naming it and the nearest known key, and changes nothing", async function () {
    const stored = async () => ({
      rotations: await db("oncall_rotations").select().orderBy("id"),
      settings: await db("oncall_settings").select(),
      clinicians: await db("clinicians").select().orderBy("user_id"),
    });
    const before = await stored();
    const typo = SCHEDULE.replace("coordinators:", "coordinatorz:").replace('name: "Dr A"', 'name: "Dr Z"').replace('"@c:x.org"]', '"@z:x.org"]');
    for (const path of ["/schedule", "/schedule/check", "/schedule?force=1"]) {
      const r = await call(path, { method: "POST", body: typo });
      expect(r.status).to.equal(400);
      expect(r.body.problems).to.deep.equal(["unknown key 'coordinatorz' at top level; did you mean 'coordinators'?"]);
    }
    expect(await stored()).to.deep.equal(before);
  });

  it("adds, lists and removes overrides; bad input is a 400 that changes nothing", async function () {
    const bad = await postJson("/overrides", { service: "cardiology", level: "primary", user: "@z:x.org", start: "tomorrow", end: "2026-01-05T18:00" });
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.contain("'start' must be an ISO 8601 date-time");
    const added = await postJson("/overrides", { service: "cardiology", level: "primary", user: "@z:x.org", start: "2026-01-05T12:00", end: "2026-01-05T18:00", reason: "clinic" });
    expect(added.status).to.equal(200);
    const list = await call("/overrides?service=cardiology");
    expect(list.body.overrides.map((o: { id: number; startsAt: string }) => [o.id, o.startsAt])).to.deep.equal([[added.body.id, "2026-01-05T12:00:00.000Z"]]);
    expect((await call(`/overrides/${added.body.id}`, { method: "DELETE" })).status).to.equal(200);
    expect((await call(`/overrides/${added.body.id}`, { method: "DELETE" })).status).to.equal(404);
    const csv = await call("/overrides/import", { method: "POST", body: "service,level,user,start,end\nnope,primary,@z:x.org,2026-01-05T12:00,2026-01-05T18:00\n" });
    expect(csv.status).to.equal(400);
    expect(csv.body.problems).to.deep.equal(["line 2: unknown service 'nope' (known: cardiology, icu)"]);
    const column = await call("/overrides/import", { method: "POST", body: "service,level,user,start,end,resaon\ncardiology,primary,@z:x.org,2026-01-05T12:00,2026-01-05T18:00,clinic\n" });
    expect(column.status).to.equal(400);
    expect(column.body.problems).to.deep.equal(["line 1: unknown column 'resaon'; did you mean 'reason'?"]);
  });

  it("adds absences, refusing a gap with 409 unless forced", async function () {
    const away = { user: "@c:x.org", start: "2026-01-06", end: "2026-01-06", label: "leave" };
    const refused = await postJson("/absences", away);
    expect(refused.status).to.equal(409);
    expect(refused.body.conflicts.map((c: { kind: string }) => c.kind)).to.deep.equal(["gap"]);
    const forced = await postJson("/absences?force=1", away);
    expect(forced.body.warnings).to.have.length(1);
    expect((await call("/conflicts?days=7")).body.conflicts).to.have.length(1);
    expect((await call("/conflicts?days=zero")).status).to.equal(400);
    expect((await call(`/absences/${forced.body.id}`, { method: "DELETE" })).status).to.equal(200);
  });

  it("serves fairness and calendars", async function () {
    const f = await call("/fairness?from=2026-01-05T08:00:00Z&to=2026-01-07T08:00:00Z");
    expect(f.body.people.find((p: { userId: string }) => p.userId === "@c:x.org")).to.include({ hours: 48 });
    const cal = await call("/ical/user/@a:x.org?from=2026-01-05T08:00:00Z&to=2026-01-09T08:00:00Z");
    expect(cal.type).to.contain("text/calendar");
    const events = new ICAL.Component(ICAL.parse(cal.body)).getAllSubcomponents("vevent");
    expect(events.map((e) => e.getFirstPropertyValue("summary"))).to.deep.equal(["On call: Cardiology (primary)", "On call: Cardiology (primary)"]);
    expect((await call("/ical/service/neuro")).status).to.equal(404);
  });
});
