// Linear, Embedding, the losses, LastStep and Sequential: values and gradients against float64 (central
// differences of a float64 transcription), wasm against reference, round trips, errors and lifetimes.
//
// Tolerances (U = 2^-24):
// - A float32 sum of K products, in any order and with or without FMA, is within γ_{K+1}·Σ|terms| of the exact
//   value (forward error analysis; γ_n ≈ nU), and the reference's float64 sum stored once is within U·|value|
//   plus far less. So Linear's y is checked to (I+2)·U·(Σ_k |x||W| + |b|), dx to (N+2)·U·Σ_n |dy||W|, dW to
//   (M+2)·U·Σ_m |dy||x| and db to (M+2)·U·Σ_m |dy|, against float64; wasm against reference to the sum of the
//   two sides' bounds. Embedding's gradient rows are float32 sums of the upstream rows: (count+1)·U·Σ|dy|.
// - The central differences: every loss here is linear (Linear, Embedding) or quadratic (MSE) in each single
//   coordinate, so the difference quotient is exact in real arithmetic and only float64 rounding remains: each
//   evaluation of L with K roundings is within γ_K·Σ|terms of L|, so the quotient is within
//   K·2^-53·Σ|terms| / h (fdBound). Cross-entropy is smooth: with h = 1e-5 the truncation error is
//   h²/6·max|f'''| < 1e-10 and the rounding error (C + 3)·2^-53·Σ|row losses| / h < 4e-9 (C <= 7, loss <= 30),
//   so 1e-8 absolute.
// - Loss values: the library sums in float64 from the same float32 data as the transcription: 1e-12 relative.
//   Loss gradients are float64 values (a few 2^-53 relative) stored as float32 (U relative): (U + 2^-51)
//   relative plus the difference-quotient error.
// - LastStep, Sequential against the same steps by hand, and Embedding wasm against reference run the same
//   code on the same data: bitwise.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import {
  crossEntropyLoss, Embedding, fromTorch, LastStep, Linear, LSTM, GRU, mseLoss, Sequential,
  type Build, type RecurrentLayer, type Runtime, type Tensor,
} from "../../src/index.js";
import { expectRnnError } from "./support.js";
import { expectSame, expectClose, U } from "../helpers/compare.js";
import { numel, randomF32, randomTensor, rng } from "../helpers/random.js";
import { runtimeFor, TEST_BUILDS } from "../helpers/runtimes.js";

type Backend = "reference" | Build;
const BACKENDS: Backend[] = ["reference", ...TEST_BUILDS];

const runtimes = {} as Record<Build, Runtime>;
beforeAll(async () => {
  for (const build of TEST_BUILDS) runtimes[build] = await runtimeFor(build);
});

const where = (backend: Backend) => (backend === "reference" ? { backend: "reference" as const } : { runtime: runtimes[backend] });

/** Bound on a central difference's float64 rounding error: K roundings per evaluation of L (see the header). */
function fdBound(K: number, LAbs: number, h: number): number {
  return (K * 2 ** -53 * LAbs) / h;
}

/** Central difference of `loss` in coordinate i of `v` (float64). */
function centralDifference(loss: () => number, v: Float64Array, i: number, h: number): number {
  const keep = v[i];
  v[i] = keep + h;
  const up = loss();
  v[i] = keep - h;
  const down = loss();
  v[i] = keep;
  return (up - down) / (2 * h);
}

// ---------------------------------------------------------------------------------------------------------
// Linear

/** y = x Wᵀ + b in float64, and Σ|terms| for the bounds. x (M, I), W (N, I). */
function linear64(x: Float64Array, W: Float64Array, b: Float64Array | null, M: number, I: number, N: number): { y: Float64Array; abs: Float64Array } {
  const y = new Float64Array(M * N), abs = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = b ? b[n] : 0, a = b ? Math.abs(b[n]) : 0;
      for (let k = 0; k < I; k++) {
        s += x[m * I + k] * W[n * I + k];
        a += Math.abs(x[m * I + k] * W[n * I + k]);
      }
      y[m * N + n] = s;
      abs[m * N + n] = a;
    }
  }
  return { y, abs };
}

