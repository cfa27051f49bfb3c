import { createHash, createHmac } from "node:crypto";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { AlertSource, FhirSource } from "../alert/alertSources.js";
import { FhirRefusal, readSubscriptionNotification, resourceKey, validateTaken, type OperationOutcome } from "../alert/fhir/fhirResources.js";
import type { SubscriptionLedger } from "../alert/fhir/subscriptionLedger.js";
import { ReusedKeyError, type InboundMessage, type InboundStore } from "../alert/inboundStore.js";
import type { Logger } from "../logging.js";
import { FixedWindowLimit } from "../shared/fixedWindowLimit.js";
import { tokensMatch } from "./auth.js";

export const FHIR_BASE = "/_rounds/fhir";
/** The header an HMAC source signs its body in: "sha256=<hex>" over the raw bytes. */
export const FHIR_SIGNATURE_HEADER = "x-rounds-signature";

const FHIR_JSON = "application/fhir+json";
/** Unauthenticated requests an address may make per source, as a multiple of the source's rate. */
const ADDRESS_LIMIT_FACTOR = 3;

function answer(res: Response, status: number, outcome: OperationOutcome): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(outcome));
}

const informational = (text: string): OperationOutcome => ({ resourceType: "OperationOutcome", issue: [{ severity: "information", code: "informational", details: { text } }] });

interface Locals {
  source: FhirSource;
  body: unknown;
}

/**
 * Rounds' FHIR R4 endpoint for alert sources: `POST {base}/{source}/{Observation|…}` for one
 * resource, `POST {base}/{source}` for a Bundle of them, and `POST {base}/{source}/notifications`
 * for Subscription rest-hook notifications (R4 Backport). In order: the source (only configured
 * ones), its rate, its size limit, its credential (bearer token or HMAC of the body), then the
 * JSON and each resource's validation. Anything refused gets an OperationOutcome naming the
 * field and stores nothing; a Bundle is stored whole or not at all. A resend (same id and
 * version) is recorded once and answered as the first time.
 */
