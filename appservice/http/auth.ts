import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { ErrCode, sendError } from "./errors.js";

/** Compares digests, so neither the length nor the content of a token leaks through timing. */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token of a request; homeservers older than v1.4 send it as ?access_token=. */
export function bearerToken(req: Request, allowQuery = false): string | undefined {
  const h = req.header("authorization");
  if (h?.startsWith("Bearer ")) return h.slice(7);
  const q = req.query.access_token;
  return allowQuery && typeof q === "string" ? q : undefined;
}

/** Middleware for the admin API: every admin router mounts it, so each is safe on its own. */
export function requireAdminToken(adminToken: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!tokensMatch(bearerToken(req) ?? "", adminToken)) return sendError(res, ErrCode.Forbidden, "bad or missing admin token");
    next();
  };
}
