import { promises as dns, type SrvRecord } from "node:dns";
import { request } from "node:https";
import { BlockList, isIP } from "node:net";

/**
 * Finds where a Matrix server name's federation API is (spec: server-server API, "Resolving
 * server names": IP literal, explicit port, .well-known, SRV, port 8448), checking every address
 * before anything connects to it. A widget names its homeserver before it is authenticated, so
 * without this anyone could make Rounds open connections inside the hospital's network.
 */

/** Private, loopback, link-local, unique-local, CGNAT, multicast, unspecified and reserved ranges. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv6");
}

// Unspecified and IPv4-compatible (::a.b.c.d). In its own list: BlockList matches IPv4 addresses
// against IPv6 rules as if mapped, so ::/96 among the rules above would match every IPv4 address.
// An IPv4-mapped address (::ffff:127.0.0.1) is checked by the IPv4 rules above.
const COMPATIBLE = new BlockList();
COMPATIBLE.addSubnet("::", 96, "ipv6");

/** True for an address Rounds must not connect to on a stranger's say-so (and for non-addresses). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6 && COMPATIBLE.check(address, "ipv6")) return true;
  return PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Why a server was not contacted. The message names no host: the name is the caller's input. */
export class HomeserverRefused extends Error {}

/** One hop, ready to connect: an address that has been checked, and the names TLS and HTTP use. */
export interface HomeserverTarget {
  address: string;
  port: number;
  /** The name the certificate must be valid for. */
  tlsName: string;
  hostHeader: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface ResolverIo {
  lookup(host: string): Promise<Array<{ address: string }>>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** GET over HTTPS to exactly target.address: no lookup of its own. */
  get(target: HomeserverTarget, path: string): Promise<HttpAnswer>;
}

const FEDERATION_PORT = 8448;
const TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024;

/** Every step has a deadline: before authentication, a stranger's slow answers must not hold a request. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), TIMEOUT_MS)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const systemIo: ResolverIo = {
  lookup: (host) => within(dns.lookup(host, { all: true }), "address lookup"),
  resolveSrv: (name) => within(dns.resolveSrv(name), "SRV lookup"),
  get: httpsGet,
};

interface ServerName {
  host: string;
  port?: number;
  ip: boolean;
}

/** host[:port], the host an IPv4 literal, a [bracketed] IPv6 literal or a DNS name. */
export function parseServerName(name: string): ServerName | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)|([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,62})(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,62}))*))(?::(\d{1,5}))?$/.exec(name);
  if (!m || name.length > 255) return null;
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? { host: m[1], port, ip: true } : null;
  if (m[2] !== undefined) return isIP(m[2]) === 4 ? { host: m[2], port, ip: true } : null;
  return { host: m[3]!.toLowerCase(), port, ip: false };
}

export class HomeserverResolver {
  constructor(
    private readonly io: ResolverIo = systemIo,
    /** Server names whose hops may be private: the homeservers the configuration names. */
    private readonly trusted: ReadonlySet<string> = new Set(),
  ) {}

  /** GET `path` on the federation API of `serverName`, every hop checked. */
  async get(serverName: string, path: string): Promise<HttpAnswer> {
    return this.io.get(await this.resolve(serverName), path);
  }

  async resolve(serverName: string): Promise<HomeserverTarget> {
    const name = parseServerName(serverName);
    if (!name) throw new HomeserverRefused("the server name is not valid");
    const allowPrivate = this.trusted.has(serverName);
    const checked = async (host: string, ip: boolean): Promise<string> => {
      const addresses = ip ? [host] : (await this.io.lookup(host)).map((a) => a.address);
      if (addresses.length === 0) throw new HomeserverRefused("a hop has no address");
      // Every address, not only the first: the connection might use any of them.
      if (!allowPrivate && addresses.some(isPrivateAddress)) throw new HomeserverRefused("a hop resolves to a private or local address");
      return addresses[0]!;
    };
    const at = async (host: ServerName, port: number, hostHeader: string): Promise<HomeserverTarget> => ({
      address: await checked(host.host, host.ip),
      port,
      tlsName: host.host,
      hostHeader,
    });

    if (name.ip || name.port !== undefined) return at(name, name.port ?? FEDERATION_PORT, serverName);

    const delegated = await this.wellKnown(await at(name, 443, name.host));
    if (delegated) {
      const d = parseServerName(delegated);
      if (!d) throw new HomeserverRefused("its .well-known names no valid server");
      if (d.ip || d.port !== undefined) return at(d, d.port ?? FEDERATION_PORT, delegated);
      const srv = await this.srv(d.host);
      if (srv) return { ...(await at({ host: srv.name, ip: isIP(srv.name) !== 0 }, srv.port, delegated)), tlsName: d.host };
      return at(d, FEDERATION_PORT, delegated);
    }
    const srv = await this.srv(name.host);
    if (srv) return { ...(await at({ host: srv.name, ip: isIP(srv.name) !== 0 }, srv.port, serverName)), tlsName: name.host };
    return at(name, FEDERATION_PORT, serverName);
  }

  /** The delegated server of /.well-known/matrix/server, or null when there is none. */
  private async wellKnown(target: HomeserverTarget): Promise<string | null> {
    let answer: HttpAnswer;
    try {
      answer = await this.io.get(target, "/.well-known/matrix/server");
    } catch {
      return null;
    }
    if (answer.status !== 200) return null;
    try {
      const server = (JSON.parse(answer.body) as { "m.server"?: unknown })["m.server"];
      return typeof server === "string" ? server : null;
    } catch {
      return null;
    }
  }

  private async srv(host: string): Promise<SrvRecord | null> {
    for (const prefix of ["_matrix-fed._tcp", "_matrix._tcp"]) {
      const records = await this.io.resolveSrv(`${prefix}.${host}`).catch(() => []);
      const best = records.sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
      if (best) return best;
    }
    return null;
  }
}

/** An HTTPS GET to a checked address, with the certificate checked for the server's name. */
function httpsGet(target: HomeserverTarget, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.address,
        port: target.port,
        path,
        method: "GET",
        // TLS may not carry an IP address as its server name; the certificate is then checked against the address.
        ...(isIP(target.tlsName) ? {} : { servername: target.tlsName }),
        headers: { host: target.hostHeader, accept: "application/json" },
        // An address literal: the connection goes where the check was made, with no lookup.
        timeout: TIMEOUT_MS,
      },
      (res) => {
        let size = 0;
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => {
          size += d.length;
          if (size > MAX_BODY_BYTES) return req.destroy(new Error("answer too large"));
          chunks.push(d);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    // The socket timeout is per silence; a server that drips a byte at a time needs a whole deadline.
    const whole = setTimeout(() => req.destroy(new Error("timed out")), TIMEOUT_MS);
    req.on("close", () => clearTimeout(whole));
    req.on("error", reject);
    req.end();
  });
}
