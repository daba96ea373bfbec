// test/kernels/quant-load.test.ts: assembly/quant-load.ts, what loadQuantized runs on a version-2 file (its integers
// in the Q16 packed order, src/quant-layout.ts toFileOrder), on every build, bit for bit:
//   - pairsToQ8 reorders int8 in the Q16 order into the Q8 form's packed weights and corrections (64 * each row's
//     sum), as packQuantized (the TypeScript mirror) writes them from the row-major integers; padding stays zero;
//   - widenI8 widens n int8 stored at w + n to n int16 at w, in place, as a typed-array copy would;
//   - rangeQ16 returns the first index of an int16 beyond ±qmax, whether the SIMD body or the tail holds it, or -1.
// Sizes: G 1..4, R 1..23, C 1..70 (not multiples of 4 or 16: the SIMD loops' tails; C odd leaves a half pair and
// C = 4m + 1 or 4m + 2 a half quad).
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { QMAX_INT12, QMAX_INT8 } from "../../src/reference/quant.js";
import { packQuantized, quantMatrixLayout, quantRows, toFileOrder } from "../../src/quant-layout.js";
import { BUILDS, loadRuntimes, withWasm } from "./harness.js";
import { rng } from "../helpers/random.js";
import type { Runtimes } from "../helpers/runtimes.js";

/** A (G*R, C) matrix of integers in ±qmax. */
function integers(n: number, qmax: number, bytes: 1 | 2, seed: number): Int8Array | Int16Array {
  const next = rng(seed);
  const q = bytes === 1 ? new Int8Array(n) : new Int16Array(n);
  for (let i = 0; i < n; i++) q[i] = Math.round((2 * next() - 1) * qmax);
  q[0] = qmax;
  q[n - 1] = -qmax;
  return q;
}

describe("pairsToQ8 and rangeQ16 (wasm), all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });
  const sizes = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 70 }), fc.integer());

  it("pairsToQ8 writes packQuantized's Q8 weights and corrections from the Q16 order", () => {
    fc.assert(
      fc.property(sizes, ([G, R, C, seed]) => {
        const q = integers(G * R * C, QMAX_INT8, 1, seed) as Int8Array;
        const L = quantMatrixLayout("q8", G, R, C);
        const want = new Uint8Array(L.totalBytes);
        packQuantized(want, q, new Float32Array(G * R), "q8", G, R, C); // zero scales: the kernel does not write them
        const pairs = toFileOrder(q, G, R, C);
        for (const build of BUILDS) {
          const got = withWasm(rts[build], (w) => {
            const src = w.alloc(Math.ceil(pairs.length / 4), NaN, "src");
            new Int8Array(w.k.memory.buffer, src, pairs.length).set(pairs);
            const block = w.alloc(L.totalBytes / 4, NaN, "block");
            new Uint8Array(w.k.memory.buffer, block + L.scales, L.corr - L.scales).fill(0);
            w.k.pairsToQ8(block + L.weights, block + L.corr, src, Math.ceil(quantRows(G, R) / 8) * 8, C);
            w.checkGuards("pairsToQ8");
            return new Uint8Array(w.k.memory.buffer, block, L.totalBytes).slice();
          });
          const i = got.findIndex((v, j) => v !== want[j]);
          expect(i, `G=${G} R=${R} C=${C} (${build}): byte ${i} is ${got[i]}, expected ${want[i]}`).toBe(-1);
        }
      }),
      { numRuns: 120, seed: 0x10ad },
    );
  });

  it("widenI8 widens in place as Int16Array.from would", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (n, seed) => {
        const q = integers(n, 128, 1, seed) as Int8Array; // -128 included: widening is not range checking
        for (const build of BUILDS) {
          const got = withWasm(rts[build], (w) => {
            const at = w.alloc(Math.ceil(n / 2), NaN, "w");
            new Int8Array(w.k.memory.buffer, at + n, n).set(q);
            w.k.widenI8(at, n);
            w.checkGuards("widenI8");
            return Array.from(new Int16Array(w.k.memory.buffer, at, n));
          });
          expect(got, `n=${n} (${build})`).toEqual(Array.from(q));
        }
      }),
      { numRuns: 150, seed: 0x71de },
    );
  });

  it("rangeQ16 returns the first index beyond ±qmax, or -1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.option(fc.nat(), { nil: null }), fc.boolean(), fc.constantFrom(QMAX_INT8, QMAX_INT12), fc.integer(),
        (n, at, second, low, qmax, seed) => {
          const q = integers(n, qmax, 2, seed) as Int16Array;
          const first = second === null ? -1 : at % n;
          if (first >= 0) {
            q[first] = low ? -qmax - 1 : qmax + 1;
            if (second !== null && second % n > first) q[second % n] = -32768; // a later one does not hide the first
          }
          for (const build of BUILDS) {
            const got = withWasm(rts[build], (w) => {
              const src = w.alloc(Math.ceil(n / 2), NaN, "src");
              new Int16Array(w.k.memory.buffer, src, n).set(q);
              return w.k.rangeQ16(src, n, qmax);
            });
            expect(got, `n=${n} qmax=${qmax} (${build})`).toBe(first);
          }
        }),
      { numRuns: 200, seed: 0x2a9e },
    );
  });
});
