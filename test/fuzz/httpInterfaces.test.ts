import { request } from "node:http";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import fc from "fast-check";
import knexFactory, { type Knex } from "knex";
import { AlertRoute } from "../../appservice/shared/alertApi.js";
import { HandoffRoute } from "../../appservice/shared/handoffApi.js";
import { WidgetRoute } from "../../appservice/shared/consultWidgetApi.js";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import { TestClinician } from "../harness/clinician.js";
import { FakeTwilio } from "../harness/fakeTwilio.js";
import { getHomeserver, type TestHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";
import { TWILIO_SID, TWILIO_TOKEN } from "../harness/pagingScenario.js";
import { createThrowawayDatabase } from "../harness/postgres.js";
import { RoundsProcess } from "../harness/rounds.js";
import { widgetSession } from "../harness/widgetCaller.js";
import { FUZZ_TIME_LIMIT_MS, fuzzRuns } from "./budget.js";
import { hostileStrings } from "./corpus.js";

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** One request exactly as given: the path is not normalised or re-encoded on the way. */
function send(port: number, r: RawRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { "content-length": String(r.body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(r.body);
  });
}

/** Every route Rounds serves, with `:name` where a caller chooses a value. */
const ROUTES: { method: string; path: string; auth: "hs" | "admin" | "widget" | "twilio" | "none" }[] = [
  { method: "PUT", path: "/_matrix/app/v1/transactions/:txnId", auth: "hs" },
  { method: "GET", path: "/_matrix/app/v1/users/:userId", auth: "hs" },
  { method: "GET", path: "/_matrix/app/v1/rooms/:alias", auth: "hs" },
  { method: "POST", path: "/_matrix/app/v1/ping", auth: "hs" },
  { method: "GET", path: "/_rounds/admin/v1/oncall/:service", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/dead-letters", auth: "admin" },
  { method: "POST", path: "/_rounds/admin/v1/dead-letters/:eventId/replay", auth: "admin" },
  { method: "POST", path: "/_rounds/admin/v1/schedule", auth: "admin" },
  { method: "POST", path: "/_rounds/admin/v1/schedule/check", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/timers", auth: "admin" },
  { method: "PUT", path: "/_rounds/admin/v1/contacts/:userId", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/contacts/:userId", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/pages", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/consults/metrics", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/handoff/units", auth: "admin" },
  { method: "PUT", path: "/_rounds/admin/v1/handoff/units/:id", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/handoffs/metrics", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/handoffs/:number/audit", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/alerts/rules", auth: "admin" },
  { method: "POST", path: "/_rounds/admin/v1/alerts/rules", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/alerts/report", auth: "admin" },
  { method: "GET", path: "/_rounds/admin/v1/alerts/:number/trail", auth: "admin" },
  { method: "GET", path: "/_rounds/calendar/v1/:file", auth: "none" },
  { method: "POST", path: "/_rounds/twilio/inbound", auth: "twilio" },
  { method: "POST", path: "/_rounds/twilio/status", auth: "twilio" },
  { method: "POST", path: `${WIDGET_API_PREFIX}/v1/exchange_openid`, auth: "none" },
  ...Object.values(WidgetRoute).flatMap((p) => ["GET", "POST"].map((method) => ({ method, path: `${WIDGET_API_PREFIX}${p}`, auth: "widget" as const }))),
  ...Object.values(AlertRoute).flatMap((p) => ["GET", "POST"].map((method) => ({ method, path: `${WIDGET_API_PREFIX}${p}`, auth: "widget" as const }))),
  ...Object.values(HandoffRoute).flatMap((p) => ["GET", "POST"].map((method) => ({ method, path: `${WIDGET_API_PREFIX}${p}`, auth: "widget" as const }))),
];

/** Path parameters as a hostile caller writes them: raw, so `%` and `%E0%A4%A` arrive undecodable. */
const pathParam = fc.oneof(
  fc.constantFrom("%", "%ZZ", "%E0%A4%A", "%25", "%00", "..%2F..%2Fetc", "constructor", "__proto__", "x".repeat(5000), "1", "$e", "@a:b"),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: "grapheme", maxLength: 20 }).map(encodeURIComponent),
);

const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/yaml",
  "multipart/form-data; boundary=x",
  "garbage/;;;",
);

type BodyKind = { kind: "none" } | { kind: "bytes"; bytes: Uint8Array } | { kind: "json"; value: unknown } | { kind: "text"; text: string } | { kind: "huge" };
const body: fc.Arbitrary<BodyKind> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: "bytes" as const, bytes })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: "json" as const, value })),
  fc.record({ userId: fc.string(), events: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }) }).map((value) => ({ kind: "json" as const, value })),
  fc.constantFrom(...hostileStrings).map((text) => ({ kind: "text" as const, text })),
  fc.constant({ kind: "huge" as const }),
);
const encoding = fc.constantFrom(undefined, "gzip", "gzip-broken", "br", "x-unknown", "identity");
const authChoice = fc.constantFrom("right", "wrong", "none");

