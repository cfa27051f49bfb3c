import { request, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import express from "express";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { adminRouter } from "../../appservice/http/adminApi.js";
import { appserviceRouter } from "../../appservice/http/appserviceApi.js";
import { calendarFeedRouter } from "../../appservice/http/calendarFeedApi.js";
import { pagingAdminRouter } from "../../appservice/http/pagingAdminApi.js";
import { errorHandler } from "../../appservice/http/errors.js";
import { handoffAdminRouter } from "../../appservice/http/handoffAdminApi.js";
import { scheduleAdminRouter } from "../../appservice/http/scheduleAdminApi.js";
import { consultWidgetRoutes, type ConsultWidgetDeps } from "../../appservice/http/consultWidgetRoutes.js";
import { widgetApiApp } from "../../appservice/http/widgetApi.js";
import { WidgetSessionStore } from "../../appservice/http/widgetSessionStore.js";
import { createLogger } from "../../appservice/logging.js";
import { Metrics } from "../../appservice/metrics.js";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import { freePort } from "../harness/ports.js";
import { migrateAll } from "../harness/migrateAll.js";

const HS_TOKEN = "hs-token-0123456789abcdef";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";
const WIDGET_TOKEN = "rw_" + "a".repeat(32);

/** Who touched a stub, so a refused request can be shown to have changed nothing. */
const touched: string[] = [];
const stub = <T>(name: string): T =>
  new Proxy({}, { get: (_t, key) => (key === "then" ? undefined : async () => (touched.push(`${name}.${String(key)}`), null)) }) as T;

/** The routers composed as main.ts composes them, on stub services that record any call. */
async function serve(db: Db): Promise<{ url: string; server: Server }> {
  const log = createLogger("silent");
  const app = express();
  app.use(calendarFeedRouter({ feeds: stub("feeds"), log }));
  const consults = { consults: stub("consults"), oncall: stub("oncall"), rooms: stub("rooms") } as Pick<ConsultWidgetDeps, "consults" | "oncall" | "rooms">;
  const widgetApi = await widgetApiApp({
    routes: [consultWidgetRoutes({ ...consults, serverName: "hospital.test", maxAttachmentBytes: 1024, expectedResponseMinutes: { emergent: 15, urgent: 60, routine: 240 } })],
    sessions: new WidgetSessionStore(db),
    serverName: "hospital.test",
    homeserverUrl: "http://127.0.0.1:9",
    rateLimitPerMinute: 1000,
    sessionSeconds: 3600,
    log,
  });
  app.use(WIDGET_API_PREFIX, (req, res, next) => {
    req.url = req.originalUrl;
    widgetApi(req, res, next);
  });
  app.use(scheduleAdminRouter({ adminToken: ADMIN_TOKEN, oncall: stub("oncall"), log }));
  app.use(adminRouter({ adminToken: ADMIN_TOKEN, oncall: stub("oncall"), inbox: stub("inbox"), wakeInbox: () => {}, log }));
  app.use(pagingAdminRouter({ adminToken: ADMIN_TOKEN, contacts: stub("contacts"), pages: stub("pages"), timers: stub("timers"), log }));
  app.use(handoffAdminRouter({ adminToken: ADMIN_TOKEN, handoffs: stub("handoffs") }));
  app.use(appserviceRouter({ hsToken: HS_TOKEN, inbox: stub("inbox"), onCommitted: () => {}, isOurUser: () => false, log, metrics: new Metrics() }));
  app.use(errorHandler(log));
  const port = await freePort();
  const server = await new Promise<Server>((r) => {
    const s = app.listen(port, "127.0.0.1", () => r(s));
  });
  return { url: `http://127.0.0.1:${port}`, server };
}

interface Call {
  name: string;
  method: string;
  path: string;
  token?: string;
}

const bodyRoutes: Call[] = [
  { name: "transaction", method: "PUT", path: "/_matrix/app/v1/transactions/t1", token: HS_TOKEN },
  { name: "schedule override", method: "POST", path: "/_rounds/admin/v1/overrides", token: ADMIN_TOKEN },
  { name: "contact", method: "PUT", path: "/_rounds/admin/v1/contacts/@alice:hospital.test", token: ADMIN_TOKEN },
  { name: "handoff unit", method: "PUT", path: "/_rounds/admin/v1/handoff/units/icu", token: ADMIN_TOKEN },
  { name: "calendar", method: "GET", path: "/_rounds/calendar/v1/aaaaaaaaaaaaaaaaaaaaaaaa.ics" },
  { name: "widget OpenID exchange", method: "POST", path: `${WIDGET_API_PREFIX}/v1/exchange_openid` },
  { name: "widget consult accept", method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/consults/c1/accept`, token: WIDGET_TOKEN },
];

const badBodies: Array<{ what: string; headers: Record<string, string>; body: Buffer }> = [
  { what: "a latin1 charset", headers: { "content-type": "application/json; charset=latin1" }, body: Buffer.from('{"events":[]}', "latin1") },
  { what: "bad gzip", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: Buffer.from("not gzip at all") },
  { what: "an unknown Content-Encoding", headers: { "content-type": "application/json", "content-encoding": "x-rounds-unknown" }, body: Buffer.from("{}") },
  { what: "malformed JSON", headers: { "content-type": "application/json" }, body: Buffer.from('{"events": [') },
  { what: "malformed gzipped JSON", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gzipSync('{"events": [') },
];

/** A raw request: fetch refuses a GET with a body, and the calendar route must survive one. */
function call(base: string, c: Call, init: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; text: string; json: { errcode?: string; error?: string } | null }> {
  const headers: Record<string, string> = { ...init.headers };
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
  return new Promise((resolve, reject) => {
    const req = request(`${base}${c.path}`, { method: c.method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        let json = null;
        try {
          json = JSON.parse(text) as { errcode?: string; error?: string };
        } catch {
          /* asserted by the caller */
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

function expectClientError(r: { status: number; text: string; json: { errcode?: string; error?: string } | null }, what: string) {
  expect(r.status, `${what}: ${r.text}`).to.be.within(400, 499);
  expect(r.json?.errcode, `${what}: an errcode`).to.match(/^M_/);
  expect(r.text, `${what}: no stack trace`).to.not.match(/ at .*\.(js|ts):\d+/);
}

describe("HTTP interfaces answer client errors with 4xx and an errcode", function () {
  let db: Db;
  let base: string;
  let server: Server;

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    await new WidgetSessionStore(db).createSession({ userId: "@alice:hospital.test", token: WIDGET_TOKEN, expiresTs: Date.now() + 3_600_000 });
    ({ url: base, server } = await serve(db));
  });
  after(async function () {
    server.close();
    await db.destroy();
  });
  beforeEach(() => (touched.length = 0));

  for (const route of bodyRoutes) {
    for (const bad of badBodies) {
      it(`${route.name}: ${bad.what}`, async function () {
        const r = await call(base, route, { headers: bad.headers, body: bad.body });
        expectClientError(r, `${route.name} with ${bad.what}`);
        // A GET's body is never read: the feed answers as for any unknown secret.
        if (route.method === "GET") expect(r.status, r.text).to.equal(404);
        else expect(touched, "nothing reached a service").to.deep.equal([]);
      });
    }
  }

  it("refuses a handoff unit with an unknown key at any level, naming it and the nearest known key, and saves nothing", async function () {
    const unit = { name: "ICU", template: "sbar", timezone: "Europe/London", chekclist: ["Allergies"], charge: { userz: ["@c:hospital.test"] } };
    const route = bodyRoutes.find((r) => r.name === "handoff unit")!;
    const r = await call(base, route, { headers: { "content-type": "application/json" }, body: JSON.stringify(unit) });
    expectClientError(r, "unit with unknown keys");
    expect(r.json?.error).to.contain("'chekclist'").and.contain("did you mean 'checklist'").and.contain("'userz'").and.contain("charge");
    expect(touched).to.deep.equal([]);
  });

  it("refuses a body over the widget API's limit with 413", async function () {
    const r = await call(base, bodyRoutes[6]!, { headers: { "content-type": "application/json" }, body: JSON.stringify({ room_id: "!r:x", pad: "x".repeat(200_000) }) });
    expectClientError(r, "oversized widget body");
    expect(r.status).to.equal(413);
    expect(r.json?.errcode).to.equal("M_TOO_LARGE");
  });

  it("refuses a widget body that names a userId, instead of 500 M_AS_DISABLED_FEATURE", async function () {
    const r = await call(base, bodyRoutes[6]!, { headers: { "content-type": "application/json" }, body: JSON.stringify({ room_id: "!r:hospital.test", userId: "@bob:hospital.test" }) });
    expectClientError(r, "userId in widget body");
    expect(r.status).to.equal(400);
    expect(touched).to.deep.equal([]);
  });

  it("a widget GET without a body still reaches its handler", async function () {
    const r = await call(base, { name: "mine", method: "GET", path: `${WIDGET_API_PREFIX}/v1/consult/mine`, token: WIDGET_TOKEN });
    expect(r.status, r.text).to.equal(200);
    expect(touched).to.deep.equal(["consults.forUser"]);
  });

  it("a well-formed widget POST still reaches its handler", async function () {
    const r = await call(base, bodyRoutes[6]!, { headers: { "content-type": "application/json" }, body: JSON.stringify({ room_id: "!r:hospital.test" }) });
    // The stub room writer knows no membership, so the caller is refused as a non-member.
    expect(r.status, r.text).to.equal(403);
    expect(touched).to.deep.equal(["rooms.membership"]);
  });

  describe("reads no body before authentication", function () {
    const unauthenticated: Call[] = [
      { name: "transaction with a wrong hs_token", method: "PUT", path: "/_matrix/app/v1/transactions/t2", token: "wrong" },
      { name: "admin without a token", method: "PUT", path: "/_rounds/admin/v1/contacts/@alice:hospital.test" },
      { name: "widget call with an unknown session", method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/consults/c1/accept`, token: "rw_unknown" },
    ];
    for (const route of unauthenticated) {
      it(route.name, async function () {
        const r = await call(base, route, { headers: { "content-type": "application/json" }, body: "{not json" });
        expectClientError(r, route.name);
        expect(r.status, r.text).to.be.oneOf([401, 403]);
      });
    }
  });

  it("a calendar secret of a lone % is an unknown calendar", async function () {
    const r = await call(base, { name: "calendar %25", method: "GET", path: "/_rounds/calendar/v1/%25.ics" });
    expectClientError(r, "calendar %25");
    expect(r.status).to.equal(404);
  });

  describe("an undecodable % in a route parameter", function () {
    const paths: Call[] = [
      { name: "calendar truncated UTF-8", method: "GET", path: "/_rounds/calendar/v1/%E0%A4%A.ics" },
      { name: "dead-letter id", method: "POST", path: "/_rounds/admin/v1/dead-letters/%ZZ/replay", token: ADMIN_TOKEN },
      { name: "txnId", method: "PUT", path: "/_matrix/app/v1/transactions/%ZZ", token: HS_TOKEN },
      { name: "contact user id", method: "GET", path: "/_rounds/admin/v1/contacts/%E0%A4%A", token: ADMIN_TOKEN },
      { name: "widget consult id", method: "GET", path: `${WIDGET_API_PREFIX}/v1/consult/consults/%ZZ`, token: WIDGET_TOKEN },
    ];
    for (const route of paths) {
      it(route.name, async function () {
        const r = await call(base, route, route.method === "GET" ? {} : { headers: { "content-type": "application/json" }, body: '{"events":[]}' });
        expectClientError(r, route.name);
        expect(touched).to.deep.equal([]);
      });
    }
  });
});
