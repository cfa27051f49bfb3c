import { BlockList, isIP } from "node:net";
import iconv from "iconv-lite";
import { z } from "zod";
import { readYamlFile } from "../shared/yamlFile.js";

/**
 * Where results may come from. Ingestion is not open: each sender is a configured source with
 * its own credential (an address allow-list for MLLP, a bearer token or an HMAC secret for
 * HTTP) and its own size and rate limits. The file holds no secret: a source names the
 * environment variable that holds its token or HMAC key.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be lower-case letters, digits, '-' or '_' (at most 64)");
const envName = z.string().regex(/^[A-Z][A-Z0-9_]{0,127}$/, "must be the name of an environment variable (upper-case letters, digits, '_')");
const limits = {
  /** Largest message taken, in bytes on the wire. */
  max_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
  /** Messages taken per minute; more are refused, so the sender retries later. */
  per_minute: z.number().int().min(1).max(100_000).default(600),
};

const MllpSourceSchema = z.strictObject({
  id,
  kind: z.literal("mllp"),
  /** Addresses or CIDR blocks (IPv4 or IPv6) the sender connects from. */
  allow: z.array(z.string().min(1)).min(1, "list at least one address or CIDR block the sender connects from"),
  /** MSH-4 the sender must put in each message, when set (several sources may share an address). */
  sending_facility: z.string().min(1).optional(),
  /** The character set of its messages (iconv names: utf-8, latin1, windows-1252, …). */
  encoding: z.string().default("utf-8"),
  ...limits,
});

const FhirSourceSchema = z.strictObject({
  id,
  kind: z.literal("fhir"),
  /** The environment variable holding its bearer token, or its HMAC-SHA256 key. */
  auth: z.union([z.strictObject({ bearer_token_env: envName }), z.strictObject({ hmac_secret_env: envName })]),
  ...limits,
});

const SourcesFileSchema = z.strictObject({
  sources: z.array(z.discriminatedUnion("kind", [MllpSourceSchema, FhirSourceSchema])).min(1, "list at least one source"),
});

export type MllpSource = z.infer<typeof MllpSourceSchema> & { addresses: BlockList };
export type FhirSource = Omit<z.infer<typeof FhirSourceSchema>, "auth"> & { auth: { kind: "bearer"; token: string } | { kind: "hmac"; key: string } };
export type AlertSource = MllpSource | FhirSource;

export class SourcesFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`The alert sources file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SourcesFileError";
  }
}

/** A token or key shorter than this is refused: it would be guessable. */
const MIN_SECRET_CHARS = 24;

function blockList(entries: string[], at: string, problems: string[]): BlockList {
  const list = new BlockList();
  entries.forEach((entry, i) => {
    const [address = "", bits, extra] = entry.split("/");
    const family = isIP(address);
    if (family === 0 || extra !== undefined) {
      problems.push(`${at}.${i}: '${entry}' is not an IP address or CIDR block`);
      return;
    }
    const type = family === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) return list.addAddress(address, type);
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) {
      problems.push(`${at}.${i}: '/${bits}' is not a prefix length for ${type}`);
      return;
    }
    list.addSubnet(address, prefix, type);
  });
  return list;
}

/**
 * Reads the sources file (YAML), with the secrets it names taken from `env`. Every problem is
 * collected with its path, and nothing is taken unless the whole file is valid.
 */
export function parseSourcesFile(text: string, env: Readonly<Record<string, string | undefined>>): AlertSource[] {
  const read = readYamlFile(SourcesFileSchema, text);
  if (!read.ok) throw new SourcesFileError(read.problems);
  const problems: string[] = [];
  const seen = new Set<string>();
  const sources = read.value.sources.map((s, i): AlertSource => {
    const at = `sources.${i}`;
    if (seen.has(s.id)) problems.push(`${at}.id: '${s.id}' is defined twice`);
    seen.add(s.id);
    if (s.kind === "mllp") {
      if (!iconv.encodingExists(s.encoding)) problems.push(`${at}.encoding: '${s.encoding}' is not a character set Rounds knows (utf-8, latin1, windows-1252, …)`);
      return { ...s, addresses: blockList(s.allow, `${at}.allow`, problems) };
    }
    const [name, kind] = "bearer_token_env" in s.auth ? [s.auth.bearer_token_env, "bearer" as const] : [s.auth.hmac_secret_env, "hmac" as const];
    const secret = env[name] ?? "";
    if (secret.length < MIN_SECRET_CHARS) {
      problems.push(`${at}.auth: the environment variable ${name} ${secret ? `is shorter than ${MIN_SECRET_CHARS} characters` : "is not set"}; set it to a long random value`);
    }
    return { ...s, auth: kind === "bearer" ? { kind, token: secret } : { kind, key: secret } };
  });
  if (problems.length) throw new SourcesFileError(problems);
  return sources;
}

/** The MLLP source a connection from `address` may be, for its messages' MSH-4 to choose among. */
export function mllpSourcesFor(sources: readonly AlertSource[], address: string): MllpSource[] {
  const plain = address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const type = isIP(plain) === 6 ? "ipv6" : "ipv4";
  return sources.filter((s): s is MllpSource => s.kind === "mllp" && s.addresses.check(plain, type));
}
