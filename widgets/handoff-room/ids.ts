/**
 * An id for a new entry or task, made here because the item is written before the server sees it.
 * 16 hex characters fit `clientId` (6-40 of [A-Za-z0-9_-]) and are unique enough per handoff.
 */
export function newClientId(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 16);
}
