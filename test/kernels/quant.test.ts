// test/kernels/quant.test.ts: assembly/quant.ts's quantizeQ16, quantizeQ8, gemmQ16 and gemmQ8 against
// src/reference/quant.ts, on every build, and src/quant-layout.ts's packing.
//
// Exactness. The kernels compute integers (the quantized activations and the int32 sums of their products with the
// quantized weights) and then a fixed chain of f32 roundings (f32 of each chunk's sum, chunk sums added in order,
// times sw[n], times sa[m], plus bias, plus the old value), with no fused multiply-add even in the relaxed build.
// The mirror does the same, so every output is compared bit for bit, padding and strides included: the columns
// N..ldo of out must keep their NaN, the activation lanes past K must hold the form's zero. The integer sums are
// also checked on their own: with unit scales and no bias, out is the int32 sum itself (exactly, below 2^24).
// Dequantized outputs are then held to a rigorous bound against the float64 value of the same integers (below).
//
// Builds. gemmQ8 of the relaxed build uses i32x4.relaxed_dot_i8x16_i7x16_add_s, which V8 11.3 (Node 20) computes
// wrongly in its baseline compiler (twice the dot, accumulator dropped: /work/shared/TOOLCHAIN.md); on a V8 older
// than 12 that one combination is skipped here (the Node 24 pass, test/node24.config.ts, runs it). Every other
// build computes the Q8 form without the relaxed op, and all of them must give the same bits.
//
// Sizes: K 1..70 (not multiples of 2, 4, 16: the packed depth pads with zero weights, the activation rows with the
// form's zero), and K up to 1100 in some cases so gemmQ16 spans several int32 chunks of 512; N is a gate-padded
// G*roundUp4(R) or, with `tail`, the last gate block unpadded (N % 8 and N % 4 anything: the store tails); with
// `block` the product runs over rows n0.. only (whole panels in, scales and bias n0 in), as GRU's n block will, and
// the columns before n0 must keep their values.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  gemmQ16 as refGemmQ16, gemmQ8 as refGemmQ8, quantizeQ16 as refQuantizeQ16, quantizeQ8 as refQuantizeQ8,
  quantizeRows, QCHUNK, QMAX_INT12, QMAX_INT8,
} from "../../src/reference/quant.js";
import {
  packQuantized, quantDepth, quantMatrixLayout, quantPackedIndex, quantPackedSize, quantPanelOffset, quantRowStride,
  type QuantForm,
} from "../../src/quant-layout.js";
import { roundUp4, roundUp8 } from "../../src/layout.js";
import { BUILDS, gamma, loadRuntimes, withWasm, type WasmScope } from "./harness.js";
import { expectSameBits } from "../helpers/compare.js";
import { randomF32, rng, type Rng } from "../helpers/random.js";
import { type Runtimes } from "../helpers/runtimes.js";
import type { Build } from "../../src/runtime.js";

/** Whether this engine's V8 computes the relaxed dot-add correctly from the first call (V8 >= 12: Node >= 22). */
const RELAXED_DOT_SOUND = Number(process.versions.v8.split(".")[0]) >= 12;
const buildsFor = (form: QuantForm): Build[] => BUILDS.filter((b) => form === "q16" || b !== "relaxed" || RELAXED_DOT_SOUND);

// ---------------------------------------------------------------------------------------------------------
// Data

/**
 * How a row of activations is drawn: its values' scale, a row of zeros, a tiny row, ties (x * inv = j + 1/2), or a
 * NaN among unit values (the row's scale must be NaN, so its outputs are).
 */
type RowKind = "unit" | "small" | "big" | "zero" | "tiny" | "ties" | "nan";
const rowKinds: RowKind[] = ["unit", "small", "big", "zero", "tiny", "ties", "nan"];

