// test/kernels/gemm.test.ts: assembly/gemm.ts's gemm, gemmBackwardWeight and packTransposed (and assembly/math.ts's
// biasBackward, addInto) against src/reference/gemm.ts and math.ts, on every build, plus gemm's documented determinism.
//
// The kernels read a weight W (K,N) packed in panels of 8 columns, element (k, n) at float
// (n >> 3) * wps + k*8 + (n & 7) (assembly/gemm.ts); the reference reads PyTorch's (N,K). A case's W is either a
// whole matrix (wps = K*8, zeros past N in its last panel, src/layout.ts's pack) or a block of a larger packed
// matrix (Kbig, Nbig): rows k0.. (k0*8 floats in), columns from panel p0 (p0 panels in), wps = Kbig*8 > K*8, the
// rows and columns around it holding values; the engine does this with a layer's input weights over two
// directions (a row block) and GRU's n columns (a panel offset). The stride gaps (columns K..lda of a, N..ldo of
// out and dout) hold values the kernels must neither read nor write, gemm's bias lanes N..roundUp4(N) (readable
// by contract, never used) hold NaN, and the big matrix around a block must come back unchanged; so a stride,
// panel or tail mix-up shows as a wrong value, a NaN, a changed gap or a write into a guard zone.
//
// Tolerance, per element, rigorous: a running f32 sum of n terms (K products, the bias, the old value when
// accumulating) is within gamma(n) * sum|terms| of the exact sum, gamma(n) = n u / (1 - n u), u = 2^-24, in any
// summation order, with products rounded (simd, scalar) or fused (relaxed). So |kernel - f64 reference| <=
// gamma(K + 2) * (sum_k |a w| + |bias| + |old out|), computed per element from the data (harness.ts); 0 (the
// exact old value) wherever the kernel must not write.
import { afterAll, beforeAll, describe, it } from "vitest";
import fc from "fast-check";
import { addInto as refAddInto, biasBackward as refBiasBackward } from "../../src/reference/math.js";
import {
  gemm as refGemm, gemmBackwardInput as refGemmBackwardInput, gemmBackwardWeight as refGemmBackwardWeight,
} from "../../src/reference/gemm.js";
import { BUILDS, f64, gamma, loadRuntimes, packed, packedSize, roundUp4, withWasm } from "./harness.js";
import { ErrorLog, expectClose, expectSameBits } from "../helpers/compare.js";
import { randomF32, rng } from "../helpers/random.js";
import { type Runtimes } from "../helpers/runtimes.js";

// ---------------------------------------------------------------------------------------------------------
// Packed weights: a whole matrix, or a block of a larger one

/** Where W (K,N) sits in a larger packed matrix: rows k0.., columns 8*p0..; then rowsAfter rows and colsAfter columns. */
interface Panels {
  k0: number;
  p0: number;
  rowsAfter: number;
  colsAfter: number;
}

const WHOLE: Panels = { k0: 0, p0: 0, rowsAfter: 0, colsAfter: 0 };

const panels: fc.Arbitrary<Panels> = fc.oneof(
  fc.constant(WHOLE),
  fc.record({
    k0: fc.integer({ min: 0, max: 5 }),
    p0: fc.integer({ min: 0, max: 2 }),
    rowsAfter: fc.integer({ min: 0, max: 5 }),
    colsAfter: fc.integer({ min: 0, max: 11 }), // real columns in W's last panel past N, and panels after it
  }),
);

/** The larger matrix W is a block of: its PyTorch (Nbig, Kbig) values and its packed form. */
interface BigMatrix {
  Kbig: number;
  Nbig: number;
  wps: number;          // the panel stride, Kbig*8
  offset: number;       // floats from the big matrix's start to W's element (0, 0): p0 * wps + k0 * 8
  torch: Float32Array;  // (Nbig, Kbig)
  packed: Float32Array; // (Kbig, roundUp4(Nbig)) in panels, packedSize floats
}

function bigMatrix(pl: Panels, K: number, N: number, torch: (Nbig: number, Kbig: number) => Float32Array): BigMatrix {
  const Kbig = pl.k0 + K + pl.rowsAfter, Nbig = 8 * pl.p0 + N + pl.colsAfter;
  const t = torch(Nbig, Kbig);
  return { Kbig, Nbig, wps: Kbig * 8, offset: pl.p0 * Kbig * 8 + pl.k0 * 8, torch: t, packed: packed(t, 1, Nbig, Kbig) };
}

