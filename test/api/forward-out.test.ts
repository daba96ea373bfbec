// test/api/forward-out.test.ts: forward's `out` option (issue 14: nothing allocated per call in steady state).
// With `out`, every layer kind and layout, on the wasm float engine, the reference backend and the quantized engines
// (int8 as q16, int12; wasm and reference), returns out's own tensor objects holding bitwise what a call without
// `out` returns, though out starts full of NaN (so an element left unwritten shows) and is then reused for a call
// with other lengths (so a stale padding value shows). Every refusal is checked to leave the layer, its tape and the
// wasm memory as they were; 50 steady-state calls with `out` allocate no wasm memory. No tolerance anywhere: the
// same engine computes both results, so they must be identical.
import { describe, it, expect, beforeAll } from "vitest";
import {
  GRU, LSTM, quantize, type LayerOptions, type LayerResult, type LayerState, type Runtime, type Tensor,
} from "../../src/index.js";
import { createLayer, expectRnnError, memorySnapshot } from "./helpers.js";
import { expectBitwise } from "../helpers/compare.js";
import { randomTensor, rng, type Rng } from "../helpers/random.js";
import { runtimeFor } from "../helpers/runtimes.js";

let rt: Runtime;
beforeAll(async () => {
  rt = await runtimeFor("simd");
});

/** Something forward(input, { ...state, out }) can be called on: a float or a quantized layer. */
interface Forwardable {
  forward(input: Tensor, options?: LayerState & { lengths?: ArrayLike<number>; out?: unknown; train?: boolean }): LayerResult;
  dispose(): void;
}

const CONFIGS: { name: string; kind: "lstm" | "gru" | "rnn"; options: Omit<LayerOptions, "batchFirst"> }[] = [
  { name: "LSTM projSize 3, 2 layers, bidirectional", kind: "lstm", options: { inputSize: 5, hiddenSize: 7, projSize: 3, numLayers: 2, bidirectional: true } },
  { name: "GRU resetAfter", kind: "gru", options: { inputSize: 4, hiddenSize: 6, numLayers: 2 } },
  { name: "GRU original form, bidirectional", kind: "gru", options: { inputSize: 3, hiddenSize: 5, resetAfter: false, bidirectional: true } },
  { name: "RNN relu", kind: "rnn", options: { inputSize: 6, hiddenSize: 9, nonlinearity: "relu" } },
];

const ENGINES: { name: string; make(kind: "lstm" | "gru" | "rnn", o: LayerOptions): Forwardable }[] = [
  { name: "wasm float32", make: (k, o) => createLayer(k, { ...o, runtime: rt }) },
  { name: "reference", make: (k, o) => createLayer(k, { ...o, backend: "reference" }) },
  { name: "int8 (q16)", make: (k, o) => quantizeOf(k, o, { dtype: "int8", form: "q16" }) },
  { name: "int12", make: (k, o) => quantizeOf(k, o, { dtype: "int12" }) },
  { name: "int8 reference", make: (k, o) => quantizeOf(k, o, { dtype: "int8", form: "q16", backend: "reference" }) },
];

function quantizeOf(kind: "lstm" | "gru" | "rnn", o: LayerOptions, q: Parameters<typeof quantize>[1]): Forwardable {
  const float = createLayer(kind, { ...o, runtime: rt });
  try {
    return quantize(float, { ...q, runtime: rt });
  } finally {
    float.dispose();
  }
}

/** A tensor of `shape` full of NaN: what a reused buffer might hold, and what an unwritten element would keep. */
function garbage(shape: readonly number[]): Tensor {
  return { shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) };
}

function outLike(r: LayerResult): { output: Tensor; hN: Tensor; cN?: Tensor } {
  return r.cN ? { output: garbage(r.output.shape), hN: garbage(r.hN.shape), cN: garbage(r.cN.shape) } : { output: garbage(r.output.shape), hN: garbage(r.hN.shape) };
}

/** Lengths in 1..T, one at T so the call's T is used, one below it where B > 1 so padding is exercised. */
function lengthsOf(B: number, T: number, next: Rng): Int32Array {
  const out = Int32Array.from({ length: B }, () => 1 + Math.floor(next() * T));
  out[0] = T;
  if (B > 1) out[B - 1] = Math.max(1, T - 2);
  return out;
}