describe("fuzz: every HTTP interface refuses bad input with a 4xx and changes nothing (real Synapse, Postgres)", function () {
  let hs: TestHomeserver;
  let rounds: RoundsProcess;
  let twilio: FakeTwilio;
  let pgDb: { url: string; drop(): Promise<void> };
  let db: Knex;
  let widgetToken: string;
  let clinician: TestClinician;

  /** What a refused request must not change: row counts everywhere, and the rows of configuration tables. */
  async function fingerprint(): Promise<string> {
    const tables = (await db("pg_tables").where({ schemaname: "public" }).select("tablename")).map((r) => r.tablename as string).sort();
    const parts: string[] = [];
    for (const t of tables) {
      // Sessions record their last use; the inbox's rows change status as they are handled.
      if (t === "widget_sessions" || t.startsWith("rounds_migrations")) continue;
      const [row] = await db(t).count<{ count: string }[]>("* as count");
      parts.push(`${t}:${row?.count}`);
    }
    return parts.join(",");
  }

  /** The route's own credential, a wrong one, or none. A Twilio signature is never right: forging one is the point. */
  function headersFor(route: (typeof ROUTES)[number], choice: string): Record<string, string> {
    if (choice === "none") return {};
    if (route.auth === "twilio") return { "x-twilio-signature": "bm90LWEtc2lnbmF0dXJlLWF0LWFsbA==" };
    const right = { hs: hs.secrets.hsToken, admin: rounds.adminToken, widget: widgetToken, none: "" }[route.auth];
    return { authorization: `Bearer ${choice === "right" && right ? right : "wrong-token-0123456789abcdef0123456789"}` };
  }

  function bodyBytes(b: BodyKind): Buffer | undefined {
    switch (b.kind) {
      case "none":
        return undefined;
      case "bytes":
        return Buffer.from(b.bytes);
      case "json":
        return Buffer.from(JSON.stringify(b.value) ?? "null");
      case "text":
        return Buffer.from(b.text);
      case "huge":
        return Buffer.alloc(12 * 1024 * 1024, "a");
    }
  }

  before(async function () {
    this.timeout(180_000);
    hs = await getHomeserver();
    pgDb = await createThrowawayDatabase();
    db = knexFactory({ client: "pg", connection: pgDb.url });
    twilio = await FakeTwilio.start({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
    // Its own port, not the registered one: Synapse's pushes for other tests' rooms (a retry of
    // what an earlier test's Rounds left) would otherwise change stored state between two looks.
    const port = await freePort();
    rounds = new RoundsProcess(hs, {
      ROUNDS_APPSERVICE_PORT: String(port),
      DATABASE_URL: pgDb.url,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM_NUMBER: "+15005550006",
      TWILIO_API_URL: twilio.url,
      ROUNDS_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: "info",
    });
    await rounds.start();
    clinician = await TestClinician.create(hs, "fuzzer");
    widgetToken = (await widgetSession(rounds.url, clinician)).token;
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") rounds.dumpLogs(30);
  });

  after(async function () {
    clinician?.stop();
    await rounds?.stop();
    await twilio?.stop();
    await db?.destroy();
    await pgDb?.drop();
  });

  it("answers no client input with a 5xx, and a refused one stores nothing", async function () {
    this.timeout(FUZZ_TIME_LIMIT_MS + 120_000);
    const route = fc.constantFrom(...ROUTES);
    await fc.assert(
      fc.asyncProperty(route, fc.array(pathParam, { minLength: 3, maxLength: 3 }), fc.constantFrom("GET", "POST", "PUT", "DELETE", "route"), authChoice, contentType, encoding, body, async (r, params, methodChoice, auth, ctype, enc, b) => {
        let i = 0;
        const path = r.path.replace(/:[a-zA-Z]+/g, () => params[i++ % params.length]!);
        let bytes = bodyBytes(b);
        const headers: Record<string, string> = { ...headersFor(r, auth) };
        if (ctype) headers["content-type"] = ctype;
        if (enc && bytes) {
          headers["content-encoding"] = enc === "gzip-broken" ? "gzip" : enc;
          if (enc === "gzip") bytes = gzipSync(bytes);
          else if (enc === "gzip-broken") bytes = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), bytes]);
        }
        const before = await fingerprint();
        const res = await send(rounds.port, { method: methodChoice === "route" ? r.method : methodChoice, path, headers, body: bytes });
        expect(res.status, `${methodChoice} ${path.slice(0, 120)} (${ctype}, ${enc}, ${b.kind}): ${res.body.slice(0, 300)}`).to.be.below(500);
        expect(res.body).not.to.match(/\n\s+at .+\(.+:\d+:\d+\)/, "a stack trace in the answer");
        if (res.status >= 400) expect(await fingerprint(), `${r.method} ${path.slice(0, 120)} changed stored state`).to.equal(before);
      }),
      { numRuns: fuzzRuns(400), interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS, examples: [] },
    );
  });

  it("answers the known hostile inputs with a 4xx (the corpus)", async function () {
    const adminAuth = { authorization: `Bearer ${rounds.adminToken}` };
    const hsAuth = { authorization: `Bearer ${hs.secrets.hsToken}` };
    const widgetAuth = { authorization: `Bearer ${widgetToken}` };
    const cases: RawRequest[] = [
      { method: "PUT", path: "/_matrix/app/v1/transactions/t1", headers: { ...hsAuth, "content-type": "application/json; charset=latin1" }, body: Buffer.from('{"events":[]}') },
      { method: "PUT", path: "/_matrix/app/v1/transactions/t1", headers: { ...hsAuth, "content-type": "application/json", "content-encoding": "gzip" }, body: Buffer.from("not gzip") },
      { method: "PUT", path: "/_matrix/app/v1/transactions/t1", headers: { ...hsAuth, "content-type": "application/json", "content-encoding": "x-unknown" }, body: Buffer.from("{}") },
      { method: "PUT", path: "/_matrix/app/v1/transactions/%ZZ", headers: { ...hsAuth, "content-type": "application/json" }, body: Buffer.from('{"events":[]}') },
      { method: "GET", path: "/_rounds/calendar/v1/%25.ics", headers: {} },
      { method: "GET", path: "/_rounds/calendar/v1/%E0%A4%A.ics", headers: {} },
      { method: "POST", path: "/_rounds/admin/v1/dead-letters/%/replay", headers: adminAuth },
      { method: "PUT", path: "/_rounds/admin/v1/contacts/%40a%3Ax", headers: { ...adminAuth, "content-type": "application/json; charset=latin1" }, body: Buffer.from("{}") },
      // A NUL in a path value reached Postgres, which cannot compare it: a 500 (found by the fuzzer).
      { method: "GET", path: `${WIDGET_API_PREFIX}/v1/handoff/units/%00/people`, headers: widgetAuth },
      { method: "GET", path: `${WIDGET_API_PREFIX}/v1/alerts/alerts/1?room_id=%00`, headers: widgetAuth },
      { method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/requests`, headers: { ...widgetAuth, "content-type": "application/json" }, body: Buffer.from("{not json") },
      { method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/requests`, headers: { ...widgetAuth, "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ userId: "@evil:x", room_id: "!r:x", event_id: "$e" })) },
      { method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/requests`, headers: { ...widgetAuth, "content-type": "application/json", "content-encoding": "gzip" }, body: Buffer.from("not gzip") },
      { method: "POST", path: `${WIDGET_API_PREFIX}/v1/consult/requests`, headers: { ...widgetAuth, "content-type": "application/json" }, body: Buffer.alloc(12 * 1024 * 1024, "a") },
    ];
    for (const c of cases) {
      const before = await fingerprint();
      const res = await send(rounds.port, c);
      expect(res.status, `${c.method} ${c.path}: ${res.body.slice(0, 200)}`).to.be.within(400, 499);
      expect(JSON.parse(res.body), `${c.method} ${c.path}`).to.have.property("errcode");
      expect(await fingerprint()).to.equal(before);
    }
  });

  it("keeps serving afterwards", async function () {
    expect(rounds.child?.exitCode).to.equal(null);
    const health = await send(rounds.port, { method: "GET", path: "/health", headers: {} });
    expect(health.status).to.equal(200);
    const timers = await send(rounds.port, { method: "GET", path: "/_rounds/admin/v1/timers", headers: { authorization: `Bearer ${rounds.adminToken}` } });
    expect(timers.status).to.equal(200);
  });
});
