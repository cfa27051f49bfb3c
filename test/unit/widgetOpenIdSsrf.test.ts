import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { once } from "node:events";
import { expect } from "chai";
import express from "express";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { isPrivateAddress, systemIo, type HomeserverTarget, type ResolverIo } from "../../appservice/http/homeserverResolver.js";
import { consultWidgetRoutes, type ConsultWidgetDeps } from "../../appservice/http/consultWidgetRoutes.js";
import { widgetApiApp } from "../../appservice/http/widgetApi.js";
import { WidgetSessionStore } from "../../appservice/http/widgetSessionStore.js";
import { createLogger } from "../../appservice/logging.js";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import { freePort } from "../harness/ports.js";
import { migrateAll } from "../harness/migrateAll.js";

const PUBLIC_ADDRESS = "93.184.216.34";

/** A listener on loopback (IPv4 and IPv6) that records every connection made to it. */
async function recordingListener(port: number): Promise<{ port: number; connections: string[]; close(): void }> {
  const connections: string[] = [];
  const servers: NetServer[] = [];
  for (const host of ["127.0.0.1", "::1"]) {
    const s = createNetServer((socket) => {
      connections.push(`${host}:${port}`);
      socket.destroy();
    });
    s.listen(port, host);
    await once(s, "listening");
    servers.push(s);
  }
  return { port, connections, close: () => servers.forEach((s) => s.close()) };
}