/** W (K,N), the block of the big matrix, in the reference's (N,K) layout. */
function blockTorch(big: BigMatrix, pl: Panels, K: number, N: number, f: (v: number) => number = (v) => v): Float64Array {
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = f(big.torch[(8 * pl.p0 + n) * big.Kbig + pl.k0 + k]);
  return out;
}

/** Panel, row and column of a float of the big packed matrix, and whether it is in the block, for messages. */
function panelAt(big: BigMatrix, pl: Panels, K: number, N: number): (i: number) => { k: number; n: number; inBlock: boolean; text: string } {
  return (i) => {
    const p = Math.floor(i / big.wps), r = i % big.wps;
    const k = r >> 3, n = 8 * p + (r & 7);
    const inBlock = k >= pl.k0 && k < pl.k0 + K && n >= 8 * pl.p0 && n < 8 * pl.p0 + N;
    const text = `panel ${p} row ${k} col ${n}` + (inBlock ? ` (block row ${k - pl.k0} col ${n - 8 * pl.p0})` : " (outside the block)");
    return { k, n, inBlock, text };
  };
}

const at = (ld: number) => (i: number) => `row ${Math.floor(i / ld)} col ${i % ld}`;
const abs = (v: ArrayLike<number>) => Float64Array.from(v, Math.abs);

// ---------------------------------------------------------------------------------------------------------
// gemm

interface GemmCase {
  M: number;
  K: number;
  N: number;     // any: tails of 1..7 columns in the last panel, N < 8 a single partial panel
  lda: number;   // >= K
  ldo: number;   // >= N
  panels: Panels;
  bias: boolean;
  accumulate: boolean;
  seed: number;
}

const gemmCase: fc.Arbitrary<GemmCase> = fc.record({
  M: fc.integer({ min: 1, max: 13 }),     // 4-row blocks and 1..3 leftover rows
  K: fc.integer({ min: 0, max: 40 }),
  N: fc.integer({ min: 1, max: 68 }),     // one-row passes of 24 columns, whole panels, a 1..7-column tail
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padO: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  panels,
  bias: fc.boolean(),
  accumulate: fc.boolean(),
  seed: fc.integer(),
}).map(({ M, K, N, padA, padO, panels, bias, accumulate, seed }) => ({
  M, K, N, lda: K + padA, ldo: N + padO, panels, bias, accumulate, seed,
}));

interface GemmData {
  a: Float32Array;      // (M, lda)
  big: BigMatrix;       // W is its block
  bias: Float32Array | null; // (roundUp4(N)): N values, then NaN in the lanes the kernel may read but not use
  out0: Float32Array;   // (M, ldo): out before the call
}

function makeData(c: GemmCase): GemmData {
  const next = rng(c.seed);
  const scale = [1, 1e-3, 1e3][Math.floor(next() * 3)];
  const a = randomF32(c.M * c.lda, next, scale);
  const big = bigMatrix(c.panels, c.K, c.N, (Nbig, Kbig) => randomF32(Nbig * Kbig, next));
  let bias: Float32Array | null = null;
  if (c.bias) {
    bias = new Float32Array(roundUp4(c.N)).fill(NaN);
    bias.set(randomF32(c.N, next, scale));
  }
  return { a, big, bias, out0: randomF32(c.M * c.ldo, next, scale) };
}

/** One gemm call per [m0, m1) of `rows` on a build (the rest of out keeps its old values); a and W must not change. */
function runGemm(rts: Runtimes, build: (typeof BUILDS)[number], c: GemmCase, d: GemmData,
  rows: [number, number][] = [[0, c.M]]): Float32Array {
  return withWasm(rts[build], (w) => {
    const a = w.put(d.a, "a"), W = w.put(d.big.packed, "w (the big packed matrix)"), bias = d.bias ? w.put(d.bias, "bias") : 0;
    const out = w.put(d.out0, "out");
    for (const [m0, m1] of rows) {
      w.k.gemm(out + m0 * c.ldo * 4, c.ldo, a + m0 * c.lda * 4, c.lda, W + d.big.offset * 4, d.big.wps, bias, m1 - m0, c.K, c.N, c.accumulate ? 1 : 0);
    }
    w.checkGuards("gemm");
    expectSameBits(`gemm ${JSON.stringify(c)}\n  ${build}: a after the call`, w.read(a, d.a.length), d.a, at(c.lda));
    expectSameBits(`gemm ${JSON.stringify(c)}\n  ${build}: w after the call`, w.read(W, d.big.packed.length), d.big.packed);
    return w.read(out, c.M * c.ldo);
  });
}

