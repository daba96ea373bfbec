// test/kernels/gemm.test.ts: assembly/math.ts's gemm (and its backward products, biasBackward, addInto)
// against src/reference/math.ts, on every build, plus gemm's documented determinism.
//
// The kernels read w packed as (K,N) (rows of ldw floats); the reference reads PyTorch's (N,K). Each case
// fills the stride gaps (columns K..lda of a, N..ldw of w, N..ldo of out) with values the kernel must neither
// read nor write, so a stride mix-up shows as a wrong value or a changed gap.
//
// Tolerance, per element, rigorous: a running f32 sum of n terms (K products, the bias, the old value when
// accumulating) is within gamma(n) * sum|terms| of the exact sum, gamma(n) = n u / (1 - n u), u = 2^-24, in any
// summation order, with products rounded (simd, scalar) or fused (relaxed). So |kernel - f64 reference| <=
// gamma(K + 2) * (sum_k |a w| + |bias| + |old out|), computed per element from the data (harness.ts).
import { afterAll, beforeAll, describe, it } from "vitest";
import fc from "fast-check";
import {
  addInto as refAddInto, biasBackward as refBiasBackward, gemm as refGemm,
  gemmBackwardInput as refGemmBackwardInput, gemmBackwardWeight as refGemmBackwardWeight,
} from "../../src/reference/math.js";
import {
  BUILDS, ErrorLog, expectClose, expectSameBits, f64, gamma, loadRuntimes, rng, uniform, withWasm, type Runtimes,
} from "./harness.js";

interface GemmCase {
  M: number;
  K: number;
  N: number;     // a multiple of 4, as the kernel requires
  lda: number;   // >= K
  ldw: number;   // >= N
  ldo: number;   // >= N
  bias: boolean;
  accumulate: boolean;
  seed: number;
}

const gemmCase: fc.Arbitrary<GemmCase> = fc.record({
  M: fc.integer({ min: 1, max: 13 }),     // 4-row blocks and 1..3 leftover rows
  K: fc.integer({ min: 0, max: 40 }),
  N4: fc.integer({ min: 1, max: 17 }),    // N = 4..68: 8-column blocks, a 4-column tail, 16-column passes
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padW: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  padO: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  bias: fc.boolean(),
  accumulate: fc.boolean(),
  seed: fc.integer(),
}).map(({ M, K, N4, padA, padW, padO, bias, accumulate, seed }) => ({
  M, K, N: 4 * N4, lda: K + padA, ldw: 4 * N4 + padW, ldo: 4 * N4 + padO, bias, accumulate, seed,
}));

interface GemmData {
  a: Float32Array;      // (M, lda)
  w: Float32Array;      // (K, ldw), the packed layout
  bias: Float32Array | null; // (N)
  out0: Float32Array;   // (M, ldo): out before the call
}

function makeData(c: GemmCase): GemmData {
  const next = rng(c.seed);
  const scale = [1, 1e-3, 1e3][Math.floor(next() * 3)];
  return {
    a: uniform(c.M * c.lda, scale, next),
    w: uniform(c.K * c.ldw, 1, next),
    bias: c.bias ? uniform(c.N, scale, next) : null,
    out0: uniform(c.M * c.ldo, scale, next),
  };
}

/** (K, ldw) packed -> (N, K) PyTorch layout, float64. */
function unpackW(w: Float32Array, K: number, N: number, ldw: number): Float64Array {
  const out = new Float64Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[n * K + k] = w[k * ldw + n];
  return out;
}

/** One gemm call on a build; rows [m0, m1) only when given (the rest of out keeps its old values). */
function runGemm(rts: Runtimes, build: (typeof BUILDS)[number], c: GemmCase, d: GemmData,
  rows: [number, number][] = [[0, c.M]]): Float32Array {
  return withWasm(rts[build], (w) => {
    const a = w.put(d.a, "a"), W = w.put(d.w, "w"), bias = d.bias ? w.put(d.bias, "bias") : 0;
    const out = w.put(d.out0, "out");
    for (const [m0, m1] of rows) {
      w.k.gemm(out + m0 * c.ldo * 4, c.ldo, a + m0 * c.lda * 4, c.lda, W, c.ldw, bias, m1 - m0, c.K, c.N, c.accumulate ? 1 : 0);
    }
    w.checkGuards("gemm");
    return w.read(out, c.M * c.ldo);
  });
}

const at = (ld: number) => (i: number) => `row ${Math.floor(i / ld)} col ${i % ld}`;