/** M rows of K activations (row stride ldx), each row of its own kind. */
function activations(M: number, K: number, ldx: number, qmax: number, kinds: RowKind[], next: Rng): Float32Array {
  const x = new Float32Array(M * ldx).fill(NaN); // the stride gap must not be read
  for (let m = 0; m < M; m++) {
    const kind = kinds[m % kinds.length];
    for (let k = 0; k < K; k++) {
      const u = 2 * next() - 1;
      let v = u;
      if (kind === "small") v = u * 1e-3;
      if (kind === "big") v = u * 1e3;
      if (kind === "zero") v = 0;
      if (kind === "tiny") v = u * 1e-32;
      // amax = qmax / 4 makes qmax / amax exactly 4, so (j + 1/2) / 4 quantizes at an exact tie
      if (kind === "ties") v = k === 0 ? qmax / 4 : (Math.floor(u * qmax) + 0.5) / 4;
      if (kind === "nan" && k === (m * 7) % K) v = NaN;
      x[m * ldx + k] = v;
    }
  }
  return x;
}

/** (G*R, K) rows -> (G*Rp, K): the gate blocks padded with zero rows, as the kernels' output columns are. */
function padGateRows<T extends Int8Array | Int16Array | Float32Array>(src: T, G: number, R: number, K: number, make: (n: number) => T): T {
  const Rp = roundUp4(R);
  const out = make(roundUp8(G * Rp) * K);
  for (let g = 0; g < G; g++) for (let j = 0; j < R; j++) out.set(src.subarray((g * R + j) * K, (g * R + j + 1) * K), (g * Rp + j) * K);
  return out;
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A block holding a copy of `data`'s bytes (padded to whole floats). */
function putBytes(w: WasmScope, data: ArrayBufferView, name: string): number {
  const ptr = w.alloc(Math.ceil(data.byteLength / 4), 0, name);
  new Uint8Array(w.k.memory.buffer, ptr, data.byteLength).set(bytes(data));
  return ptr;
}

// ---------------------------------------------------------------------------------------------------------
// Activations

describe("quantizeQ16 and quantizeQ8 (wasm) vs the reference, all builds: the same integers and scales", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("bit for bit, padding lanes included (M 1..6, K 1..70, int8 and int12 levels, zero, tiny, tie and NaN rows)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 5 }),
        fc.constantFrom(QMAX_INT8, QMAX_INT12), fc.shuffledSubarray(rowKinds, { minLength: 1 }), fc.integer(),
        (M, K, gap, qmax, kinds, seed) => {
          const ldx = K + gap;
          const x = activations(M, K, ldx, qmax, kinds, rng(seed));
          for (const form of ["q16", "q8"] as const) {
            const ldq = quantRowStride(form, K) + (gap & 1) * (form === "q16" ? 8 : 16);
            const want = form === "q16" ? new Int16Array(M * ldq) : new Uint8Array(M * ldq);
            const wantScale = new Float32Array(M);
            if (form === "q16") refQuantizeQ16(want as Int16Array, ldq, wantScale, x, ldx, M, K, qmax);
            else refQuantizeQ8(want as Uint8Array, ldq, wantScale, x, ldx, M, K);
            for (const build of BUILDS) {
              const [got, gotScale] = withWasm(rts[build], (w) => {
                const xp = w.put(x, "x");
                const q = w.alloc(Math.ceil(want.byteLength / 4), NaN, "q");
                const sa = w.alloc(M, NaN, "sa");
                if (form === "q16") w.k.quantizeQ16(q, ldq, sa, xp, ldx, M, K, qmax);
                else w.k.quantizeQ8(q, ldq, sa, xp, ldx, M, K);
                w.checkGuards(`quantize ${form}`);
                return [new Uint8Array(w.k.memory.buffer, q, want.byteLength).slice(), w.read(sa, M)];
              });
              const what = `${form} M=${M} K=${K} ldq=${ldq} qmax=${qmax} kinds=${kinds} (${build})`;
              // a NaN scale's bits are the engine's (which NaN an operation returns is not fixed): NaN matches NaN
              const nanFree = (a: Float32Array) => a.map((v) => (Number.isNaN(v) ? 12345 : v));
              for (let m = 0; m < M; m++) expect(Number.isNaN(gotScale[m]), `${what}: row ${m}'s scale`).toBe(kinds[m % kinds.length] === "nan");
              expectSameBits(`${what}: scales`, nanFree(gotScale), nanFree(wantScale));
              const gotQ = form === "q16" ? new Int16Array(got.buffer) : got;
              const i = gotQ.findIndex((v, j) => v !== want[j]);
              expect(i, `${what}: q[${Math.floor(i / ldq)}, ${i % ldq}] is ${gotQ[i]}, expected ${want[i]}`).toBe(-1);
            }
          }
        }),
      { numRuns: 150, seed: 0x9a11 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Products

interface ProductCase {
  form: QuantForm;
  qmax: number; // of weights and (Q16) activations; Q8 activations are always 7 bits
  M: number;
  K: number;
  G: number;
  R: number;
  tail: boolean; // N = (G-1)*Rp + R: the last gate block unpadded
  block: boolean; // the product over rows n0..N only (n0 a multiple of 8: whole panels in), as GRU's n block is run
  bias: boolean;
  accumulate: boolean;
  seed: number;
}

const productArb: fc.Arbitrary<ProductCase> = fc.record({
  form: fc.constantFrom<QuantForm>("q16", "q8"),
  qmax: fc.constantFrom(QMAX_INT8, QMAX_INT12),
  M: fc.integer({ min: 1, max: 9 }),
  K: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 70 }) }, { weight: 1, arbitrary: fc.integer({ min: 500, max: 1100 }) }),
  G: fc.integer({ min: 1, max: 4 }),
  R: fc.integer({ min: 1, max: 23 }),
  tail: fc.boolean(),
  block: fc.boolean(),
  bias: fc.boolean(),
  accumulate: fc.boolean(),
  seed: fc.integer(),
}).map((c) => (c.form === "q8" ? { ...c, qmax: QMAX_INT8 } : c)); // Q8 weights are int8

