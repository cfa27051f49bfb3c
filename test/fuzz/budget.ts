/**
 * The fuzz suite's budget in `npm test`: each property stops at its run count or its time limit,
 * whichever comes first, so a loaded machine makes it shorter, not the suite longer.
 * ROUNDS_FUZZ_RUNS scales the run counts for a longer hunt (e.g. 10 for ten times as many).
 */
export const FUZZ_TIME_LIMIT_MS = Number(process.env.ROUNDS_FUZZ_SECONDS ?? 45) * 1000;

export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.ROUNDS_FUZZ_RUNS ?? 1)));
}