function checkGemm(rts: Runtimes, c: GemmCase, log: ErrorLog): void {
  const d = makeData(c);
  const { M, K, N, lda, ldo } = c;
  const name = `gemm ${JSON.stringify(c)}`;
  // reference, into a copy of out0 (so strides and untouched columns are checked together)
  const want = f64(d.out0);
  refGemm(want, ldo, f64(d.a), lda, unpackW(d.w, K, N, c.ldw), K, d.bias && f64(d.bias), M, K, N, c.accumulate);
  // sum|terms| per element: |a||w| products, |bias|, |old out|
  const mag = new Float64Array(M * ldo);
  refGemm(mag, ldo, Float64Array.from(d.a, Math.abs), lda, unpackW(d.w.map(Math.abs), K, N, c.ldw), K,
    d.bias && Float64Array.from(d.bias, Math.abs), M, K, N, false);
  const tol = (i: number) => (i % ldo < N ? gamma(K + 2) * (mag[i] + (c.accumulate ? Math.abs(d.out0[i]) : 0)) : 0);
  for (const build of BUILDS) {
    const got = runGemm(rts, build, c, d);
    expectClose(`${name}\n  ${build}: out (columns >= N must be unchanged)`, got, want, tol, at(ldo), { log, key: `${build} gemm` });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backward products. Kernel layouts: w and dw are (K,N) packed, the reference's are (N,K).

interface BackCase {
  M: number;
  K: number;
  N: number;    // a multiple of 4
  lda: number;
  ldo: number;
  ldw: number;
  accumulate: boolean; // gemmBackwardInput only; the others always add
  seed: number;
}

const backCase: fc.Arbitrary<BackCase> = fc.record({
  M: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 1, max: 23 }),
  N4: fc.integer({ min: 1, max: 13 }),
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padW: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  padO: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  accumulate: fc.boolean(),
  seed: fc.integer(),
}).map(({ M, K, N4, padA, padW, padO, accumulate, seed }) => ({
  M, K, N: 4 * N4, lda: K + padA, ldw: 4 * N4 + padW, ldo: 4 * N4 + padO, accumulate, seed,
}));

function checkBackward(rts: Runtimes, c: BackCase, log: ErrorLog): void {
  const next = rng(c.seed);
  const { M, K, N, lda, ldo, ldw } = c;
  const a = uniform(M * lda, 1, next);          // (M, lda): the forward input
  const dout = uniform(M * ldo, 1, next);       // (M, ldo)
  const w = uniform(K * ldw, 1, next);          // (K, ldw) packed
  const da0 = uniform(M * lda, 1, next);        // da before the call
  const dw0 = uniform(K * ldw, 1, next);        // dw before the call (packed)
  const db0 = uniform(N, 1, next);
  const name = `backward ${JSON.stringify(c)}`;
  const abs = (v: Float32Array) => Float64Array.from(v, Math.abs);

  // da (M,K) (+)= dout (M,N) · w(K,N)ᵀ
  const daWant = f64(da0), daMag = new Float64Array(M * lda);
  refGemmBackwardInput(daWant, lda, f64(dout), ldo, unpackW(w, K, N, ldw), K, M, K, N, c.accumulate);
  refGemmBackwardInput(daMag, lda, abs(dout), ldo, unpackW(w.map(Math.abs), K, N, ldw), K, M, K, N, false);
  const daTol = (i: number) => (i % lda < K ? gamma(N + 2) * (daMag[i] + (c.accumulate ? Math.abs(da0[i]) : 0)) : 0);
  // dw (K,N) += a(M,K)ᵀ · dout (M,N), in the reference's (N,K) layout, then packed back to compare
  const dwRef = unpackW(dw0, K, N, ldw), dwMagRef = new Float64Array(N * K);
  refGemmBackwardWeight(dwRef, K, f64(a), lda, f64(dout), ldo, M, K, N);
  refGemmBackwardWeight(dwMagRef, K, abs(a), lda, abs(dout), ldo, M, K, N);
  const dwWant = f64(dw0), dwMag = new Float64Array(K * ldw);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      dwWant[k * ldw + n] = dwRef[n * K + k];
      dwMag[k * ldw + n] = dwMagRef[n * K + k] + Math.abs(dw0[k * ldw + n]);
    }
  }
  const dwTol = (i: number) => gamma(M + 2) * dwMag[i];
  // db (N) += column sums of dout; biasBackward takes any N, so use N - 1 to cover its scalar tail
  const Nb = Math.max(1, N - 1 - (c.seed & 1) * 2);
  const dbWant = f64(db0), dbMag = abs(db0);
  refBiasBackward(dbWant, f64(dout), ldo, M, Nb);
  refBiasBackward(dbMag, abs(dout), ldo, M, Nb);
  const dbTol = (i: number) => gamma(M + 2) * dbMag[i];
  // addInto: one f32 addition, correctly rounded; f64 then fround gives the same value (53 >= 2*24 + 2)
  const nAdd = M * lda;
  const addWant = new Float32Array(nAdd);
  const addRef = f64(da0);
  refAddInto(addRef, f64(a), nAdd);
  for (let i = 0; i < nAdd; i++) addWant[i] = addRef[i];

  for (const build of BUILDS) {
    const [da, dw, db, sum] = withWasm(rts[build], (m) => {
      const aP = m.put(a, "a"), doutP = m.put(dout, "dout"), wP = m.put(w, "w");
      const daP = m.put(da0, "da"), dwP = m.put(dw0, "dw"), dbP = m.put(db0, "db"), sumP = m.put(da0, "dst");
      m.k.gemmBackwardInput(daP, lda, doutP, ldo, wP, ldw, M, K, N, c.accumulate ? 1 : 0);
      m.checkGuards("gemmBackwardInput");
      m.k.gemmBackwardWeight(dwP, ldw, aP, lda, doutP, ldo, M, K, N);
      m.checkGuards("gemmBackwardWeight");
      m.k.biasBackward(dbP, doutP, ldo, M, Nb);
      m.checkGuards("biasBackward");
      m.k.addInto(sumP, aP, nAdd);
      m.checkGuards("addInto");
      return [m.read(daP, M * lda), m.read(dwP, K * ldw), m.read(dbP, N), m.read(sumP, nAdd)];
    });
    expectClose(`${name}\n  ${build}: gemmBackwardInput da (columns >= K unchanged)`, da, daWant, daTol, at(lda), { log, key: `${build} gemmBackwardInput` });
    expectClose(`${name}\n  ${build}: gemmBackwardWeight dw (columns >= N unchanged)`, dw, dwWant, dwTol, at(ldw), { log, key: `${build} gemmBackwardWeight` });
    expectClose(`${name}\n  ${build}: biasBackward db (N = ${Nb}; the rest unchanged)`, db, dbWant, dbTol, (i) => `[${i}]`, { log, key: `${build} biasBackward` });
    expectSameBits(`${name}\n  ${build}: addInto`, sum, addWant);
  }
}