describe("Linear", () => {
  const caseArb = fc.record({
    I: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 13 })),
    N: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 13 })),
    lead: fc.oneof(fc.constant([] as number[]), fc.tuple(fc.integer({ min: 1, max: 9 })).map((t) => [...t]), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 })).map((t) => [...t])),
    bias: fc.boolean(),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  });

  it("forward equals float64, backward equals float64 central differences, on the reference and every build; wasm equals reference", () => {
    fc.assert(
      fc.property(caseArb, ({ I, N, lead, bias, seed }) => {
        const next = rng(seed);
        const M = numel(lead);
        const x = randomTensor([...lead, I], next);
        const dy = randomTensor([...lead, N], next);
        const first = new Linear({ inFeatures: I, outFeatures: N, bias, seed, backend: "reference" });
        const torch = first.toTorch();
        first.dispose();
        // float64 oracle: y, and the gradients of L = Σ y·dy by central differences
        const W64 = Float64Array.from(torch.weight.data), b64 = bias ? Float64Array.from(torch.bias.data) : null;
        const x64 = Float64Array.from(x.data), dy64 = Float64Array.from(dy.data);
        const { y: y64, abs: yAbs } = linear64(x64, W64, b64, M, I, N);
        const L = () => linear64(x64, W64, b64, M, I, N).y.reduce((s, v, i) => s + v * dy64[i], 0);
        const h = 0.5;
        const up = (v: Float64Array) => v.map((e) => Math.abs(e) + h); // |terms| with any one coordinate moved by h
        const LAbs = linear64(up(x64), up(W64), b64 && up(b64), M, I, N).y.reduce((s, v, i) => s + v * Math.abs(dy64[i]), 0);
        const fdTol = fdBound(M * N + I + 3, LAbs, h);
        const fd = (v: Float64Array) => Array.from(v, (_, i) => centralDifference(L, v, i, h));
        const dx64 = fd(x64), dW64 = fd(W64), db64 = b64 ? fd(b64) : [];
        // Σ|terms| of each gradient entry
        const dxAbs = Array.from({ length: M * I }, (_, j) => { const m = Math.floor(j / I), i = j % I; let a = 0; for (let n = 0; n < N; n++) a += Math.abs(dy64[m * N + n] * W64[n * I + i]); return a; });
        const dWAbs = Array.from({ length: N * I }, (_, j) => { const n = Math.floor(j / I), i = j % I; let a = 0; for (let m = 0; m < M; m++) a += Math.abs(dy64[m * N + n] * x64[m * I + i]); return a; });
        const dbAbs = Array.from({ length: N }, (_, n) => { let a = 0; for (let m = 0; m < M; m++) a += Math.abs(dy64[m * N + n]); return a; });

        const results: { y: Tensor; dx: Tensor; g: Record<string, Tensor> }[] = [];
        for (const backend of BACKENDS) {
          const lin = Linear.fromTorch(torch, where(backend));
          try {
            expect([lin.inFeatures, lin.outFeatures, lin.bias, lin.backend]).toEqual([I, N, bias, backend === "reference" ? "reference" : "wasm"]);
            const y = lin.forward(x, { train: true });
            expect(y.shape).toEqual([...lead, N]);
            expectClose(`${backend} y`, y.data, y64, (i) => (I + 2) * U * yAbs[i]);
            const dx = lin.backward(dy);
            expect(dx.shape).toEqual([...lead, I]);
            const g = lin.grads();
            expectClose(`${backend} dx`, dx.data, dx64, (i) => (N + 2) * U * dxAbs[i] + fdTol);
            expectClose(`${backend} dW`, g.weight.data, dW64, (i) => (M + 2) * U * dWAbs[i] + fdTol);
            if (bias) expectClose(`${backend} db`, g.bias.data, db64, (i) => (M + 2) * U * dbAbs[i] + fdTol);
            else expect(g.bias).toBeUndefined();
            results.push({ y, dx, g });
          } finally {
            lin.dispose();
          }
        }
        const [r0] = results;
        results.slice(1).forEach((r, k) => {
          const b = BACKENDS[k + 1];
          expectClose(`${b} vs reference y`, r.y.data, r0.y.data, (i) => (I + 3) * U * yAbs[i]);
          expectClose(`${b} vs reference dx`, r.dx.data, r0.dx.data, (i) => (N + 3) * U * dxAbs[i]);
          expectClose(`${b} vs reference dW`, r.g.weight.data, r0.g.weight.data, (i) => (M + 3) * U * dWAbs[i]);
          if (bias) expectClose(`${b} vs reference db`, r.g.bias.data, r0.g.bias.data, (i) => (M + 3) * U * dbAbs[i]);
        });
      }),
      { numRuns: 60, seed: 21 },
    );
  });

  it("fromTorch / toTorch round trip is exact on both backends (with and without bias, with a prefix)", () => {
    for (const backend of BACKENDS) {
      for (const bias of [true, false]) {
        const next = rng(bias ? 1 : 2);
        const weight = randomTensor([5, 7], next), b = randomTensor([5], next);
        const dict: Record<string, Tensor> = { "head.weight": weight, "other.weight": randomTensor([2, 2], next) };
        if (bias) dict["head.bias"] = b;
        const lin = Linear.fromTorch(dict, { prefix: "head.", ...where(backend) });
        const out = lin.toTorch();
        expect(Object.keys(out).sort()).toEqual(bias ? ["bias", "weight"] : ["weight"]);
        expect(out.weight.shape).toEqual([5, 7]);
        expectSame(`${backend} weight`, out.weight.data, weight.data);
        if (bias) expectSame(`${backend} bias`, out.bias.data, b.data);
        const again = Linear.fromTorch(out, where(backend));
        expectSame(`${backend} twice`, again.toTorch().weight.data, weight.data);
        // grads() is in the same layout, zeros before any backward
        expect(lin.grads().weight.shape).toEqual([5, 7]);
        expect(lin.grads().weight.data.every((v) => v === 0)).toBe(true);
        lin.dispose();
        again.dispose();
      }
    }
  });

  it("errors: missing and misshapen tensors and options, input shape, NaN input, backward without a training forward, use after dispose", () => {
    const w = randomTensor([3, 2], rng(3));
    expectRnnError(() => Linear.fromTorch({ bias: randomTensor([3], rng(1)) }), "missing", "weight");
    expectRnnError(() => Linear.fromTorch({ weight: randomTensor([3], rng(1)) }), "shape", "weight");
    expectRnnError(() => Linear.fromTorch({ weight: w, bias: randomTensor([2], rng(1)) }), "shape", "bias");
    expectRnnError(() => new Linear({ inFeatures: 0, outFeatures: 2 }), "shape", "inFeatures");
    expectRnnError(() => new Linear({ inFeatures: 2 } as never), "missing", "outFeatures");
    for (const backend of BACKENDS) {
      const lin = Linear.fromTorch({ weight: w }, where(backend));
      expectRnnError(() => lin.forward(randomTensor([4, 3], rng(1))), "shape", "[4, 3]", "[..., 2]");
      expectRnnError(() => lin.forward({ shape: [2], data: new Float32Array([1, NaN]) }), "nonfinite", "input");
      expectRnnError(() => lin.backward(randomTensor([4, 3], rng(1))), "state", "backward()");
      lin.forward(randomTensor([4, 2], rng(1)));
      expectRnnError(() => lin.backward(randomTensor([4, 3], rng(1))), "state", "train: true");
      lin.forward(randomTensor([4, 2], rng(1)), { train: true });
      expectRnnError(() => lin.backward(randomTensor([3, 3], rng(1))), "shape", "output gradient");
      lin.backward(randomTensor([4, 3], rng(1)));
      expectRnnError(() => lin.backward(randomTensor([4, 3], rng(1))), "state", "once per such forward");
      lin.dispose();
      lin.dispose();
      expectRnnError(() => lin.forward(randomTensor([4, 2], rng(1))), "disposed", "Linear");
      expectRnnError(() => lin.toTorch(), "disposed", "Linear");
    }
    for (const build of TEST_BUILDS) expect(runtimes[build].blocksInUse, `${build}: every block freed`).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Embedding

describe("Embedding", () => {
  it("forward gathers rows; backward adds upstream rows (central differences in float64); wasm equals reference bitwise", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }), fc.integer(),
        (V, D, shape, seed) => {
          const next = rng(seed);
          const n = numel(shape);
          const idx = Array.from({ length: n }, () => Math.floor(next() * V));
          const dy = randomTensor([...shape, D], next);
          const weight = randomF32(V * D, next);
          const W64 = Float64Array.from(weight), dy64 = Float64Array.from(dy.data);
          const L = () => idx.reduce((s, r, i) => { for (let j = 0; j < D; j++) s += W64[r * D + j] * dy64[i * D + j]; return s; }, 0);
          const h = 0.5;
          const LAbs = idx.reduce((s, r, i) => { for (let j = 0; j < D; j++) s += (Math.abs(W64[r * D + j]) + h) * Math.abs(dy64[i * D + j]); return s; }, 0);
          const fdTol = fdBound(n * D + 2, LAbs, h);
          const dW64 = Array.from(W64, (_, i) => centralDifference(L, W64, i, h));
          const count = Array.from({ length: V }, (_, r) => idx.filter((x) => x === r).length);
          const absRow = (r: number, j: number) => idx.reduce((s, x, i) => s + (x === r ? Math.abs(dy64[i * D + j]) : 0), 0);
          const outs: { y: Tensor; g: Float32Array }[] = [];
          for (const backend of BACKENDS) {
            const emb = new Embedding({ numEmbeddings: V, embeddingDim: D, ...where(backend) }, weight);
            try {
              const asData = [Int32Array.from(idx), idx, Float32Array.from(idx)][Math.abs(seed) % 3];
              const y = emb.forward({ shape, data: asData }, { train: true });
              expect(y.shape).toEqual([...shape, D]);
              idx.forEach((r, i) => expectSame(`${backend} row ${i}`, y.data.subarray(i * D, (i + 1) * D), weight.subarray(r * D, (r + 1) * D)));
              expect(emb.backward(dy)).toBeNull();
              const g = emb.grads().weight;
              expect(g.shape).toEqual([V, D]);
              expectClose(`${backend} dW`, g.data, dW64, (i) => (count[Math.floor(i / D)] + 1) * U * absRow(Math.floor(i / D), i % D) + fdTol);
              outs.push({ y, g: g.data });
            } finally {
              emb.dispose();
            }
          }
          outs.slice(1).forEach((o, k) => {
            expectSame(`${BACKENDS[k + 1]} forward`, o.y.data, outs[0].y.data);
            expectSame(`${BACKENDS[k + 1]} dW`, o.g, outs[0].g);
          });
        }),
      { numRuns: 60, seed: 22 },
    );
  });

  it("repeated backward calls accumulate until zeroGrad; toTorch returns the weight", () => {
    const weight = randomF32(12, rng(1));
    const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 3, runtime: runtimes.simd }, weight);
    const dy = { shape: [2, 3], data: new Float32Array([1, 2, 3, 10, 20, 30]) };
    for (let k = 0; k < 2; k++) {
      emb.forward({ shape: [2], data: [2, 2] }, { train: true });
      emb.backward(dy);
    }
    expectSame("row 2 holds 2·(dy0 + dy1)", emb.grads().weight.data, [0, 0, 0, 0, 0, 0, 22, 44, 66, 0, 0, 0]);
    emb.zeroGrad();
    expect(emb.grads().weight.data.every((v) => v === 0)).toBe(true);
    expectSame("toTorch", emb.toTorch().weight.data, weight);
    emb.dispose();
    expect(runtimes.simd.blocksInUse).toBe(0);
  });

  it("index validation: out of range, negative, fractional, NaN, wrong count, not an index tensor; misshapen weight and upstream", () => {
    for (const backend of BACKENDS) {
      const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 2, seed: 1, ...where(backend) });
      expectRnnError(() => emb.forward({ shape: [3], data: [0, 5, 1] }), "shape", "index 5", "position 1", "[0, 5)");
      expectRnnError(() => emb.forward({ shape: [2], data: [-1, 0] }), "shape", "index -1");
      expectRnnError(() => emb.forward({ shape: [2], data: Float32Array.from([1.5, 0]) }), "shape", "index 1.5");
      expectRnnError(() => emb.forward({ shape: [1], data: [NaN] }), "shape", "index NaN");
      expectRnnError(() => emb.forward({ shape: [2, 2], data: [0, 1, 2] }), "shape", "3 values", "[2,2]");
      expectRnnError(() => emb.forward({ shape: [2] } as never), "dtype", "indices");
      expectRnnError(() => emb.forward(null as never), "dtype", "indices");
      expectRnnError(() => emb.backward({ shape: [1, 2], data: new Float32Array(2) }), "state", "backward()");
      emb.forward({ shape: [3], data: [0, 1, 4] }, { train: true });
      expectRnnError(() => emb.backward({ shape: [3, 3], data: new Float32Array(9) }), "shape", "output gradient");
      emb.dispose();
      expectRnnError(() => emb.forward({ shape: [1], data: [0] }), "disposed", "Embedding");
    }
    expectRnnError(() => new Embedding({ numEmbeddings: 2, embeddingDim: 3 }, new Float32Array(5)), "shape", "5 values");
    expectRnnError(() => new Embedding({ numEmbeddings: 0, embeddingDim: 3, backend: "reference" }), "shape", "numEmbeddings");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Losses

