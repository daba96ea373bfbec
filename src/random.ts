// src/random.ts: a small seeded generator (mulberry32), so `seed` gives the same weights on every runtime.
// Not PyTorch's generator: the same distribution as torch's init, not the same numbers.

/**
 * A seeded generator of uniform numbers in [0, 1) (mulberry32): the one the library draws initial weights from when
 * a layer gets a `seed`. For reproducible inputs, shuffles and tests on every runtime.
 *
 * @param seed any number; its low 32 bits are used
 * @returns a function giving the next number of the stream
 * @example
 * ```ts
 * const next = mulberry32(1);
 * const x = tensor([5, 1, 3], Float32Array.from({ length: 15 }, () => 2 * next() - 1)); // the same numbers every run
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with uniform values in [-bound, bound). */
export function fillUniform(out: Float32Array, bound: number, next: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}
