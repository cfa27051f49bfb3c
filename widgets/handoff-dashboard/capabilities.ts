/**
 * Everything the handoffs dashboard asks Element for: nothing. It reads and acts through the Rounds
 * API only (OpenID needs no capability); a handoff's clinical content is entered in its own room,
 * through the handoff widget there.
 */
export function handoffsCapabilities(_roomId: string): string[] {
  return [];
}

export const handoffsWatch = { state: [], events: [] } as const;
