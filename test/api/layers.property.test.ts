// test/api/layers.property.test.ts: the wasm layers against the reference backend through the public API, on
// random architectures (LSTM/GRU/RNN, 1..3 layers, bidirectional, batch-first, bias, projSize, relu/tanh,
// resetAfter), sizes that are mostly not multiples of 4, with and without h0/c0, batched and unbatched, on each
// wasm build. Both layers hold the same weights: the wasm one is built with a seed, the reference one by
// fromTorch(wasm.toTorch()). Shapes must equal PyTorch's exactly.
//
// Tolerance TOL = 1e-5 on |wasm - ref| / max(1, |ref|), i.e. absolute for values within ±1 (every h of an LSTM,
// GRU or tanh RNN) and relative for the few that are larger (LSTM cell states, relu RNN states). Why it holds:
// the reference sums each dot product in float64 and rounds once on store; the kernels sum in float32 in a
// different order (SIMD lanes, FMA in the relaxed build, a bidirectional layer's input split in two halves).
// With K <= 2*22 terms of size <= 1 that is a few 1e-7 per step; the kernels' exp/sigmoid/tanh are within
// 1.2e-7 of Math's (assembly/math.ts); over T <= 8 steps and 3 layers the sigmoid/tanh gates contract rather
// than amplify these. The observed maximum is printed at the end (below 4e-7 when this was written). A wrong gate,
// bias, direction or state slot moves outputs by 1e-2 or more (a 1e-3 change of one b_hn moves a GRU's output
// by 4e-4), so 1e-5 sits well below any real bug.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { fromTorch, type Build, type Kind, type Runtime, type Tensor } from "../../src/index.js";
import {
  KINDS, asLayer, caseData, createLayer, expectedShapes, layerCaseArb, layerOptions, type LayerCase,
} from "./helpers.js";
import { ErrorLog, expectBitwise, expectTensorClose, relToEach } from "../helpers/compare.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

const TOL = 1e-5;
const RUNS_PER_KIND = 400;

const runtimes = new Map<Build, Runtime>();
const log = new ErrorLog();

beforeAll(async () => {
  for (const b of TEST_BUILDS) runtimes.set(b, await runtimeFor(b));
});

afterAll(() => {
  log.print(`layers.property: largest |wasm - reference| (and error / tolerance, tolerance ${TOL} * max(1, |reference|)) per build and kind`);
});

/** Runs one case on the wasm build and the reference backend and compares shapes and values. */
function checkCase(build: Build, c: LayerCase): void {
  const rt = runtimes.get(build)!;
  const blocksBefore = rt.blocksInUse;
  const wasm = createLayer(c.kind, { ...layerOptions(c), runtime: rt });
  const ref = asLayer(fromTorch(wasm.toTorch(), {
    backend: "reference",
    batchFirst: c.batchFirst,
    ...(c.kind === "rnn" ? { nonlinearity: c.nonlinearity } : {}),
    ...(c.kind === "gru" ? { resetAfter: c.resetAfter } : {}),
  }));
  try {
    expect(ref.spec).toEqual(wasm.spec);
    const { input, state } = caseData(c);
    const got = wasm.forward(input, state);
    const want = ref.forward(input, state);
    const shapes = expectedShapes(c);
    expect(got.output.shape).toEqual(shapes.output);
    expect(got.hN.shape).toEqual(shapes.hN);
    expect(want.output.shape).toEqual(shapes.output);
    expect(want.hN.shape).toEqual(shapes.hN);
    if (c.kind === "lstm") {
      expect(got.cN?.shape).toEqual(shapes.cN);
      expect(want.cN?.shape).toEqual(shapes.cN);
    } else {
      expect(got.cN).toBeUndefined();
      expect(want.cN).toBeUndefined();
    }
    for (const r of [got, want]) {
      expect(r.output.data.length).toBe(r.output.shape.reduce((a, b) => a * b, 1));
      expect(r.hN.data.length).toBe(r.hN.shape.reduce((a, b) => a * b, 1));
    }
    const tol = (w: Float32Array) => relToEach(TOL, w);
    const key = { log, key: `${build} ${c.kind}` };
    expectTensorClose("output", got.output, want.output, tol, key);
    expectTensorClose("hN", got.hN, want.hN, tol, key);
    if (c.kind === "lstm") expectTensorClose("cN", got.cN, want.cN, tol, key);
  } finally {
    wasm.dispose();
    ref.dispose();
  }
  expect(rt.blocksInUse).toBe(blocksBefore);
}