export function alertFhirRouter(deps: {
  sources: () => readonly AlertSource[];
  inbound: InboundStore;
  subscriptions: SubscriptionLedger;
  /** Counts notifications a source's subscription missed, for IT's monitoring (rounds_alert_fhir_missed_events_total). */
  onMissed?: (source: string, missed: number) => void;
  log: Logger;
}): Router {
  const router = express.Router();
  const limits = new Map<string, FixedWindowLimit>();
  const addressLimits = new Map<string, FixedWindowLimit>();
  const limitOf = (map: Map<string, FixedWindowLimit>, source: FhirSource, max: number) => {
    let l = map.get(source.id);
    if (!l) map.set(source.id, (l = new FixedWindowLimit(max, 60_000)));
    return l;
  };
  const throttled = (res: Response, max: number, per: "source" | "address") => {
    res.setHeader("Retry-After", "60");
    answer(res, 429, FhirRefusal.of(429, "throttled", `more than ${max} requests in a minute from this ${per}; retry after a minute`).outcome());
  };

  router.use(`${FHIR_BASE}/:source`, (req: Request, res: Response, next: NextFunction) => {
    const source = deps.sources().find((s): s is FhirSource => s.kind === "fhir" && s.id === req.params.source);
    if (!source) return answer(res, 404, FhirRefusal.of(404, "not-found", "no FHIR alert source of that name is configured").outcome());
    // Before the credential is known, only the address can be limited; the source's own rate
    // counts authenticated requests, so nobody can spend a source's budget with bad tokens.
    if (!limitOf(addressLimits, source, source.per_minute * ADDRESS_LIMIT_FACTOR).take(req.ip ?? "")) return throttled(res, source.per_minute * ADDRESS_LIMIT_FACTOR, "address");
    const declared = Number(req.header("content-length") ?? "0");
    if (declared > source.max_bytes) return answer(res, 413, FhirRefusal.of(413, "too-costly", `the body is larger than this source's limit of ${source.max_bytes} bytes`).outcome());
    (res.locals as Partial<Locals>).source = source;
    next();
  });

  // The raw bytes first: an HMAC is over exactly what was sent.
  router.use(`${FHIR_BASE}/:source`, (req, res, next) => {
    const { source } = res.locals as Locals;
    express.raw({ type: () => true, limit: source.max_bytes })(req, res, (err?: unknown) => {
      if (err) {
        const tooLarge = (err as { type?: string }).type === "entity.too.large";
        return answer(res, tooLarge ? 413 : 400, FhirRefusal.of(tooLarge ? 413 : 400, tooLarge ? "too-costly" : "structure", tooLarge ? `the body is larger than this source's limit of ${source.max_bytes} bytes` : "the body could not be read").outcome());
      }
      next();
    });
  });

  router.use(`${FHIR_BASE}/:source`, (req, res, next) => {
    const { source } = res.locals as Locals;
    const raw = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
    const ok =
      source.auth.kind === "bearer"
        ? tokensMatch((req.header("authorization") ?? "").replace(/^Bearer /, ""), source.auth.token)
        : tokensMatch(req.header(FHIR_SIGNATURE_HEADER) ?? "", `sha256=${createHmac("sha256", source.auth.key).update(raw).digest("hex")}`);
    if (!ok) {
      deps.log.warn({ source: source.id, address: req.ip }, "FHIR alert source: bad credential");
      return answer(res, 401, FhirRefusal.of(401, "security", source.auth.kind === "bearer" ? "bad or missing bearer token" : `bad or missing ${FHIR_SIGNATURE_HEADER} (sha256=<hex HMAC of the body>)`).outcome());
    }
    if (!limitOf(limits, source, source.per_minute).take(source.id)) return throttled(res, source.per_minute, "source");
    const type = (req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== FHIR_JSON && type !== "application/json") return answer(res, 415, FhirRefusal.of(415, "not-supported", `send ${FHIR_JSON}`).outcome());
    try {
      (res.locals as Locals).body = JSON.parse(raw.toString("utf8"));
    } catch {
      return answer(res, 400, FhirRefusal.of(400, "structure", "the body is not valid JSON").outcome());
    }
    next();
  });

  const contentDigest = (r: unknown) => () => createHash("sha256").update(JSON.stringify(r)).digest("base64url");
  const asMessage = (source: FhirSource, r: unknown, at: string): InboundMessage => {
    const resource = validateTaken(r, at);
    return { source: source.id, key: resourceKey(resource, contentDigest(r)), kind: "fhir", type: resource.resourceType, payload: JSON.stringify(resource) };
  };

  async function store(res: Response, source: FhirSource, messages: InboundMessage[], extra?: string): Promise<void> {
    const results = await deps.inbound.recordAll(messages);
    const fresh = results.filter((r) => !r.duplicate).length;
    deps.log.info({ source: source.id, resources: messages.length, fresh, types: [...new Set(messages.map((m) => m.type))] }, "FHIR alert resources stored");
    const text = `stored ${fresh} resource(s)${messages.length > fresh ? `, ${messages.length - fresh} already received` : ""}${extra ? `; ${extra}` : ""}`;
    answer(res, fresh ? 201 : 200, informational(text));
  }

  const handle = (fn: (req: Request, res: Response, locals: Locals) => Promise<void>) => (req: Request, res: Response) => {
    fn(req, res, res.locals as Locals).catch((err: unknown) => {
      if (err instanceof FhirRefusal) return answer(res, err.status, err.outcome());
      if (err instanceof ReusedKeyError) return answer(res, 409, FhirRefusal.of(409, "conflict", "this id and version were already received with different content; give a changed resource a new meta.versionId").outcome());
      deps.log.error({ source: (res.locals as Locals).source?.id, err: err instanceof Error ? err.message : String(err) }, "FHIR alert request failed");
      answer(res, 500, FhirRefusal.of(500, "exception", "Rounds could not store this; retry it").outcome());
    });
  };

  router.post(
    `${FHIR_BASE}/:source/notifications`,
    handle(async (_req, res, { source, body }) => {
      const n = readSubscriptionNotification(body);
      const messages = n.resources.map((r, i) => asMessage(source, r, `Bundle.entry[${i + 1}].resource`));
      const gap = await deps.subscriptions.check(source.id, n);
      let extra = `${n.type} of ${n.subscription}`;
      if (gap.missed) {
        // Reported, not hidden: the sender is told which to resend, and IT sees the count in Prometheus.
        // What did arrive is still stored: refusing it would lose it too.
        deps.log.warn({ source: source.id, subscription: n.subscription, missed: gap.missed, first: gap.firstMissed, last: gap.lastMissed }, "FHIR subscription: notifications were missed");
        deps.onMissed?.(source.id, gap.missed);
        extra += `; ${gap.missed} earlier notification(s) never arrived (events ${gap.firstMissed}–${gap.lastMissed}): resend them`;
      }
      if (!messages.length) return answer(res, 200, { resourceType: "OperationOutcome", issue: [{ severity: gap.missed ? "warning" : "information", code: gap.missed ? "incomplete" : "informational", details: { text: extra } }] });
      await store(res, source, messages, extra);
    }),
  );

  router.post(
    `${FHIR_BASE}/:source/:type`,
    handle(async (req, res, { source, body }) => {
      const type = (body as { resourceType?: unknown } | null)?.resourceType;
      if (type !== req.params.type) throw FhirRefusal.of(422, "invariant", `the resource is not a ${req.params.type} (resourceType must match the URL)`, "resourceType");
      await store(res, source, [asMessage(source, body, "")]);
    }),
  );

  router.post(
    FHIR_BASE + "/:source",
    handle(async (_req, res, { source, body }) => {
      const bundle = body as { resourceType?: unknown; type?: unknown; entry?: unknown };
      if (bundle?.resourceType !== "Bundle") throw FhirRefusal.of(422, "structure", "POST a Bundle here, or one resource to its type's URL", "resourceType");
      if (!["batch", "transaction", "collection", "message"].includes(String(bundle.type))) throw FhirRefusal.of(422, "value", "Bundle.type must be batch, transaction, collection or message", "Bundle.type");
      if (!Array.isArray(bundle.entry) || bundle.entry.length === 0) throw FhirRefusal.of(422, "required", "the Bundle has no entries", "Bundle.entry");
      // Every entry is checked before any is stored: one bad entry refuses the Bundle.
      const messages = bundle.entry.map((e: unknown, i: number) => asMessage(source, (e as { resource?: unknown } | null)?.resource, `Bundle.entry[${i}].resource`));
      await store(res, source, messages);
    }),
  );

  return router;
}
