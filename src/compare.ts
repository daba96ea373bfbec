// src/compare.ts: comparing results. Not part of the public API: the CLI, the benchmarks and the tests check one
// backend or library against another with it.

/** Largest |a[i] - b[i]|; NaN when the lengths differ or any difference is NaN, so a comparison with it fails. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return NaN;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > max) max = d;
  }
  return max;
}
