// A tiny HTTP server for the host page and fixture widgets. It listens on loopback; `hostname`
// picks the origin pages see, so `localhost` and `127.0.0.1` give two origins as Element and a
// widget have in real life.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface StaticFile {
  contentType: string;
  body: string;
}

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

export async function serveStatic(hostname: "localhost" | "127.0.0.1", files: Record<string, StaticFile>): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? "/", "http://x").pathname];
    if (!file) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": file.contentType, "Cache-Control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${hostname}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