function checkGemm(rts: Runtimes, c: GemmCase, log: ErrorLog): void {
  const d = makeData(c);
  const { M, K, N, lda, ldo } = c;
  const name = `gemm ${JSON.stringify(c)} (wps ${d.big.wps}, W at float ${d.big.offset})`;
  const bias = d.bias && f64(d.bias.subarray(0, N));
  // reference, into a copy of out0 (so strides and untouched columns are checked together)
  const want = f64(d.out0);
  refGemm(want, ldo, f64(d.a), lda, blockTorch(d.big, c.panels, K, N), K, bias, M, K, N, c.accumulate);
  // sum|terms| per element: |a||w| products, |bias|, |old out|
  const mag = new Float64Array(M * ldo);
  refGemm(mag, ldo, abs(d.a), lda, blockTorch(d.big, c.panels, K, N, Math.abs), K, bias && abs(bias), M, K, N, false);
  const tol = (i: number) => (i % ldo < N ? gamma(K + 2) * (mag[i] + (c.accumulate ? Math.abs(d.out0[i]) : 0)) : 0);
  for (const build of BUILDS) {
    const got = runGemm(rts, build, c, d);
    expectClose(`${name}\n  ${build}: out (columns >= N must be unchanged)`, got, want, tol, at(ldo), { log, key: `${build} gemm` });
  }
}

// ---------------------------------------------------------------------------------------------------------
// packTransposed, and the backward product through a weight: gemm against the transposed copy

interface TransCase {
  M: number;
  K: number;
  N: number;
  lda: number;  // da's row stride, >= K
  ldo: number;  // dout's row stride, >= N
  panels: Panels;
  accumulate: boolean;
  seed: number;
}

const transCase: fc.Arbitrary<TransCase> = fc.record({
  M: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 0, max: 40 }),
  N: fc.integer({ min: 1, max: 68 }),
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padO: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  panels,
  accumulate: fc.boolean(),
  seed: fc.integer(),
}).map(({ M, K, N, padA, padO, panels, accumulate, seed }) => ({
  M, K, N, lda: K + padA, ldo: N + padO, panels, accumulate, seed,
}));

/**
 * packTransposed(W) against a direct transposition, to the bit: Wᵀ (N,K) in panels of 8 of its K columns with
 * panel stride N*8, element (n, k) at (k >> 3) * N*8 + n*8 + (k & 7), zeros in columns K..roundUp8(K) of the last
 * panel (every float of the copy, which starts as NaN). Then da (M,K) (+)= dout (M,N) · Wᵀ as gemm against that
 * copy, against the reference's gemmBackwardInput on PyTorch's W, within gamma(N + 2) * (sum_n |dout w| + |old
 * da|); columns K..lda of da unchanged.
 */
function checkTransposed(rts: Runtimes, c: TransCase, log: ErrorLog): void {
  const next = rng(c.seed);
  const { M, K, N, lda, ldo } = c;
  const big = bigMatrix(c.panels, K, N, (Nbig, Kbig) => randomF32(Nbig * Kbig, next));
  const dout = randomF32(M * ldo, next);       // (M, ldo)
  const da0 = randomF32(M * lda, next);        // da before the call
  const name = `packTransposed ${JSON.stringify(c)} (sps ${big.wps}, W at float ${big.offset})`;
  const W = blockTorch(big, c.panels, K, N);   // (N, K)

  const K8 = (K + 7) & ~7;
  const tWant = new Float32Array(N * K8);
  for (let k = 0; k < K8; k++) for (let n = 0; n < N; n++) tWant[(k >> 3) * N * 8 + n * 8 + (k & 7)] = k < K ? W[n * K + k] : 0;
  const tAt = (i: number) => {
    const p = Math.floor(i / (N * 8)), r = i % (N * 8);
    const k = 8 * p + (r & 7);
    return `panel ${p}: Wᵀ row ${r >> 3} col ${k}${k >= K ? " (padding, must be 0)" : ""}`;
  };

  const daWant = f64(da0), daMag = new Float64Array(M * lda);
  refGemmBackwardInput(daWant, lda, f64(dout), ldo, W, K, M, K, N, c.accumulate);
  refGemmBackwardInput(daMag, lda, abs(dout), ldo, blockTorch(big, c.panels, K, N, Math.abs), K, M, K, N, false);
  const daTol = (i: number) => (i % lda < K ? gamma(N + 2) * (daMag[i] + (c.accumulate ? Math.abs(da0[i]) : 0)) : 0);

  for (const build of BUILDS) {
    const [wt, da] = withWasm(rts[build], (m) => {
      const src = m.put(big.packed, "w (the big packed matrix)"), doutP = m.put(dout, "dout"), daP = m.put(da0, "da");
      const wtP = m.transposed(src + big.offset * 4, big.wps, K, N, "wT");
      expectSameBits(`${name}\n  ${build}: w after packTransposed`, m.read(src, big.packed.length), big.packed);
      m.k.gemm(daP, lda, doutP, ldo, wtP, N * 8, 0, M, N, K, c.accumulate ? 1 : 0);
      m.checkGuards("gemm against packTransposed(w)");
      return [m.read(wtP, packedSize(N, K)), m.read(daP, M * lda)];
    });
    expectSameBits(`${name}\n  ${build}: packTransposed vs the direct transposition`, wt, tWant, tAt);
    expectClose(`${name}\n  ${build}: gemm against packTransposed(w) vs gemmBackwardInput, da (columns >= K unchanged)`,
      da, daWant, daTol, at(lda), { log, key: `${build} gemm against wT` });
  }
}

