// test/kernels/quant-pack-int.test.ts: assembly/quant.ts's packIntQ16 / packIntQ8 (a model file's integers, already
// quantized, packed in wasm as they are: what loadQuantized runs) against src/quant-layout.ts's packQuantized (the
// TypeScript mirror), on every build, bit for bit: packed weights with their zero padding and, for Q8, the
// corrections (64 * each row's sum). Scales are written by the caller, so the scale region is not compared here (the
// file round trips in test/api/quantize-file.test.ts compare whole models).
// Sizes: G 1..4, R 1..23, C 1..70 (not multiples of 4 or 16: the SIMD loops' tails), int8 sources for both forms and
// int16 (int12) sources for Q16. Out-of-range values (-128 for int8, ±2048 for int12, 128 stored in an int16 source
// for int8) must give the flat index of the first one, whether the SIMD body or the tail holds it.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { QMAX_INT12, QMAX_INT8 } from "../../src/reference/quant.js";
import { packQuantized, quantMatrixLayout, type QuantForm } from "../../src/quant-layout.js";
import { BUILDS, loadRuntimes, withWasm } from "./harness.js";
import { rng } from "../helpers/random.js";
import type { Runtimes } from "../helpers/runtimes.js";

/** A (G*R, C) matrix of integers in ±qmax, as Int8Array (srcBytes 1) or Int16Array (2), with one zero row. */
function integers(G: number, R: number, C: number, qmax: number, srcBytes: 1 | 2, seed: number): Int8Array | Int16Array {
  const next = rng(seed);
  const n = G * R * C;
  const q = srcBytes === 1 ? new Int8Array(n) : new Int16Array(n);
  for (let i = 0; i < n; i++) q[i] = Math.round((2 * next() - 1) * qmax);
  if (G * R > 1) q.fill(0, C, 2 * C);
  q[0] = qmax; // the extremes are in range
  q[n - 1] = -qmax;
  return q;
}

/** Runs the kernel for `form` on `q` in `build`; the packed weights (and corrections) and the index it returned. */
function packInWasm(rts: Runtimes, build: (typeof BUILDS)[number], form: QuantForm, q: Int8Array | Int16Array,
  G: number, R: number, C: number, qmax: number): { block: Uint8Array; bad: number } {
  const L = quantMatrixLayout(form, G, R, C);
  return withWasm(rts[build], (w) => {
    const src = w.alloc(Math.ceil(q.byteLength / 4), NaN, "src");
    new Uint8Array(w.k.memory.buffer).set(new Uint8Array(q.buffer, q.byteOffset, q.byteLength), src);
    const block = w.alloc(L.totalBytes / 4, NaN, "block");
    new Uint8Array(w.k.memory.buffer, block + L.scales, L.corr < 0 ? L.totalBytes - L.scales : L.corr - L.scales).fill(0);
    const bad = form === "q16"
      ? w.k.packIntQ16(block + L.weights, src, q.BYTES_PER_ELEMENT, G, R, C, qmax)
      : w.k.packIntQ8(block + L.weights, block + L.corr, src, G, R, C);
    w.checkGuards(`packInt ${form}`);
    return { block: new Uint8Array(w.k.memory.buffer, block, L.totalBytes).slice(), bad };
  });
}

describe("packIntQ16 and packIntQ8 (wasm) vs packQuantized, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  const cases = fc.tuple(
    fc.constantFrom<[QuantForm, number, 1 | 2]>(["q16", QMAX_INT8, 1], ["q16", QMAX_INT8, 2], ["q16", QMAX_INT12, 2], ["q8", QMAX_INT8, 1]),
    fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 70 }), fc.integer(),
  );

  it("write the same packed weights and corrections, bit for bit, and return -1", () => {
    fc.assert(
      fc.property(cases, ([[form, qmax, srcBytes], G, R, C, seed]) => {
        const q = integers(G, R, C, qmax, srcBytes, seed);
        const L = quantMatrixLayout(form, G, R, C);
        const want = new Uint8Array(L.totalBytes);
        packQuantized(want, q, new Float32Array(G * R), form, G, R, C); // zero scales: the kernel does not write them
        for (const build of BUILDS) {
          const { block, bad } = packInWasm(rts, build, form, q, G, R, C, qmax);
          expect(bad, `${form} from ${srcBytes}-byte ints, G=${G} R=${R} C=${C} (${build})`).toBe(-1);
          const i = block.findIndex((v, j) => v !== want[j]);
          expect(i, `${form} from ${srcBytes}-byte ints, G=${G} R=${R} C=${C} (${build}): byte ${i} is ${block[i]}, expected ${want[i]}`).toBe(-1);
        }
      }),
      { numRuns: 150, seed: 0x1c0d },
    );
  });

  it("return the flat index of the first integer outside ±qmax (in a SIMD body or a tail)", () => {
    fc.assert(
      fc.property(cases, fc.nat(), fc.boolean(), ([[form, qmax, srcBytes], G, R, C, seed], at, twice) => {
        const q = integers(G, R, C, qmax, srcBytes, seed);
        const first = at % q.length;
        const outside = srcBytes === 1 ? -128 : (seed & 1 ? qmax + 1 : -qmax - 1);
        q[first] = outside;
        if (twice && first + 1 < q.length) q[first + 1] = outside; // a later one must not be the answer
        for (const build of BUILDS) {
          expect(packInWasm(rts, build, form, q, G, R, C, qmax).bad, `${form} G=${G} R=${R} C=${C} (${build}): ${outside} at ${first}`).toBe(first);
        }
      }),
      { numRuns: 150, seed: 0x1c0e },
    );
  });
});
