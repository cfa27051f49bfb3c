import type { Server } from "node:http";
import { expect } from "chai";
import express from "express";
import { openMemoryDatabase, type Db } from "../../appservice/db/connect.js";
import { healthRouter } from "../../appservice/http/health.js";
import { getHomeserver } from "../harness/homeserver.js";
import { freePort } from "../harness/ports.js";

async function serve(db: Db, homeserverUrl: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(healthRouter({ db, homeserverUrl, botsReady: () => true }));
  const port = await freePort();
  const server = await new Promise<Server>((r) => {
    const s = app.listen(port, "127.0.0.1", () => r(s));
  });
  return { url: `http://127.0.0.1:${port}/health`, server };
}

describe("/health", function () {
  let hsUrl: string;

  before(async function () {
    hsUrl = (await getHomeserver()).url;
  });

  it("answers 200 when the database and the homeserver both answer", async function () {
    const db = openMemoryDatabase();
    const { url, server } = await serve(db, hsUrl);
    const res = await fetch(url);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: "ok", checks: { database: true, homeserver: true, bots: true } });
    server.close();
    await db.destroy();
  });

  it("answers 503 when the homeserver is unreachable", async function () {
    const db = openMemoryDatabase();
    const { url, server } = await serve(db, `http://127.0.0.1:${await freePort()}`);
    const res = await fetch(url);
    expect(res.status).to.equal(503);
    expect((await res.json()).checks).to.include({ database: true, homeserver: false });
    server.close();
    await db.destroy();
  });

  it("answers 503 when the database is unreachable", async function () {
    const db = openMemoryDatabase();
    await db.destroy();
    const { url, server } = await serve(db, hsUrl);
    const res = await fetch(url);
    expect(res.status).to.equal(503);
    expect((await res.json()).checks).to.include({ database: false, homeserver: true });
    server.close();
  });
});
