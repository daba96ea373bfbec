// bench/serve/stats.ts: latency percentiles from every recorded sample (autocannon's own histogram keeps whole
// milliseconds, too coarse for answers that take 1-3 ms).

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `xs` (ms), rounded to µs; zeros when there is no sample. */
export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const r = (v: number) => Number(v.toFixed(3));
  let sum = 0;
  for (const v of s) sum += v;
  return { count: s.length, mean: r(sum / s.length), p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1]) };
}
