/** Small helpers shared by the benchmarks. */

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  if (!s.length) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

export const ms = (v: number): string => `${v.toFixed(1)} ms`;

export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

export function progress(text: string): void {
  process.stdout.write(`[bench] ${text}\n`);
}
