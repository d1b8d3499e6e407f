/** Small statistics helpers shared by the orchestrator and the load agents. */

export interface Spread {
  min: number;
  median: number;
  max: number;
  /** Every run's value, in the order the runs happened. */
  runs: number[];
}

/** Nearest-rank percentile of an ascending array; NaN when empty. Infinity stands for a lost message. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(runs: readonly number[]): Spread {
  const finite = runs.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { min: NaN, median: NaN, max: NaN, runs: [...runs] };
  return { min: Math.min(...finite), median: median(finite), max: Math.max(...finite), runs: [...runs] };
}

export interface LatencySummary {
  count: number;
  /** Deliveries that never arrived within the wait; counted as infinitely late in the percentiles. */
  lost: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarizeLatency(samples: readonly number[], expected = samples.length): LatencySummary {
  const lost = Math.max(0, expected - samples.length);
  const sorted = [...samples, ...new Array<number>(lost).fill(Infinity)].sort((a, b) => a - b);
  return {
    count: samples.length,
    lost,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

/** A ratio that is only a number when both sides are (so a table never shows a made-up ratio). */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