/** One case's data, quantized by the reference, with what the mirror computes (out (M, ldo), NaN past N). */
function productData(c: ProductCase) {
  const next = rng(c.seed);
  const { form, qmax, M, K, G, R } = c;
  const Rp = roundUp4(R), Np = G * Rp;
  const N = c.tail ? Np - Rp + R : Np;
  const ldo = N + 3;
  const n0 = c.block ? 8 * Math.floor(next() * Math.floor((N - 1) / 8 + 1)) : 0; // a panel start below N
  const x = activations(M, K, K, qmax, rowKinds.slice(0, 3), next); // unit, small and big rows
  const W = randomF32(G * R * K, next, 1 / Math.sqrt(K));
  const wq = form === "q16" ? new Int16Array(G * R * K) : new Int8Array(G * R * K);
  const sw = new Float32Array(G * R);
  quantizeRows(wq, K, sw, W, K, G * R, K, qmax);
  const bias = c.bias ? randomF32(roundUp8(Np), next) : null;
  if (bias) bias.fill(NaN, N); // lanes N..roundUp4(N) are readable by contract, never used
  const old = new Float32Array(M * ldo).fill(NaN);
  for (let m = 0; m < M; m++) old.set(c.accumulate ? randomF32(N, next) : new Float32Array(N).fill(NaN), m * ldo);
  // the mirror, on the kernels' padded output rows
  const wPad = padGateRows(wq, G, R, K, (n) => (form === "q16" ? new Int16Array(n) : new Int8Array(n)) as typeof wq);
  const swPad = padGateRows(sw, G, R, 1, (n) => new Float32Array(n));
  // activation rows of the form's stride, or one more v128 apart (rows of a larger buffer)
  const lda = quantRowStride(form, K) + (c.seed & 1 ? (form === "q16" ? 8 : 16) : 0);
  const sa = new Float32Array(M);
  const want = old.slice();
  if (form === "q16") {
    const aq = new Int16Array(M * lda);
    refQuantizeQ16(aq, lda, sa, x, K, M, K, qmax);
    refGemmQ16(want.subarray(n0), ldo, aq, lda, sa, (wPad as Int16Array).subarray(n0 * K), K, swPad.subarray(n0),
      bias && bias.subarray(n0), M, K, N - n0, c.accumulate);
    return { N, n0, ldo, lda, x, wq, sw, bias, old, want, aq: aq as Int16Array | Uint8Array, wPad, sa };
  }
  const aq = new Uint8Array(M * lda);
  refQuantizeQ8(aq, lda, sa, x, K, M, K);
  refGemmQ8(want.subarray(n0), ldo, aq, lda, sa, (wPad as Int8Array).subarray(n0 * K), K, swPad.subarray(n0),
    bias && bias.subarray(n0), M, K, N - n0, c.accumulate);
  return { N, n0, ldo, lda, x, wq, sw, bias, old, want, aq: aq as Int16Array | Uint8Array, wPad, sa };
}