describe("gemm (wasm) vs reference/math.ts, all builds", () => {
  let rts: Runtimes;
  const log = new ErrorLog();
  beforeAll(async () => {
    rts = await loadRuntimes();
  });
  afterAll(() => log.print("gemm and its backward products: largest |wasm - reference| (and error / tolerance)"));

  it("gemm matches the reference within gamma(K+2) sum|terms| (M 1..13, K 0..40, N 4..68, strides, bias, accumulate)", () => {
    fc.assert(fc.property(gemmCase, (c) => checkGemm(rts, c, log)), { numRuns: 1000, seed: 0x6e33 });
  });

  it("gemm gives a row the same bits in a 4-row block, alone, or in any chunk of rows (every build)", () => {
    fc.assert(fc.property(gemmCase, fc.integer({ min: 0, max: 13 }), (c, cut) => {
      const d = makeData(c);
      const split = Math.min(cut, c.M);
      for (const build of BUILDS) {
        const whole = runGemm(rts, build, c, d);
        const alone = runGemm(rts, build, c, d, Array.from({ length: c.M }, (_, m) => [m, m + 1] as [number, number]));
        expectSameBits(`gemm ${JSON.stringify(c)}\n  ${build}: row by row vs all ${c.M} rows`, alone, whole, at(c.ldo));
        const chunks = runGemm(rts, build, c, d, [[0, split], [split, c.M]]);
        expectSameBits(`gemm ${JSON.stringify(c)}\n  ${build}: rows [0,${split}) + [${split},${c.M}) vs all rows`, chunks, whole, at(c.ldo));
      }
    }), { numRuns: 500, seed: 0xb175 });
  });

  it("the scalar build's gemm gives the simd build's bits (both multiply, then add, in the same order)", () => {
    fc.assert(fc.property(gemmCase, (c) => {
      const d = makeData(c);
      expectSameBits(`gemm ${JSON.stringify(c)}\n  scalar vs simd`, runGemm(rts, "scalar", c, d), runGemm(rts, "simd", c, d), at(c.ldo));
    }), { numRuns: 500, seed: 0x5ca1 });
  });

  it("gemmBackwardInput, gemmBackwardWeight, biasBackward, addInto match the reference (M 1..40, K 1..23, N 4..52)", () => {
    fc.assert(fc.property(backCase, (c) => checkBackward(rts, c, log)), { numRuns: 500, seed: 0xbac4 });
  });

  it("leaves no block allocated", () => {
    for (const build of BUILDS) if (rts[build].blocksInUse !== 0) throw new Error(`${build}: ${rts[build].blocksInUse} blocks in use`);
  });
});
