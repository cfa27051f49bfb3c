import type { MetricsResponse, ResponseTimes } from "./consultWidgetApi.js";

/**
 * An exact percentile of the values, interpolated between the two nearest ranks (as SQL's
 * percentile_cont), so small samples give figures a clinician can check by hand.
 */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function summarize(seconds: number[]): ResponseTimes {
  const sorted = [...seconds].sort((a, b) => a - b);
  return { count: sorted.length, p50_s: percentile(sorted, 0.5), p90_s: percentile(sorted, 0.9) };
}

export interface TimingRow {
  serviceId: string;
  createdAt: Date;
  acceptedAt: Date | null;
  completedAt: Date | null;
}

/** Per service, time from request to acceptance and to completion of the consults requested since `since`. */
export function responseTimesOf(rows: TimingRow[], since: Date): MetricsResponse {
  const byService = new Map<string, { accept: number[]; complete: number[] }>();
  for (const r of rows) {
    const s = byService.get(r.serviceId) ?? { accept: [], complete: [] };
    byService.set(r.serviceId, s);
    if (r.acceptedAt) s.accept.push(secondsBetween(r.createdAt, r.acceptedAt));
    if (r.completedAt) s.complete.push(secondsBetween(r.createdAt, r.completedAt));
  }
  return {
    since: since.toISOString(),
    services: [...byService.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([service, s]) => ({ service, accept: summarize(s.accept), complete: summarize(s.complete) })),
  };
}

export function secondsBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}
