import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { InboxStore } from "../inbox/inboxStore.js";
import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics.js";
import { receiptEvents } from "../inbox/receiptEvents.js";
import { ClientEventSchema, TransactionBodySchema, type ClientEvent } from "../shared/events/index.js";
import { bearerToken, tokensMatch } from "./auth.js";
import { jsonBody } from "./bodyParsing.js";
import { ErrCode, sendError } from "./errors.js";

/**
 * The appservice API Synapse calls. Transactions are committed to the inbox before the 200, so an
 * acknowledged event is never lost. Events are known by their event id: a repeated transaction
 * stores nothing twice, and a txn id reused after a Synapse restart still delivers its events.
 */
export function appserviceRouter(deps: {
  hsToken: string;
  inbox: InboxStore;
  onCommitted: () => void;
  isOurUser: (userId: string) => boolean;
  log: Logger;
  metrics: Metrics;
}): Router {
  const { log, metrics } = deps;
  const router = express.Router();
  // Read after auth: no body is parsed for a caller without the hs_token. Synapse sends up to 100
  // events of up to 64 KiB, each with its previous content, plus ephemeral events: well over
  // 10 MB at worst. Any refusal here is retried by Synapse for ever, so the limit is far above it.
  const json = jsonBody("64mb");

  const auth = (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req, true);
    if (token === undefined) return sendError(res, ErrCode.Unauthorized, "missing hs_token");
    if (!tokensMatch(token, deps.hsToken)) {
      metrics.transactions.inc({ outcome: "forbidden" });
      log.warn({ path: req.path }, "appservice: request with a wrong hs_token refused");
      return sendError(res, ErrCode.Forbidden, "bad hs_token");
    }
    next();
  };

  const putTransaction = async (req: Request, res: Response) => {
    const txnId = String(req.params.txnId);
    const body = TransactionBodySchema.safeParse(req.body);
    if (!body.success) {
      metrics.transactions.inc({ outcome: "bad_request" });
      return sendError(res, ErrCode.BadJson, "transaction body must be an object with an 'events' array");
    }
    const events: ClientEvent[] = [];
    for (const raw of body.data.events) {
      const ev = ClientEventSchema.safeParse(raw);
      if (ev.success) events.push(ev.data);
      else log.warn({ txnId, issue: ev.error.issues[0]?.path.join(".") }, "appservice: dropped an invalid event");
    }
    // Read receipts ride the same transaction (ephemeral, MSC2409): stored like events, so none is lost.
    events.push(...receiptEvents([...(body.data.ephemeral ?? []), ...(body.data["de.sorunome.msc2409.ephemeral"] ?? [])]));
    try {
      const endTimer = metrics.transactionStore.startTimer();
      const accepted = await deps.inbox.acceptTransaction(txnId, events);
      endTimer();
      const fresh = accepted.stored > 0 || accepted.deadLettered > 0;
      metrics.transactions.inc({ outcome: fresh || events.length === 0 ? "stored" : "duplicate" });
      if (accepted.deadLettered > 0) log.warn({ txnId, deadLettered: accepted.deadLettered }, "appservice: events the inbox could not store went to dead_letters");
      log.debug({ txnId, events: events.length, stored: accepted.stored, duplicate: events.length > 0 && !fresh }, "appservice: transaction committed");
      res.status(200).json({});
      if (accepted.stored > 0) deps.onCommitted();
    } catch (err) {
      // Every odd event is dead-lettered above, so only a database that is down gets here.
      metrics.transactions.inc({ outcome: "error" });
      log.error({ err, txnId }, "appservice: could not store transaction (is the database up?); Synapse will retry");
      sendError(res, ErrCode.Unavailable, "could not store the transaction; retry later");
    }
  };

  const queryUser = (req: Request, res: Response) => {
    if (deps.isOurUser(String(req.params.userId))) return res.status(200).json({});
    sendError(res, ErrCode.NotFound, "no such user in the Rounds namespace");
  };

  for (const prefix of ["/_matrix/app/v1", ""]) {
    router.put(`${prefix}/transactions/:txnId`, auth, json, putTransaction);
    router.get(`${prefix}/users/:userId`, auth, queryUser);
    router.get(`${prefix}/rooms/:alias`, auth, (_req, res) => sendError(res, ErrCode.NotFound, "Rounds provisions no rooms by alias"));
  }
  router.post("/_matrix/app/v1/ping", auth, (_req, res) => res.status(200).json({}));
  router.use("/_matrix", (_req: Request, res: Response) => sendError(res, ErrCode.NotFound, "unknown appservice endpoint"));
  return router;
}