// ---------------------------------------------------------------------------------------------------------
// gemmBackwardWeight, biasBackward, addInto

interface BackCase {
  M: number;
  K: number;
  N: number;    // a multiple of 4, as gemmBackwardWeight requires
  lda: number;
  ldo: number;
  panels: Panels;
  real: number; // lanes 0..real-1 of every 4 columns are real, the others padding (zero in dout and dw): 4 = none
  seed: number;
}

const backCase: fc.Arbitrary<BackCase> = fc.record({
  // gemmBackwardWeight sums rows in chunks of 64 (assembly/gemm.ts MC): up to 150 rows crosses two chunk edges
  M: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 60, max: 150 })),
  K: fc.integer({ min: 1, max: 23 }),
  N4: fc.integer({ min: 1, max: 13 }),
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padO: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
  panels,
  real: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer(),
}).map(({ M, K, N4, padA, padO, panels, real, seed }) => ({
  M, K, N: 4 * N4, lda: K + padA, ldo: 4 * N4 + padO, panels, real, seed,
}));

/**
 * dw (K,N) += a (M,K)ᵀ · dout (M,N) into a packed dw that is a block of a larger packed matrix, like the engine's
 * gradients: every float of the big matrix outside the block comes back unchanged (that includes, when N % 8 == 4,
 * the 4 columns past N in the block's last panel, which the SIMD kernel adds a zero to); the block's padding
 * columns (zero lanes of dout, zero in dw) get tolerance 0, so they stay exactly 0.
 */