function mse64(p: Float64Array, t: Float64Array, reduction: "mean" | "sum"): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  return reduction === "mean" ? s / p.length : s;
}

/** -log(exp(z_y) / Σ_c exp(z_c)) per row, averaged or summed: the textbook form (fine for moderate logits). */
function crossEntropy64(z: Float64Array, N: number, C: number, y: number[], reduction: "mean" | "sum"): number {
  let s = 0;
  for (let r = 0; r < N; r++) {
    let denom = 0;
    for (let c = 0; c < C; c++) denom += Math.exp(z[r * C + c]);
    s += -Math.log(Math.exp(z[r * C + y[r]]) / denom);
  }
  return reduction === "mean" ? s / N : s;
}

const rel = (want: number, r: number) => (got: number) => Math.abs(got - want) <= r * Math.abs(want);

describe("mseLoss", () => {
  it("hand-computed values and gradients, mean and sum", () => {
    const pred = { shape: [3], data: new Float32Array([1, 2, 3]) }, target = { shape: [3], data: new Float32Array([0, 2, 5]) };
    const mean = mseLoss(pred, target);
    expect(rel(5 / 3, 1e-15)(mean.loss), `${mean.loss}`).toBe(true);
    expectSame("mean gradient", mean.grad.data, Float32Array.from([2 / 3, 0, -4 / 3]));
    expect(mean.grad.shape).toEqual([3]);
    const sum = mseLoss(pred, target, "sum");
    expect(sum.loss).toBe(5);
    expectSame("sum gradient", sum.grad.data, [2, 0, -4]);
  });

  it("random shapes: value equals float64, gradient equals float64 central differences", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), fc.constantFrom("mean" as const, "sum" as const), fc.integer(), (shape, reduction, seed) => {
        const next = rng(seed);
        const p = randomTensor(shape, next, 2), t = randomTensor(shape, next, 2);
        const r = mseLoss(p, t, reduction);
        const p64 = Float64Array.from(p.data), t64 = Float64Array.from(t.data);
        const want = mse64(p64, t64, reduction);
        expect(rel(want, 1e-12)(r.loss), `${r.loss} vs ${want}`).toBe(true);
        const n = p64.length, h = 1e-3;
        const LAbs = Array.from(p64).reduce((s, v, i) => s + (Math.abs(v) + Math.abs(t64[i]) + h) ** 2, 0) / (reduction === "mean" ? n : 1);
        const fd = Array.from(p64, (_, i) => centralDifference(() => mse64(p64, t64, reduction), p64, i, h));
        expectClose("mse gradient", r.grad.data, fd, (i) => (U + 2 ** -51) * Math.abs(fd[i]) + fdBound(n + 4, LAbs, h));
      }),
      { numRuns: 100, seed: 23 },
    );
  });

  it("errors: shape mismatch, NaN target, unknown reduction; a NaN prediction propagates", () => {
    const p = randomTensor([2, 3], rng(1));
    expectRnnError(() => mseLoss(p, randomTensor([3, 2], rng(2))), "shape", "target");
    expectRnnError(() => mseLoss(p, { shape: [2, 3], data: new Float32Array(6).fill(NaN) }), "nonfinite", "target");
    expectRnnError(() => mseLoss(p, p, "none" as never), "unexpected", "reduction");
    const r = mseLoss({ shape: [2], data: new Float32Array([NaN, 1]) }, { shape: [2], data: new Float32Array([0, 0]) });
    expect(Number.isNaN(r.loss)).toBe(true);
  });
});