/** Runs quantize + gemm of `form` in wasm on x with the packed block; returns out (M, ldo). */
function runProduct(w: WasmScope, c: ProductCase, d: ReturnType<typeof productData>, block: Uint8Array): Float32Array {
  const { form, M, K } = c;
  const L = quantMatrixLayout(form, c.G, c.R, K);
  const bp = putBytes(w, block, "weights");
  const xp = w.put(d.x, "x");
  const aq = w.alloc(Math.ceil((M * d.lda * (form === "q16" ? 2 : 1)) / 4), NaN, "aq");
  const sa = w.alloc(M, NaN, "sa");
  const n0 = d.n0, N = d.N - n0;
  const bias = d.bias ? w.put(d.bias, "bias") + 4 * n0 : 0;
  const out = w.put(d.old, "out");
  const rows = quantPanelOffset(form, n0, K) * (form === "q16" ? 2 : 1); // bytes to row n0's panel
  if (form === "q16") {
    w.k.quantizeQ16(aq, d.lda, sa, xp, K, M, K, c.qmax);
    w.k.gemmQ16(out + 4 * n0, d.ldo, aq, d.lda, sa, bp + L.weights + rows, L.panelStride, bp + L.scales + 4 * n0, bias, M, K, N, c.accumulate ? 1 : 0);
  } else {
    w.k.quantizeQ8(aq, d.lda, sa, xp, K, M, K);
    w.k.gemmQ8(out + 4 * n0, d.ldo, aq, d.lda, sa, bp + L.weights + rows, L.panelStride, bp + L.scales + 4 * n0, bp + L.corr + 4 * n0,
      bias, M, K, N, c.accumulate ? 1 : 0);
  }
  w.checkGuards(`gemm ${form}`);
  return w.read(out, M * d.ldo);
}

const caseName = (c: ProductCase, N: number, n0 = 0) =>
  `${c.form} qmax=${c.qmax} M=${c.M} K=${c.K} G=${c.G} R=${c.R} N=${N}${n0 ? ` rows ${n0}..` : ""}${c.bias ? " bias" : ""}${c.accumulate ? " accumulate" : ""}`;