function expectSameResult(what: string, got: LayerResult, want: LayerResult): void {
  expectBitwise(`${what} output`, got.output, want.output);
  expectBitwise(`${what} hN`, got.hN, want.hN);
  expect(got.cN === undefined, `${what}: cN present`).toBe(want.cN === undefined);
  if (want.cN) expectBitwise(`${what} cN`, got.cN, want.cN);
}

describe("forward with out: bitwise a normal call's results, in out's own tensors", () => {
  for (const c of CONFIGS) {
    for (const e of ENGINES) {
      for (const layout of ["time-major", "batch-first", "unbatched"] as const) {
        it(`${c.name}, ${e.name}, ${layout}`, () => {
          const layer = e.make(c.kind, { ...c.options, batchFirst: layout === "batch-first", seed: 3 });
          try {
            const next = rng(c.options.inputSize * 17 + c.options.hiddenSize);
            const T = 6, B = layout === "unbatched" ? 1 : 3, I = c.options.inputSize;
            const D = c.options.bidirectional ? 2 : 1, LD = D * (c.options.numLayers ?? 1);
            const P = c.kind === "lstm" && c.options.projSize ? c.options.projSize : c.options.hiddenSize;
            const batched = layout !== "unbatched";
            const inShape = layout === "time-major" ? [T, B, I] : layout === "batch-first" ? [B, T, I] : [T, I];
            const stateShape = (n: number) => (batched ? [LD, B, n] : [LD, n]);
            const call = (lengths: Int32Array | undefined) => {
              const options: LayerState & { lengths?: Int32Array } = { h0: randomTensor(stateShape(P), next) };
              if (c.kind === "lstm") options.c0 = randomTensor(stateShape(c.options.hiddenSize), next);
              if (lengths) options.lengths = lengths;
              return { input: randomTensor(inShape, next), options };
            };
            const first = call(batched ? lengthsOf(B, T, next) : undefined);
            const want = layer.forward(first.input, first.options);
            const out = outLike(want);
            const got = layer.forward(first.input, { ...first.options, out });
            expect(got.output, "the returned output is out.output").toBe(out.output);
            expect(got.hN, "the returned hN is out.hN").toBe(out.hN);
            expect(got.cN, "the returned cN is out.cN").toBe(out.cN);
            expectSameResult("first call", got, want);
            // the same out again, with other lengths: values the first call left must all be overwritten
            const second = call(batched ? Int32Array.from({ length: B }, (_, b) => (b === 0 ? 2 : T - b + 1)) : undefined);
            const want2 = layer.forward(second.input, second.options);
            const got2 = layer.forward(second.input, { ...second.options, out });
            expect(got2.output).toBe(out.output);
            expectSameResult("reused out", got2, want2);
          } finally {
            layer.dispose();
          }
        });
      }
    }
  }
});

