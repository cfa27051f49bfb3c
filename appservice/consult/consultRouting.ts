import type { EscalationPolicy, EscalationTarget } from "../oncall/escalationPolicy.js";

/** What consult routing needs from the on-call side; OnCallService provides it. */
export interface ConsultDirectory {
  findService(query: string): Promise<{ id: string; name: string }>;
  listServices(): Promise<{ id: string; name: string }[]>;
  serviceInfo(serviceQuery: string): Promise<{ id: string; name: string; timezone: string }>;
  whoIsOnCall(serviceQuery: string, at: Date): Promise<{ levels: { level: string; userId: string }[] }>;
  timeline(serviceId: string, from: Date, to: Date): Promise<{ level: string; userId: string | null; from: Date; until: Date }[]>;
  escalationPolicy(serviceId: string): Promise<EscalationPolicy>;
  coordinators(serviceId: string): Promise<string[]>;
  listAbsences(filter: { userId?: string; from?: Date; to?: Date }): Promise<{ userId: string; startsAt: Date; endsAt: Date }[]>;
}

const MINUTE_MS = 60_000;

/** Absent now per the on-call absences. */
async function isAbsent(dir: ConsultDirectory, userId: string, at: Date): Promise<boolean> {
  const absences = await dir.listAbsences({ userId, from: at, to: new Date(at.getTime() + 1) });
  return absences.some((a) => a.startsAt <= at && at < a.endsAt);
}

/** Available now: not absent, and holding a level of the service at this moment. */
export async function isAvailable(dir: ConsultDirectory, serviceId: string, userId: string, at: Date): Promise<boolean> {
  if (await isAbsent(dir, userId, at)) return false;
  const intervals = await dir.timeline(serviceId, at, new Date(at.getTime() + MINUTE_MS));
  return intervals.some((iv) => iv.userId === userId && iv.from <= at && at < iv.until);
}

function resolveTarget(target: EscalationTarget, onCall: { level: string; userId: string }[]): string[] {
  if (target.kind === "user") return [target.userId];
  if (target.kind === "chain") return [...target.members];
  return onCall.filter((l) => l.level === target.level).map((l) => l.userId);
}

/**
 * Who to ask, in order, as the service's escalation policy resolves now: each step's on-call
 * holder, named user or chain members, then the fallback. Each person once; never the
 * requester; people absent now are skipped.
 */
export async function onCallCandidates(dir: ConsultDirectory, serviceId: string, requester: string, at: Date): Promise<string[]> {
  const policy = await dir.escalationPolicy(serviceId);
  const onCall = (await dir.whoIsOnCall(serviceId, at)).levels;
  const targets = [...policy.steps, ...(policy.fallback ? [policy.fallback] : [])];
  const out: string[] = [];
  for (const target of targets) {
    for (const userId of resolveTarget(target, onCall)) {
      if (userId === requester || out.includes(userId)) continue;
      if (target.kind !== "level" && (await isAbsent(dir, userId, at))) continue;
      out.push(userId);
    }
  }
  return out;
}

/**
 * The first people to ask: the preferred specialist when available now, then the on-call order.
 * `preferredAvailable` is null when no specialist was preferred.
 */
export async function routeConsult(
  dir: ConsultDirectory,
  serviceId: string,
  req: { requester: string; preferred: string | null },
  at: Date,
): Promise<{ candidates: string[]; preferredAvailable: boolean | null }> {
  const preferredAvailable = req.preferred ? await isAvailable(dir, serviceId, req.preferred, at) : null;
  const onCall = await onCallCandidates(dir, serviceId, req.requester, at);
  const first = preferredAvailable ? [req.preferred!] : [];
  return { candidates: [...first, ...onCall.filter((u) => !first.includes(u))], preferredAvailable };
}

/** The next person to ask after those already asked, as the on-call order resolves now; null when nobody is left. */
export async function nextCandidate(dir: ConsultDirectory, serviceId: string, requester: string, asked: string[], at: Date): Promise<string | null> {
  return (await onCallCandidates(dir, serviceId, requester, at)).find((u) => !asked.includes(u)) ?? null;
}

/**
 * The service's specialists for the request form: everyone holding one of its levels within two
 * weeks either side of now, and the people its escalation policy names, available ones first.
 */
export async function specialistsOf(dir: ConsultDirectory, serviceId: string, at: Date): Promise<{ user_id: string; available: boolean }[]> {
  const span = 14 * 24 * 60 * MINUTE_MS;
  const people = new Set<string>();
  for (const iv of await dir.timeline(serviceId, new Date(at.getTime() - span), new Date(at.getTime() + span))) if (iv.userId) people.add(iv.userId);
  const policy = await dir.escalationPolicy(serviceId);
  for (const t of [...policy.steps, ...(policy.fallback ? [policy.fallback] : [])]) for (const u of resolveTarget(t, [])) people.add(u);
  const out: { user_id: string; available: boolean }[] = [];
  for (const u of [...people].sort()) out.push({ user_id: u, available: await isAvailable(dir, serviceId, u, at) });
  return out.sort((a, b) => Number(b.available) - Number(a.available));
}