describe("gemmQ16 and gemmQ8 (wasm) vs the reference, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("give the mirror's bits: quantized activations, int32 sums, dequantization, bias, accumulation, tails", () => {
    fc.assert(
      fc.property(productArb, (c) => {
        const d = productData(c);
        const block = new Uint8Array(quantMatrixLayout(c.form, c.G, c.R, c.K).totalBytes);
        packQuantized(block, d.wq, d.sw, c.form, c.G, c.R, c.K);
        for (const build of buildsFor(c.form)) {
          const got = withWasm(rts[build], (w) => runProduct(w, c, d, block));
          expectSameBits(`${caseName(c, d.N, d.n0)} (${build})`, got, d.want, (i) => `out[${Math.floor(i / d.ldo)}, ${i % d.ldo}]`);
        }
      }),
      { numRuns: 250, seed: 0x9e44 },
    );
  });

  it("the int32 sums themselves: with unit scales and no bias, out is the exact integer sum_k aq·wq (int8, K <= 1040)", () => {
    fc.assert(
      fc.property(productArb.filter((c) => c.qmax === QMAX_INT8 && c.K <= 1040), (c0) => {
        const c = { ...c0, bias: false, accumulate: false, block: false };
        const d = productData(c);
        const ones = new Float32Array(c.G * c.R).fill(1);
        const block = new Uint8Array(quantMatrixLayout(c.form, c.G, c.R, c.K).totalBytes);
        packQuantized(block, d.wq, ones, c.form, c.G, c.R, c.K);
        // the exact sums, from the mirror's quantized activations and the padded weights (|sum| <= 127^2 K < 2^24)
        const offset = c.form === "q8" ? 64 : 0;
        const want = new Float32Array(c.M * d.ldo).fill(NaN);
        for (let m = 0; m < c.M; m++) {
          for (let n = 0; n < d.N; n++) {
            let s = 0;
            for (let k = 0; k < c.K; k++) s += (d.aq[m * d.lda + k] - offset) * d.wPad[n * c.K + k];
            want[m * d.ldo + n] = s;
          }
        }
        for (const build of buildsFor(c.form)) {
          const got = withWasm(rts[build], (w) => {
            const bp = putBytes(w, block, "weights");
            const L = quantMatrixLayout(c.form, c.G, c.R, c.K);
            const aq = putBytes(w, d.aq, "aq");
            const sa = w.put(new Float32Array(c.M).fill(1), "sa");
            const out = w.put(d.old, "out");
            if (c.form === "q16") w.k.gemmQ16(out, d.ldo, aq, d.lda, sa, bp + L.weights, L.panelStride, bp + L.scales, 0, c.M, c.K, d.N, 0);
            else w.k.gemmQ8(out, d.ldo, aq, d.lda, sa, bp + L.weights, L.panelStride, bp + L.scales, bp + L.corr, 0, c.M, c.K, d.N, 0);
            return w.read(out, c.M * d.ldo);
          });
          expectSameBits(`integer sums ${caseName(c, d.N)} (${build})`, got, want, (i) => `out[${Math.floor(i / d.ldo)}, ${i % d.ldo}]`);
        }
      }),
      { numRuns: 80, seed: 0x1e7 },
    );
  });

  // The dequantized output against the float64 value of the same integers, exact = S sw[n] sa[m] + bias[n] with S
  // the exact integer sum of c chunk sums S_i (c = 1 for Q8 and for K <= 512): f32 of each S_i, their c - 1 f32
  // additions, two products and the bias add, each a rounding of relative size u, so
  // |out - exact| <= gamma(c + 3) (sum_i |S_i| sw sa + |bias|) (Higham 3.1; sum_i |S_i|, not |S|: chunks can cancel).
  it("dequantized outputs are within gamma(chunks + 3) (sum |S_chunk| sw sa + |bias|) of the float64 value of the same integers", () => {
    fc.assert(
      fc.property(productArb.filter((c) => !c.accumulate), (c0) => {
        const c = { ...c0, block: false };
        const d = productData(c);
        const swPad = padGateRows(d.sw, c.G, c.R, 1, (n) => new Float32Array(n));
        const offset = c.form === "q8" ? 64 : 0;
        const chunks = c.form === "q16" ? Math.ceil(c.K / QCHUNK) : 1;
        for (let m = 0; m < c.M; m++) {
          for (let n = 0; n < d.N; n++) {
            let S = 0, absChunks = 0;
            for (let k0 = 0; k0 < c.K; k0 += QCHUNK) {
              let chunk = 0;
              for (let k = k0; k < Math.min(c.K, k0 + QCHUNK); k++) chunk += (d.aq[m * d.lda + k] - offset) * d.wPad[n * c.K + k];
              S += chunk;
              absChunks += Math.abs(chunk);
            }
            const b = d.bias ? d.bias[n] : 0;
            const exact = S * swPad[n] * d.sa[m] + b;
            const bound = gamma(chunks + 3) * (absChunks * swPad[n] * d.sa[m] + Math.abs(b));
            const got = d.want[m * d.ldo + n]; // the mirror's, which every build matched bit for bit above
            if (!(Math.abs(got - exact) <= bound)) {
              throw new Error(`${caseName(c, d.N)}: out[${m}, ${n}] = ${got}, float64 ${exact}, bound ${bound}`);
            }
          }
        }
      }),
      { numRuns: 150, seed: 0xb0d },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Weights: packQ16 / packQ8 (quantize and pack in wasm) against quantizeRows + packQuantized

describe("packQ16 and packQ8 (wasm) vs the reference's quantizeRows + packQuantized, all builds", () => {
  let rts: Runtimes;
  beforeAll(async () => {
    rts = await loadRuntimes();
  });

  it("write the same block, bit for bit: weights, padding, scales, corrections (G 1..4, R 1..23, C 1..41, zero rows)", () => {
    fc.assert(
      fc.property(fc.constantFrom<QuantForm>("q16", "q8"), fc.constantFrom(QMAX_INT8, QMAX_INT12), fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 41 }), fc.integer(), (form, qmax0, G, R, C, seed) => {
          const qmax = form === "q8" ? QMAX_INT8 : qmax0;
          const next = rng(seed);
          const W = randomF32(G * R * C, next, 10 ** Math.floor(next() * 6 - 3));
          if (G * R > 1) W.fill(0, 0, C); // a zero row: scale 0, zero weights
          const q = form === "q16" ? new Int16Array(G * R * C) : new Int8Array(G * R * C);
          const scale = new Float32Array(G * R);
          quantizeRows(q, C, scale, W, C, G * R, C, qmax);
          const L = quantMatrixLayout(form, G, R, C);
          const want = new Uint8Array(L.totalBytes);
          packQuantized(want, q, scale, form, G, R, C);
          for (const build of BUILDS) {
            const got = withWasm(rts[build], (w) => {
              const src = w.put(W, "src");
              const block = w.alloc(L.totalBytes / 4, NaN, "block");
              if (form === "q16") w.k.packQ16(block + L.weights, block + L.scales, src, G, R, C, qmax);
              else w.k.packQ8(block + L.weights, block + L.scales, block + L.corr, src, G, R, C);
              w.checkGuards(`pack ${form}`);
              return new Uint8Array(w.k.memory.buffer, block, L.totalBytes).slice();
            });
            const i = got.findIndex((v, j) => v !== want[j]);
            expect(i, `${form} qmax=${qmax} G=${G} R=${R} C=${C} (${build}): byte ${i} of the block is ${got[i]}, expected ${want[i]}`).toBe(-1);
          }
        }),
      { numRuns: 150, seed: 0x9ac8 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Layout

describe("src/quant-layout.ts: packQuantized", () => {
  it("puts every weight where quantPackedIndex says, zeros elsewhere, scales on the padded rows, Q8 corrections 64 * row sums", () => {
    fc.assert(
      fc.property(fc.constantFrom<QuantForm>("q16", "q8"), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 41 }), fc.integer(), (form, G, R, C, seed) => {
          const next = rng(seed);
          const q = form === "q16" ? Int16Array.from({ length: G * R * C }, () => Math.round((2 * next() - 1) * 2047))
            : Int8Array.from({ length: G * R * C }, () => Math.round((2 * next() - 1) * 127));
          const scale = randomF32(G * R, next);
          const L = quantMatrixLayout(form, G, R, C);
          expect(L.scales % 16, "scales aligned").toBe(0);
          expect(L.totalBytes % 16, "total aligned").toBe(0);
          const block = new Uint8Array(L.totalBytes).fill(0xa5);
          packQuantized(block, q, scale, form, G, R, C);
          const size = quantPackedSize(form, C, L.N);
          const w = form === "q16" ? new Int16Array(block.buffer, L.weights, size) : new Int8Array(block.buffer, L.weights, size);
          const sw = new Float32Array(block.buffer, L.scales, roundUp8(L.N));
          const seen = new Uint8Array(size);
          const Rp = roundUp4(R);
          for (let g = 0; g < G; g++) {
            for (let j = 0; j < R; j++) {
              const n = g * Rp + j;
              let sum = 0;
              for (let k = 0; k < C; k++) {
                const at = quantPackedIndex(form, n, k, C);
                expect(seen[at], `(${n}, ${k}) shares index ${at}`).toBe(0);
                seen[at] = 1;
                expect(w[at]).toBe(q[(g * R + j) * C + k]);
                sum += q[(g * R + j) * C + k];
              }
              expect(sw[n]).toBe(scale[g * R + j]);
              if (form === "q8") expect(new Int32Array(block.buffer, L.corr, roundUp8(L.N))[n]).toBe(64 * sum);
            }
          }
          for (let i = 0; i < size; i++) if (!seen[i]) expect(w[i], `padding element ${i}`).toBe(0);
          expect(quantDepth(form, C) % (form === "q16" ? 2 : 4)).toBe(0);
        }),
      { numRuns: 100, seed: 0x1a7 },
    );
  });
});