describe.each(TEST_BUILDS)("wasm (%s build) vs reference, through the layer API", (build) => {
  it.each(KINDS)("%s: random architectures, shapes as PyTorch, values within 1e-5", (kind: Kind) => {
    fc.assert(fc.property(layerCaseArb({ kinds: [kind] }), (c) => checkCase(build, c)), { numRuns: RUNS_PER_KIND });
  });
});

describe("wasm builds against each other", () => {
  // assembly/math.ts: the scalar gemm and activations follow the SIMD ones op for op, so the two builds agree
  // to the bit (the relaxed build fuses multiply-adds and is only within tolerance).
  it("simd and scalar builds give bitwise the same results", () => {
    fc.assert(fc.property(layerCaseArb(), (c) => {
      const a = createLayer(c.kind, { ...layerOptions(c), runtime: runtimes.get("simd")! });
      const b = createLayer(c.kind, { ...layerOptions(c), runtime: runtimes.get("scalar")! });
      try {
        const { input, state } = caseData(c);
        const ra = a.forward(input, state);
        const rb = b.forward(input, state);
        expectBitwise("output", ra.output, rb.output);
        expectBitwise("hN", ra.hN, rb.hN);
        if (c.kind === "lstm") expectBitwise("cN", ra.cN, rb.cN);
      } finally {
        a.dispose();
        b.dispose();
      }
    }), { numRuns: 150 });
  });
});

describe("inputs as views", () => {
  it("input, h0 and c0 that are views into larger buffers (byteOffset != 0) give the same results as copies", () => {
    fc.assert(fc.property(layerCaseArb({ kinds: ["lstm"] }), fc.integer({ min: 1, max: 7 }), (c, pad) => {
      const { input, state } = caseData({ ...c, withH0: true, withC0: true });
      const view = (t: Tensor): Tensor => {
        const big = new Float32Array(t.data.length + 2 * pad).fill(NaN);
        big.set(t.data, pad);
        return { shape: [...t.shape], data: big.subarray(pad, pad + t.data.length) };
      };
      for (const backend of ["wasm", "reference"] as const) {
        const layer = createLayer(c.kind, { ...layerOptions(c), backend, runtime: runtimes.get("simd")! });
        const a = layer.forward(input, state);
        const b = layer.forward(view(input), { h0: view(state.h0!), c0: view(state.c0!) });
        expectBitwise("output", b.output, a.output);
        expectBitwise("hN", b.hN, a.hN);
        expectBitwise("cN", b.cN, a.cN);
        layer.dispose();
      }
    }), { numRuns: 40 });
  });
});

describe("shapes, spot checks", () => {
  it("a 2-layer bidirectional LSTM with projSize, batch-first, gives [B,T,2P], [4,B,P], [4,B,H]", () => {
    const c: LayerCase = {
      kind: "lstm", inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, batchFirst: true, bias: true,
      projSize: 3, nonlinearity: "tanh", resetAfter: true, T: 6, B: 2, batched: true, withH0: true, withC0: true,
      seed: 1, dataSeed: 2,
    };
    checkCase("simd", c);
    const layer = createLayer("lstm", { ...layerOptions(c), runtime: runtimes.get("simd")! });
    const r = layer.forward(caseData(c).input);
    expect(r.output.shape).toEqual([2, 6, 6]);
    expect(r.hN.shape).toEqual([4, 2, 3]);
    expect(r.cN!.shape).toEqual([4, 2, 7]);
    layer.dispose();
  });

  it("unbatched input [T, I] gives [T, D*P] and states without the batch axis, and equals the B = 1 batched run", () => {
    for (const batchFirst of [false, true]) {
      const layer = createLayer("gru", { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, batchFirst, seed: 7, runtime: runtimes.get("simd")! });
      const x = new Float32Array(4 * 3).map((_, i) => Math.sin(i));
      const h0 = new Float32Array(4 * 5).map((_, i) => Math.cos(i) / 2);
      const u = layer.forward({ shape: [4, 3], data: x }, { h0: { shape: [4, 5], data: h0 } });
      expect(u.output.shape).toEqual([4, 10]);
      expect(u.hN.shape).toEqual([4, 5]);
      const b = layer.forward({ shape: batchFirst ? [1, 4, 3] : [4, 1, 3], data: x }, { h0: { shape: [4, 1, 5], data: h0 } });
      expect(b.output.shape).toEqual(batchFirst ? [1, 4, 10] : [4, 1, 10]);
      expectBitwise("output", { shape: [4, 10], data: b.output.data }, u.output);
      expectBitwise("hN", { shape: [4, 5], data: b.hN.data }, u.hN);
      layer.dispose();
    }
  });
});