describe("crossEntropyLoss", () => {
  it("hand-computed: logits [C] and [N, C], mean and sum", () => {
    const e = Math.exp;
    const one = crossEntropyLoss({ shape: [3], data: new Float32Array([1, 2, 3]) }, [2]);
    const Z = e(1) + e(2) + e(3);
    expect(rel(-Math.log(e(3) / Z), 1e-15)(one.loss), `${one.loss}`).toBe(true);
    expect(one.grad.shape).toEqual([3]);
    expectClose("softmax - onehot", one.grad.data, [e(1) / Z, e(2) / Z, e(3) / Z - 1], () => 2 * U);
    const logits = { shape: [2, 3], data: new Float32Array([1, 2, 3, 0, 0, 0]) };
    const rows = [-Math.log(e(3) / Z), Math.log(3)];
    const mean = crossEntropyLoss(logits, { shape: [2], data: Int32Array.from([2, 0]) });
    expect(rel((rows[0] + rows[1]) / 2, 1e-15)(mean.loss)).toBe(true);
    const gMean = [e(1) / Z / 2, e(2) / Z / 2, (e(3) / Z - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6]; // row 2's target is class 0
    expectClose("mean gradient", mean.grad.data, gMean, 2 * U);
    const sum = crossEntropyLoss(logits, [2, 0], "sum");
    expect(rel(rows[0] + rows[1], 1e-15)(sum.loss)).toBe(true);
    expectClose("sum gradient", sum.grad.data, gMean.map((v) => 2 * v), 2 * U);
  });

  it("random logits: value equals the textbook float64 formula, gradient equals its central differences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }), fc.boolean(), fc.constantFrom("mean" as const, "sum" as const), fc.integer(), (N, C, rank1, reduction, seed) => {
        const next = rng(seed);
        const rows = rank1 ? 1 : N;
        const z = randomTensor(rank1 ? [C] : [N, C], next, 4);
        const y = Array.from({ length: rows }, () => Math.floor(next() * C));
        const r = crossEntropyLoss(z, y, reduction);
        const z64 = Float64Array.from(z.data);
        const want = crossEntropy64(z64, rows, C, y, reduction);
        expect(Math.abs(r.loss - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${r.loss} vs ${want}`).toBe(true);
        expect(r.grad.shape).toEqual(z.shape);
        const fd = Array.from(z64, (_, i) => centralDifference(() => crossEntropy64(z64, rows, C, y, reduction), z64, i, 1e-5));
        expectClose("cross-entropy gradient", r.grad.data, fd, (i) => (U + 2 ** -51) * Math.abs(fd[i]) + 1e-8);
      }),
      { numRuns: 100, seed: 24 },
    );
  });

  // Large logits: torch subtracts the max first ((z - max) - log Σ exp(z - max)), so its float32 result is
  // within U relative of the exact loss at any logit size. The same bound here (this loss is a float64 number,
  // so it may be better, not worse); gradients where softmax is exactly 0, 1 or 1/2 must be exact.
  it("large logits: loss within U relative of the exact value and exact gradients (as torch, which subtracts the max first)", () => {
    const ce = (z: number[], y: number) => crossEntropyLoss({ shape: [z.length], data: Float32Array.from(z) }, [y]);
    let r = ce([1000, 0, -1000], 0);
    expect(r.loss).toBe(0);
    expectSame("confident and right", r.grad.data, [0, 0, 0]);
    r = ce([1000, 0, -1000], 2);
    expect(rel(2000, U)(r.loss)).toBe(true);
    expectSame("confident and wrong", r.grad.data, [1, 0, -1]);
    r = ce([-1000, -1000], 1);
    expect(rel(Math.LN2, U)(r.loss), `loss ${r.loss}`).toBe(true);
    expectSame("tied, very negative", r.grad.data, [0.5, -0.5]);
    r = ce([88, 89, 90], 0); // exp(90) overflows float32 but not float64; the max shift keeps it exact anyway
    expect(rel(Math.log(Math.exp(-2) + Math.exp(-1) + 1) + 2, U)(r.loss)).toBe(true);
  });

  // Here the loss is (max + log Σ exp(z - max)) - z_y: when |max| >~ 1e15 the log 2 added to it is lost to
  // float64 rounding, so the loss is 0 instead of log 2, and the softmax exp(z_c - logSum) sums to 2 (gradient
  // [0, 1] instead of [-0.5, 0.5]). At 1e15 the loss is 0.75.
  it("tied logits of 1e15 and 1e20 (valid float32) give log 2 and gradient [-0.5, 0.5], as torch", () => {
    for (const big of [1e15, 1e20]) {
      const r = crossEntropyLoss({ shape: [2], data: Float32Array.from([big, big]) }, [0]);
      expectClose(`logits ${big}: gradient`, r.grad.data, [-0.5, 0.5], 0.5 * U);
      expect(rel(Math.LN2, U)(r.loss), `logits ${big}: loss ${r.loss}`).toBe(true);
    }
  });

  it("errors: target count, class out of range or fractional, logits rank, reduction; NaN logits propagate", () => {
    const z = randomTensor([2, 3], rng(1));
    expectRnnError(() => crossEntropyLoss(z, [0]), "shape", "2 class indices", "got 1");
    expectRnnError(() => crossEntropyLoss(z, [0, 3]), "shape", "target[1] = 3", "[0, 3)");
    expectRnnError(() => crossEntropyLoss(z, [0, -1]), "shape", "target[1] = -1");
    expectRnnError(() => crossEntropyLoss(z, [0.5, 1]), "shape", "target[0] = 0.5");
    expectRnnError(() => crossEntropyLoss(randomTensor([1, 2, 3], rng(1)), [0]), "shape", "logits");
    expectRnnError(() => crossEntropyLoss(z, [0, 1], "max" as never), "unexpected", "reduction");
    expectRnnError(() => crossEntropyLoss({ shape: [3], data: new Float32Array(3) }, 1 as never), "shape", "1 class indices");
    const r = crossEntropyLoss({ shape: [2], data: new Float32Array([NaN, 0]) }, [0]);
    expect(Number.isNaN(r.loss)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// LastStep and Sequential

describe("LastStep", () => {
  const layouts: [string, boolean | undefined, (T: number, B: number, F: number) => number[], (t: number, b: number, T: number, B: number, F: number) => number][] = [
    ["time-major [T, B, F]", undefined, (T, B, F) => [T, B, F], (t, b, _T, B, F) => (t * B + b) * F],
    ["batch-first [B, T, F]", true, (T, B, F) => [B, T, F], (t, b, T, _B, F) => (b * T + t) * F],
    ["unbatched [T, F]", undefined, (T, _B, F) => [T, F], (t, _b, _T, _B, F) => t * F],
  ];
  for (const [name, batchFirst, shapeOf, offset] of layouts) {
    it(`${name}: forward picks step T-1 of each row, backward puts dy there and zeros elsewhere`, () => {
      for (const [T, B, F] of [[1, 1, 1], [5, 3, 2], [4, 1, 7], [2, 6, 5]]) {
        const unbatched = name.startsWith("unbatched");
        const Bn = unbatched ? 1 : B;
        const x = randomTensor(shapeOf(T, Bn, F), rng(T * 100 + B * 10 + F));
        const step = new LastStep({ batchFirst });
        const y = step.forward(x, { train: true });
        expect(y.shape).toEqual(unbatched ? [F] : [Bn, F]);
        for (let b = 0; b < Bn; b++) expectSame(`row ${b}`, y.data.subarray(b * F, (b + 1) * F), x.data.subarray(offset(T - 1, b, T, Bn, F), offset(T - 1, b, T, Bn, F) + F));
        const dy = randomTensor(y.shape, rng(7));
        const dx = step.backward(dy);
        expect(dx.shape).toEqual(x.shape);
        const want = new Float32Array(x.data.length);
        for (let b = 0; b < Bn; b++) want.set(dy.data.subarray(b * F, (b + 1) * F), offset(T - 1, b, T, Bn, F));
        expectSame("dx", dx.data, want);
        expectRnnError(() => step.backward(dy), "state", "backward()");
      }
    });
  }

  it("errors: backward after an inference forward, wrong upstream shape, zero timesteps, rank", () => {
    const step = new LastStep();
    step.forward(randomTensor([3, 2, 4], rng(1)));
    expectRnnError(() => step.backward(randomTensor([2, 4], rng(1))), "state", "train: true");
    step.forward(randomTensor([3, 2, 4], rng(1)), { train: true });
    expectRnnError(() => step.backward(randomTensor([4, 2], rng(1))), "shape", "output gradient");
    expectRnnError(() => step.forward({ shape: [0, 2, 4], data: new Float32Array(0) }), "shape", "at least one timestep");
    expectRnnError(() => step.forward(randomTensor([2], rng(1))), "shape", "input");
  });
});

describe("Sequential", () => {
  for (const backend of ["reference", "simd", "relaxed"] as Backend[]) {
    it(`${backend}: LSTM (batch-first) -> LastStep -> Linear equals doing each step by hand, forward, backward and grads, bitwise`, () => {
      const lstm = new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true, seed: 1, ...where(backend) });
      const lin = new Linear({ inFeatures: 6, outFeatures: 3, seed: 2, ...where(backend) });
      const last = new LastStep();
      const model = new Sequential([lstm, last, lin]);
      expect(last.batchFirst, "LastStep follows the layer before it").toBe(true);
      const lstm2 = fromTorch(lstm.toTorch(), { batchFirst: true, ...where(backend) }) as RecurrentLayer;
      const lin2 = Linear.fromTorch(lin.toTorch(), where(backend));
      try {
        const next = rng(3);
        for (let round = 0; round < 2; round++) { // twice: gradients accumulate the same way in both
          const x = randomTensor([3, 5, 4], next);
          const y = model.forward(x, { train: true });
          const h = lstm2.forward(x, { train: true }).output;
          const l = new LastStep({ batchFirst: true });
          const yHand = lin2.forward(l.forward(h, { train: true }), { train: true });
          expect(y.shape).toEqual([3, 3]);
          expectSame("forward", y.data, yHand.data);
          const dy = mseLoss(y, randomTensor([3, 3], next)).grad;
          const dx = model.backward(dy)!;
          const dxHand = lstm2.backward({ output: l.backward(lin2.backward(dy)) }).dInput;
          expect(dx.shape).toEqual([3, 5, 4]);
          expectSame("dInput", dx.data, dxHand.data);
          for (const [name, t] of Object.entries(lstm.grads())) expectSame(`lstm ${name}`, t.data, lstm2.grads()[name].data);
          expectSame("linear weight grad", lin.grads().weight.data, lin2.grads().weight.data);
          expectSame("linear bias grad", lin.grads().bias.data, lin2.grads().bias.data);
        }
        expect(model.parameterBuffers().length).toBe(lstm.parameterBuffers().length + lin.parameterBuffers().length);
        model.zeroGrad();
        for (const t of [...Object.values(lstm.grads()), ...Object.values(lin.grads())]) expect(t.data.every((v) => v === 0)).toBe(true);
      } finally {
        model.dispose();
        lstm2.dispose();
        lin2.dispose();
      }
    });
  }

  it("Embedding -> GRU -> LastStep -> Linear: backward returns null, the embedding's gradient equals the steps by hand", () => {
    const rt = runtimes.scalar;
    const weight = randomF32(10 * 4, rng(5));
    const emb = new Embedding({ numEmbeddings: 10, embeddingDim: 4, runtime: rt }, weight);
    const gru = new GRU({ inputSize: 4, hiddenSize: 5, seed: 6, runtime: rt });
    const lin = new Linear({ inFeatures: 5, outFeatures: 2, seed: 7, runtime: rt });
    const model = new Sequential([emb, gru, new LastStep(), lin]);
    const emb2 = new Embedding({ numEmbeddings: 10, embeddingDim: 4, runtime: rt }, weight);
    const gru2 = fromTorch(gru.toTorch(), { runtime: rt }) as RecurrentLayer;
    const lin2 = Linear.fromTorch(lin.toTorch(), { runtime: rt });
    const tokens = { shape: [6, 3], data: Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 10) };
    const y = model.forward(tokens, { train: true });
    const l = new LastStep();
    const yHand = lin2.forward(l.forward(gru2.forward(emb2.forward(tokens, { train: true }), { train: true }).output, { train: true }), { train: true });
    expectSame("forward", y.data, yHand.data);
    const dy = randomTensor([3, 2], rng(8));
    expect(model.backward(dy)).toBeNull();
    emb2.backward(gru2.backward({ output: l.backward(lin2.backward(dy)) }).dInput);
    expectSame("embedding grad", emb.grads().weight.data, emb2.grads().weight.data);
    for (const m of [model, emb2, gru2, lin2]) m.dispose();
    expect(rt.blocksInUse).toBe(0);
  });

  it("dispose disposes every module (blocksInUse back to the start), is safe twice, and later use throws 'disposed'", async () => {
    const rt = await runtimeFor("simd");
    const start = { blocks: rt.blocksInUse, bytes: rt.bytesInUse };
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 1, runtime: rt });
    const lin = new Linear({ inFeatures: 5, outFeatures: 2, seed: 2, runtime: rt });
    const emb = new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 3, runtime: rt });
    const model = new Sequential([emb, lstm, new LastStep(), lin]);
    model.forward({ shape: [4, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 0, 1]) }, { train: true });
    model.backward(randomTensor([2, 2], rng(1)));
    expect(rt.blocksInUse).toBeGreaterThan(start.blocks);
    model.dispose();
    expect(rt.blocksInUse).toBe(start.blocks);
    expect(rt.bytesInUse).toBe(start.bytes);
    model.dispose();
    model[Symbol.dispose]();
    expectRnnError(() => model.forward(randomTensor([4, 2], rng(1))), "disposed", "Sequential");
    expectRnnError(() => model.parameterBuffers(), "disposed", "Sequential");
    expectRnnError(() => lstm.forward(randomTensor([4, 2, 3], rng(1))), "disposed", "LSTM");
    expectRnnError(() => lin.toTorch(), "disposed", "Linear");
    expectRnnError(() => emb.toTorch(), "disposed", "Embedding");
    expectRnnError(() => new Sequential([]), "missing", "non-empty");
  });
});
