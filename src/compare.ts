// src/compare.ts: comparing results, as the CLI, the benchmarks and the tests check one backend or library against
// another, and as a user checks rnn-wasm's outputs against PyTorch's.

/**
 * Largest |a[i] - b[i]|; NaN when the lengths differ or any difference is NaN, so a comparison with it fails.
 *
 * @param a one result
 * @param b the result to compare it with
 * @returns the largest absolute difference, or NaN
 * @example
 * ```ts
 * const { tensors } = loadSafetensors(readFileSync("expected.safetensors")); // PyTorch's output, saved beside its input
 * console.log(maxAbsDiff(lstm.forward(tensors.input).output.data, tensors.output.data)); // e.g. 2.4e-7
 * ```
 */
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