describe("forward with out: refusals leave the layer, its tape and memory as they were", () => {
  const T = 4, B = 2, I = 3, H = 5;

  function lstm(): LSTM {
    return new LSTM({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
  }

  function goodOut(): { output: Tensor; hN: Tensor; cN: Tensor } {
    return { output: garbage([T, B, H]), hN: garbage([1, B, H]), cN: garbage([1, B, H]) };
  }

  /** `bad` throws RnnError(code) naming `parts`; memory counters, the result of a good call and backward's tape unchanged. */
  function refused(bad: (layer: LSTM, x: Tensor, state: LayerState) => unknown, code: Parameters<typeof expectRnnError>[1], ...parts: (string | RegExp)[]): void {
    const layer = lstm();
    try {
      const x = randomTensor([T, B, I], rng(5));
      const state = { h0: randomTensor([1, B, H], rng(6)), c0: randomTensor([1, B, H], rng(7)) };
      const before = layer.forward(x, { ...state, train: true });
      const gradBefore = new LSTM({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
      gradBefore.forward(x, { ...state, train: true });
      const wantGrads = gradBefore.backward({ output: before.output });
      gradBefore.dispose();
      const mem = memorySnapshot(rt);
      expectRnnError(() => bad(layer, x, state), code, ...parts);
      expect(memorySnapshot(rt), "memory counters after the refused call").toEqual(mem);
      // the training forward before the refused call can still be backpropagated, bitwise as an untouched layer's
      const grads = layer.backward({ output: before.output });
      expectBitwise("dInput after the refused call", grads.dInput, wantGrads.dInput);
      expectBitwise("dh0 after the refused call", grads.dh0, wantGrads.dh0);
      expectSameResult("after the refused call", layer.forward(x, state), before);
    } finally {
      layer.dispose();
    }
  }

  it("a wrong shape, saying expected and got", () => {
    refused((l, x) => l.forward(x, { out: { ...goodOut(), output: garbage([T, B, H + 1]) } }), "shape", "out.output", `[${T}, ${B}, ${H + 1}]`, `[${T}, ${B}, ${H}]`);
    refused((l, x) => l.forward(x, { out: { ...goodOut(), hN: garbage([B, H]) } }), "shape", "out.hN", `[1, ${B}, ${H}]`);
  });

  it("data that is not a Float32Array, or does not match its shape", () => {
    refused((l, x) => l.forward(x, { out: { ...goodOut(), hN: { shape: [1, B, H], data: new Float64Array(B * H) as never } } }), "dtype", "out.hN.data", "Float64Array");
    refused((l, x) => l.forward(x, { out: { ...goodOut(), cN: { shape: [1, B, H], data: new Float32Array(B * H - 1) } } }), "shape", "out.cN.data has");
  });

  it("out's arrays overlapping each other (same buffer, overlapping bytes), but not disjoint views of one buffer", () => {
    const n = T * B * H, m = B * H;
    const shared = new Float32Array(n + 2 * m);
    const overlapping = { output: { shape: [T, B, H], data: shared.subarray(0, n) }, hN: { shape: [1, B, H], data: shared.subarray(n - 1, n - 1 + m) }, cN: garbage([1, B, H]) };
    refused((l, x) => l.forward(x, { out: overlapping }), "unexpected", "out.output and out.hN share memory");
    const sameArray = goodOut();
    refused((l, x) => l.forward(x, { out: { ...sameArray, cN: sameArray.hN } }), "unexpected", "out.hN and out.cN share memory");
    // disjoint views of one buffer are fine, and give the normal results
    const layer = lstm();
    try {
      const x = randomTensor([T, B, I], rng(8));
      const want = layer.forward(x);
      const out = { output: { shape: [T, B, H], data: shared.subarray(0, n) }, hN: { shape: [1, B, H], data: shared.subarray(n, n + m) }, cN: { shape: [1, B, H], data: shared.subarray(n + m) } };
      expectSameResult("disjoint views", layer.forward(x, { out }), want);
    } finally {
      layer.dispose();
    }
  });

  it("out overlapping the input, h0 or c0 (read while the results are written)", () => {
    const n = T * B * H, k = T * B * I;
    const both = new Float32Array(k + n - 1);
    const input = { shape: [T, B, I], data: both.subarray(0, k) };
    input.data.set(randomTensor([T, B, I], rng(9)).data);
    refused((l) => l.forward(input, { out: { ...goodOut(), output: { shape: [T, B, H], data: new Float32Array(both.buffer, (k - 1) * 4, n) } } }),
      "unexpected", "out.output shares memory with input");
    refused((l, x, s) => l.forward(x, { ...s, out: { ...goodOut(), hN: s.h0! } }), "unexpected", "out.hN shares memory with h0");
    refused((l, x, s) => l.forward(x, { ...s, out: { ...goodOut(), cN: s.c0! } }), "unexpected", "out.cN shares memory with c0");
  });

  it("cN missing for an LSTM, given to a GRU; unknown keys; out that is not an object", () => {
    refused((l, x) => l.forward(x, { out: { output: garbage([T, B, H]), hN: garbage([1, B, H]) } }), "missing", "out.cN is missing");
    refused((l, x) => l.forward(x, { out: { ...goodOut(), hn: garbage([1, B, H]) } as never }), "unexpected", "unknown option 'hn' of out");
    refused((l, x) => l.forward(x, { out: 5 as never }), "unexpected", "out must be an object");
    const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
    try {
      expectRnnError(() => gru.forward(randomTensor([T, B, I], rng(1)), { out: goodOut() }), "unexpected", "out.cN is only for an LSTM");
    } finally {
      gru.dispose();
    }
  });

  it("a refused call leaves the streaming state as it was", () => {
    const layer = lstm();
    try {
      const chunk = randomTensor([2, B, I], rng(12));
      layer.stream(chunk);
      const state = layer.state!;
      const kept = { h0: { shape: [...state.h0!.shape], data: state.h0!.data.slice() }, c0: { shape: [...state.c0!.shape], data: state.c0!.data.slice() } };
      expectRnnError(() => layer.forward(randomTensor([T, B, I], rng(13)), { out: { ...goodOut(), output: garbage([T, B]) } }), "shape", "out.output");
      expectBitwise("h0 the next stream() starts from", layer.state!.h0, kept.h0);
      expectBitwise("c0 the next stream() starts from", layer.state!.c0, kept.c0);
      const fresh = lstm();
      try {
        const next = randomTensor([3, B, I], rng(14));
        expectSameResult("the next stream() call", layer.stream(next), fresh.forward(next, kept));
      } finally {
        fresh.dispose();
      }
    } finally {
      layer.dispose();
    }
  });

  it("train: true is allowed: the same results, and backward gives the same gradients", () => {
    const a = lstm(), b = lstm();
    try {
      const x = randomTensor([T, B, I], rng(10));
      const want = a.forward(x, { train: true });
      const out = goodOut();
      const got = b.forward(x, { train: true, out });
      expectSameResult("training forward", got, want);
      out.output.data.fill(NaN); // backward reads its own tape, not out
      expectBitwise("dInput", b.backward({ output: want.output }).dInput, a.backward({ output: want.output }).dInput);
      expectBitwise("weight_ih gradient", b.grads().weight_ih_l0, a.grads().weight_ih_l0);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("a quantized layer refuses a bad out the same way, before anything runs", () => {
    const float = lstm();
    const q = quantize(float, { dtype: "int8", runtime: rt });
    float.dispose();
    try {
      const x = randomTensor([T, B, I], rng(11));
      const before = q.forward(x);
      const mem = memorySnapshot(rt);
      expectRnnError(() => q.forward(x, { out: { ...goodOut(), output: garbage([B, T, H]) } }), "shape", "out.output", `[${B}, ${T}, ${H}]`);
      expect(memorySnapshot(rt)).toEqual(mem);
      expectSameResult("after the refused call", q.forward(x), before);
    } finally {
      q.dispose();
    }
  });
});

describe("forward with out: steady state", () => {
  it("50 calls with out (float LSTM, int8 GRU, time-major and batch-first) allocate no wasm memory", () => {
    const layers: Forwardable[] = [];
    try {
      const lstmLayer = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, seed: 2, runtime: rt });
      layers.push(lstmLayer);
      const gruFloat = new GRU({ inputSize: 8, hiddenSize: 32, batchFirst: true, seed: 2, runtime: rt });
      layers.push(quantize(gruFloat, { dtype: "int8", runtime: rt }));
      gruFloat.dispose();
      const inputs = [randomTensor([16, 4, 8], rng(12)), randomTensor([4, 16, 8], rng(13))];
      const outs = layers.map((l, i) => outLike(l.forward(inputs[i])));
      layers.forEach((l, i) => l.forward(inputs[i], { out: outs[i] })); // warm: workspaces at their size
      const mem = memorySnapshot(rt);
      for (let k = 0; k < 50; k++) {
        layers.forEach((l, i) => {
          const r = l.forward(inputs[i], { out: outs[i] });
          expect(r.output).toBe(outs[i].output);
        });
      }
      expect(memorySnapshot(rt), "blocks, bytes and memory size after 50 calls with out").toEqual(mem);
    } finally {
      for (const l of layers) l.dispose();
    }
  });
});