function checkBackward(rts: Runtimes, c: BackCase, log: ErrorLog): void {
  const next = rng(c.seed);
  const { M, K, N, lda, ldo, panels: pl } = c;
  const isPad = (n: number) => n % 4 >= c.real;    // n a column of the block
  const a = randomF32(M * lda, next);              // (M, lda): the forward input
  const dout = randomF32(M * ldo, next);           // (M, ldo); padding columns zero
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) if (isPad(n)) dout[m * ldo + n] = 0;
  const big = bigMatrix(pl, K, N, (Nbig, Kbig) => {
    const t = randomF32(Nbig * Kbig, next);         // dw before the call, PyTorch layout
    for (let n = 0; n < N; n++) if (isPad(n)) t.fill(0, (8 * pl.p0 + n) * Kbig, (8 * pl.p0 + n + 1) * Kbig);
    return t;
  });
  const db0 = randomF32(N, next);
  const name = `backward ${JSON.stringify(c)} (dw wps ${big.wps}, block at float ${big.offset})`;

  // dw in the reference's (N,K) layout, then written back into a copy of the big packed matrix
  const dwRef = blockTorch(big, pl, K, N), dwMagRef = new Float64Array(N * K);
  refGemmBackwardWeight(dwRef, K, f64(a), lda, f64(dout), ldo, M, K, N);
  refGemmBackwardWeight(dwMagRef, K, abs(a), lda, abs(dout), ldo, M, K, N);
  const where = panelAt(big, pl, K, N);
  const dwWant = f64(big.packed), dwTolAt = new Float64Array(big.packed.length);
  for (let i = 0; i < big.packed.length; i++) {
    const p = where(i);
    if (!p.inBlock) continue;
    const j = (p.n - 8 * pl.p0) * K + p.k - pl.k0;
    dwWant[i] = dwRef[j];
    dwTolAt[i] = gamma(M + 2) * (dwMagRef[j] + Math.abs(big.packed[i]));
  }
  const dwWhere = (i: number) => where(i).text + (where(i).inBlock && isPad(where(i).n - 8 * pl.p0) ? ", a padding column" : "");
  // db (N) += column sums of dout; biasBackward takes any N, so use N - 1 to cover its scalar tail
  const Nb = Math.max(1, N - 1 - (c.seed & 1) * 2);
  const dbWant = f64(db0), dbMag = abs(db0);
  refBiasBackward(dbWant, f64(dout), ldo, M, Nb);
  refBiasBackward(dbMag, abs(dout), ldo, M, Nb);
  const dbTol = (i: number) => gamma(M + 2) * dbMag[i];
  // addInto: one f32 addition, correctly rounded; f64 then fround gives the same value (53 >= 2*24 + 2)
  const nAdd = M * lda;
  const dst0 = randomF32(nAdd, next);
  const addRef = f64(dst0);
  refAddInto(addRef, f64(a), nAdd);
  const addWant = Float32Array.from(addRef);

  for (const build of BUILDS) {
    const [dw, db, sum] = withWasm(rts[build], (m) => {
      const aP = m.put(a, "a"), doutP = m.put(dout, "dout");
      const dwP = m.put(big.packed, "dw (the big packed matrix)"), dbP = m.put(db0, "db");
      const sumP = m.put(dst0, "dst");
      m.k.gemmBackwardWeight(dwP + big.offset * 4, big.wps, aP, lda, doutP, ldo, M, K, N);
      m.checkGuards("gemmBackwardWeight");
      m.k.biasBackward(dbP, doutP, ldo, M, Nb);
      m.checkGuards("biasBackward");
      m.k.addInto(sumP, aP, nAdd);
      m.checkGuards("addInto");
      return [m.read(dwP, big.packed.length), m.read(dbP, N), m.read(sumP, nAdd)];
    });
    expectClose(`${name}\n  ${build}: gemmBackwardWeight dw (outside the block unchanged, padding columns 0)`, dw, dwWant,
      (i) => dwTolAt[i], dwWhere, { log, key: `${build} gemmBackwardWeight` });
    expectClose(`${name}\n  ${build}: biasBackward db (N = ${Nb}; the rest unchanged)`, db, dbWant, dbTol, (i) => `[${i}]`, { log, key: `${build} biasBackward` });
    expectSameBits(`${name}\n  ${build}: addInto`, sum, addWant);
  }
}

describe("gemm, gemmBackwardWeight, packTransposed (wasm) vs reference/gemm.ts, all builds", () => {
  let rts: Runtimes;
  const log = new ErrorLog();
  beforeAll(async () => {
    rts = await loadRuntimes();
  });
  afterAll(() => log.print("gemm and its backward products: largest |wasm - reference| (and error / tolerance)"));

  it("gemm matches the reference within gamma(K+2) sum|terms| (M 1..13, K 0..40, N 1..68, strides, panel blocks, bias, accumulate)", () => {
    fc.assert(fc.property(gemmCase, (c) => checkGemm(rts, c, log)), { numRuns: 1000, seed: 0x6e33 });
  });

  it("gemm covers every tail: N 1..17 with M 1, 4, 5 and K 0, 1, 8, 9, whole and a block", () => {
    const block: Panels = { k0: 3, p0: 1, rowsAfter: 2, colsAfter: 5 };
    let seed = 1;
    for (let N = 1; N <= 17; N++) {
      for (const M of [1, 4, 5]) {
        for (const K of [0, 1, 8, 9]) {
          for (const pl of [WHOLE, block]) {
            checkGemm(rts, { M, K, N, lda: K + 1, ldo: N + (N & 1), panels: pl, bias: true, accumulate: (N & 2) > 0, seed: seed++ }, log);
          }
        }
      }
    }
  });

  it("gemm gives a row the same bits in a 4-, 3- or 2-row block, alone, or in any chunk of rows (every build)", () => {
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

  it("packTransposed is the exact, zero-padded transposition, and gemm against it matches gemmBackwardInput (M 1..40, K 0..40, N 1..68)", () => {
    fc.assert(fc.property(transCase, (c) => checkTransposed(rts, c, log)), { numRuns: 500, seed: 0x7a45 });
  });

  it("gemmBackwardWeight (into a packed block), biasBackward, addInto match the reference (M 1..150, K 1..23, N 4..52)", () => {
    fc.assert(fc.property(backCase, (c) => checkBackward(rts, c, log)), { numRuns: 500, seed: 0xbac4 });
  });

  it("leaves no block allocated", () => {
    for (const build of BUILDS) if (rts[build].blocksInUse !== 0) throw new Error(`${build}: ${rts[build].blocksInUse} blocks in use`);
  });
});
