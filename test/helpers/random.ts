// test/helpers/random.ts: seeded test data. A case is (sizes, flags, one integer seed), so fast-check shrinks on the
// sizes and a failure is reproduced from its printed seed.
import type { Tensor } from "../../src/index.js";
import { mulberry32 } from "../../src/random.js";

export type Rng = () => number;

/** A seeded generator of uniform [0, 1) values (src/random.ts's mulberry32; each seed is its own stream). */
export const rng: (seed: number) => Rng = mulberry32;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** n values uniform in [-scale, scale), rounded to float32. */
export function randomF32(n: number, next: Rng, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * scale;
  return out;
}

/** n values uniform in [-scale, scale), in float64 (for the float64 reference and finite differences). */
export function randomF64(n: number, next: Rng, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * scale;
  return out;
}

/** A tensor of `shape` with values uniform in [-scale, scale). */
export function randomTensor(shape: readonly number[], next: Rng, scale = 1): Tensor {
  return { shape: [...shape], data: randomF32(numel(shape), next, scale) };
}

export function copyTensor(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}

/** A sequence length in 0..T for each of B rows (0 and T included), for the kernels' `lengths` argument. */
export function randomLengths(B: number, T: number, next: Rng): Int32Array {
  return Int32Array.from({ length: B }, () => Math.min(T, Math.floor(next() * (T + 1))));
}