describe("widget OpenID exchange: no connection to private addresses (blind SSRF)", function () {
  let db: Db;
  let api: Server;
  let apiUrl: string;
  let trap: Awaited<ReturnType<typeof recordingListener>>;
  let partnerTrap: Awaited<ReturnType<typeof recordingListener>>;
  /** On 443, where a bare server name's .well-known is fetched; null where it cannot listen there. */
  let homeserver: Server;
  /** Every hop the resolver asked to connect to, and every name it looked up. */
  const hops: HomeserverTarget[] = [];
  /** Stand-ins for public DNS: names that resolve to a public address, or point inside. */
  const fakeDns: Record<string, string[]> = { "wk-loop.example": [PUBLIC_ADDRESS], "wk-inside.example": [PUBLIC_ADDRESS], "inside.example": ["10.1.2.3"], "srv-loop.example": [PUBLIC_ADDRESS], "loop.example": ["127.0.0.1"], "mixed.example": [PUBLIC_ADDRESS, "127.0.0.1"] };
  const fakeSrv: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>> = {};
  const fakeWellKnown: Record<string, string> = {};

  before(async function () {
    db = openMemoryDatabase();
    await migrateAll(db);
    trap = await recordingListener(await freePort());
    partnerTrap = await recordingListener(await freePort());
    fakeSrv["_matrix-fed._tcp.srv-loop.example"] = [{ name: "loop.example", port: trap.port, priority: 0, weight: 0 }];
    fakeWellKnown["wk-loop.example"] = JSON.stringify({ "m.server": `127.0.0.1:${trap.port}` });
    fakeWellKnown["wk-inside.example"] = JSON.stringify({ "m.server": "inside.example" });
    // The configured homeserver, on loopback as in tests and dev: its userinfo vouches for alice.
    const hsPort = await freePort();
    homeserver = createServer((req, res) => {
      const ok = req.url?.startsWith("/_matrix/federation/v1/openid/userinfo?access_token=good");
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify(ok ? { sub: "@alice:hospital.test" } : { errcode: "M_UNKNOWN_TOKEN" }));
    }).listen(hsPort, "127.0.0.1");
    await once(homeserver, "listening");

    const io: ResolverIo = {
      lookup: async (host) => (fakeDns[host] ? fakeDns[host].map((address) => ({ address })) : systemIo.lookup(host)),
      resolveSrv: async (name) => fakeSrv[name] ?? [],
      get: async (target, path) => {
        hops.push(target);
        // The stand-in public server answers its .well-known; anything else really connects.
        if (target.address === PUBLIC_ADDRESS) {
          const body = fakeWellKnown[target.hostHeader];
          return body && path === "/.well-known/matrix/server" ? { status: 200, body } : { status: 404, body: "{}" };
        }
        return systemIo.get(target, path);
      },
    };
    const stub = new Proxy({}, { get: () => async () => ({ outgoing: [], incoming: [] }) });
    const consults = { consults: stub, oncall: stub, rooms: stub } as Pick<ConsultWidgetDeps, "consults" | "oncall" | "rooms">;
    const widgetApi = await widgetApiApp({
      routes: [consultWidgetRoutes({ ...consults, serverName: "hospital.test", maxAttachmentBytes: 1024, expectedResponseMinutes: { emergent: 15, urgent: 60, routine: 240 } })],
      sessions: new WidgetSessionStore(db),
      serverName: "hospital.test",
      homeserverUrl: `http://127.0.0.1:${hsPort}`,
      partnerServers: [`localhost:${partnerTrap.port}`],
      resolverIo: io,
      rateLimitPerMinute: 1000,
      sessionSeconds: 3600,
      log: createLogger("silent"),
    });
    const app = express().use(widgetApi);
    const port = await freePort();
    api = app.listen(port, "127.0.0.1");
    await once(api, "listening");
    apiUrl = `http://127.0.0.1:${port}${WIDGET_API_PREFIX}`;
  });
  after(async function () {
    api.close();
    homeserver.close();
    trap.close();
    partnerTrap.close();
    await db.destroy();
  });
  beforeEach(() => (hops.length = 0));

  const exchange = async (matrixServer: string, openIdToken = "x") => {
    const res = await fetch(`${apiUrl}/v1/exchange_openid`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ matrixServer, openIdToken }) });
    return { status: res.status, json: (await res.json()) as { errcode?: string; token?: string; userId?: string } };
  };

  for (const name of ["localhost", "localhost:PORT", "127.0.0.1:PORT", "[::1]", "[::1]:PORT", "[::ffff:127.0.0.1]:PORT", "wk-loop.example", "wk-inside.example", "srv-loop.example", "mixed.example"]) {
    it(`refuses ${name} without connecting to it`, async function () {
      const r = await exchange(name.replace("PORT", String(trap.port)));
      expect(r.status).to.equal(401);
      expect(r.json.errcode).to.equal("M_UNAUTHORIZED");
      // The exchange answers only after all its I/O, and every connection goes through the
      // transport whose hops are recorded: nothing can land later.
      expect(trap.connections, "connections to the loopback listener").to.deep.equal([]);
      expect(hops.filter((h) => isPrivateAddress(h.address)), "private hops handed to the transport").to.deep.equal([]);
    });
  }

  it("refuses a bare localhost without fetching its .well-known from port 443", async function () {
    const r = await exchange("localhost");
    expect(r.status).to.equal(401);
    // Not even the .well-known lookup, the first hop, was handed to the transport.
    expect(hops, "hops handed to the transport").to.deep.equal([]);
  });

  it("does follow a public .well-known, checking its answer before connecting", async function () {
    await exchange("wk-loop.example");
    expect(hops.map((h) => `${h.address}:${h.port}`)).to.deep.equal([`${PUBLIC_ADDRESS}:443`]);
  });

  it("refuses a server name that is not one, with no lookup", async function () {
    for (const bad of ["", "a b", "x:0", "[fe80::1%eth0]", "@alice:hospital.test"]) {
      const r = await exchange(bad);
      expect(r.status, bad).to.be.oneOf([400, 401]);
    }
    expect(hops).to.deep.equal([]);
  });

  it("still exchanges a token of the configured homeserver, on loopback", async function () {
    const r = await exchange("hospital.test", "good");
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    expect(r.json.userId).to.equal("@alice:hospital.test");
    const mine = await fetch(`${apiUrl}/v1/consult/mine`, { headers: { authorization: `Bearer ${r.json.token}` } });
    expect(mine.status).to.equal(200);
    expect((await exchange("hospital.test", "bad")).status).to.equal(401);
  });

  it("contacts a configured partner server even on loopback", async function () {
    await exchange(`localhost:${partnerTrap.port}`);
    expect(partnerTrap.connections.length).to.be.greaterThan(0);
  });

  it("classifies addresses", function () {
    for (const a of ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0", "::", "::1", "fe80::1", "fd12::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::127.0.0.1"]) {
      expect(isPrivateAddress(a), a).to.equal(true);
    }
    for (const a of [PUBLIC_ADDRESS, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(a), a).to.equal(false);
  });
});
