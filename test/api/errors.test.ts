// test/api/errors.test.ts: every bad call gets an RnnError with the right code and a message that names the
// tensor (or option) and what was expected; after each refused call the layer still gives the same result as
// before and the runtime's blocksInUse / bytesInUse / memoryBytes have not moved (nothing allocated, nothing
// leaked). Also NaN policy, and lifetimes: use after dispose, double dispose, `using`.
// Creating a wasm layer before init() cannot be tested here (init runs once per module context).
import { describe, it, expect, beforeAll } from "vitest";
import {
  fromTorch, GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, RnnError, type LayerState, type RecurrentLayer, type RnnErrorCode,
  type Runtime, type Tensor,
} from "../../src/index.js";
import { asLayer, createLayer, expectRnnError, memorySnapshot } from "./helpers.js";
import { expectBitwise, maxAbsDiff } from "../helpers/compare.js";
import { randomTensor, rng } from "../helpers/random.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

let rt: Runtime;
const otherRuntimes: Runtime[] = [];

beforeAll(async () => {
  rt = await runtimeFor("simd");
  for (const b of TEST_BUILDS) otherRuntimes.push(await runtimeFor(b));
});

/**
 * `bad` must throw RnnError(code) with every part in its message, leave the runtime's memory counters as they
 * were, and leave `layer` giving bitwise the same forward result for `good` as before.
 */
function refusedCleanly(
  layer: RecurrentLayer, good: { input: Tensor; state?: LayerState },
  bad: () => unknown, code: RnnErrorCode, ...parts: (string | RegExp)[]
): void {
  const before = layer.forward(good.input, good.state);
  const mem = memorySnapshot(rt);
  expectRnnError(bad, code, ...parts);
  expect(memorySnapshot(rt), "memory counters after the refused call").toEqual(mem);
  const after = layer.forward(good.input, good.state);
  expectBitwise("output after the refused call", after.output, before.output);
  expectBitwise("hN after the refused call", after.hN, before.hN);
  if (before.cN) expectBitwise("cN after the refused call", after.cN, before.cN);
  expect(memorySnapshot(rt), "memory counters after the good call").toEqual(mem);
}

/** `bad` (a constructor or fromTorch call) must throw RnnError(code) and allocate nothing. */
function refusedWithoutAllocating(bad: () => unknown, code: RnnErrorCode, ...parts: (string | RegExp)[]): void {
  const mem = memorySnapshot(rt);
  expectRnnError(bad, code, ...parts);
  expect(memorySnapshot(rt), "memory counters after the refused construction").toEqual(mem);
}

// An LSTM with I = 5, H = 7, 2 layers; input [T=3, B=2, 5]; h0, c0 [2, 2, 7].
const I = 5, H = 7, L = 2, T = 3, B = 2;
function goodLstmCall(): { input: Tensor; state: LayerState } {
  const next = rng(42);
  return { input: randomTensor([T, B, I], next), state: { h0: randomTensor([L, B, H], next), c0: randomTensor([L, B, H], next) } };
}
function lstm(extra: object = {}): RecurrentLayer {
  return new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, seed: 3, runtime: rt, ...extra });
}
const f32 = (n: number, v = 0.25) => new Float32Array(n).fill(v);

describe("forward: input shape and dtype", () => {
  for (const batchFirst of [false, true]) {
    describe(batchFirst ? "batch-first" : "time-major", () => {
      const form = batchFirst ? "[B, T, inputSize]" : "[T, B, inputSize]";
      const good = () => {
        const g = goodLstmCall();
        if (batchFirst) g.input = { shape: [B, T, I], data: g.input.data };
        return g;
      };

      it("wrong rank (1, 4 and 0) is 'shape' and names input", () => {
        const layer = lstm({ batchFirst });
        refusedCleanly(layer, good(), () => layer.forward({ shape: [T, B, I, 1], data: f32(T * B * I) }), "shape", "input", `[${T}, ${B}, ${I}, 1]`);
        refusedCleanly(layer, good(), () => layer.forward({ shape: [I], data: f32(I) }), "shape", "input", `[${I}]`);
        refusedCleanly(layer, good(), () => layer.forward({ shape: [], data: f32(1) }), "shape", "input");
        layer.dispose();
      });

      // src/layers.ts forward(): the rank branch means to say "input must be [T, B, inputSize] or unbatched
      // [T, inputSize], got rank N", but the checkTensor call before it (against [*, *, inputSize]) always throws
      // first, so a rank-2-expected user only hears "expected [*, *, 5]".
      it("a wrong rank's message lists both accepted forms", () => {
        const layer = lstm({ batchFirst });
        refusedCleanly(layer, good(), () => layer.forward({ shape: [T, B, I, 1], data: f32(T * B * I) }), "shape", "input", form, "[T, inputSize]", "rank 4");
        refusedCleanly(layer, good(), () => layer.forward({ shape: [I], data: f32(I) }), "shape", "input", form, "[T, inputSize]", "rank 1");
        layer.dispose();
      });

      it("wrong inputSize is 'shape' and shows the shape given and the one expected", () => {
        const layer = lstm({ batchFirst });
        refusedCleanly(layer, good(), () => layer.forward({ shape: [T, B, 4], data: f32(T * B * 4) }), "shape", "input", `[${T}, ${B}, 4]`, "[*, *, 5]");
        refusedCleanly(layer, good(), () => layer.forward({ shape: [T, 6], data: f32(T * 6) }), "shape", "input", `[${T}, 6]`, "[*, 5]");
        layer.dispose();
      });

      it("T = 0 or B = 0 is 'shape'", () => {
        const layer = lstm({ batchFirst });
        const tb = (t: number, b: number) => (batchFirst ? [b, t, I] : [t, b, I]);
        refusedCleanly(layer, good(), () => layer.forward({ shape: tb(0, B), data: f32(0) }), "shape", "input", "timestep");
        refusedCleanly(layer, good(), () => layer.forward({ shape: tb(T, 0), data: f32(0) }), "shape", "input", "batch");
        refusedCleanly(layer, good(), () => layer.forward({ shape: [0, I], data: f32(0) }), "shape", "input", "timestep");
        layer.dispose();
      });
    });
  }

  it("data that is not a Float32Array is 'dtype' and names the tensor and the type given", () => {
    const layer = lstm();
    const g = goodLstmCall();
    const n = T * B * I;
    const asAny = (t: unknown) => t as Tensor;
    refusedCleanly(layer, g, () => layer.forward(asAny({ shape: [T, B, I], data: new Float64Array(n) })), "dtype", "input", "Float32Array", "Float64Array");
    refusedCleanly(layer, g, () => layer.forward(asAny({ shape: [T, B, I], data: Array.from(f32(n)) })), "dtype", "input", "Float32Array", "Array");
    refusedCleanly(layer, g, () => layer.forward(asAny({ shape: [T, B, I], data: null })), "dtype", "input", "null");
    refusedCleanly(layer, g, () => layer.forward(asAny({ shape: [T, B, I], data: new Int32Array(n) })), "dtype", "input", "Int32Array");
    refusedCleanly(layer, g, () => layer.forward(asAny(f32(n))), "dtype", "input", "[*, *, 5]");
    refusedCleanly(layer, g, () => layer.forward(asAny(undefined)), "dtype", "input");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: asAny({ shape: [L, B, H], data: new Float64Array(L * B * H) }) }), "dtype", "h0", "Float64Array");
    refusedCleanly(layer, g, () => layer.forward(g.input, { c0: asAny({ shape: [L, B, H], data: [1, 2] }) }), "dtype", "c0", "Array");
    // a wrong rank with a wrong dtype names the dtype problem
    refusedCleanly(layer, g, () => layer.forward(asAny({ shape: [n], data: new Float64Array(n) })), "dtype", "input", "Float64Array");
    layer.dispose();
  });

  it("data length not matching the shape is 'shape' and gives both counts", () => {
    const layer = lstm();
    const g = goodLstmCall();
    refusedCleanly(layer, g, () => layer.forward({ shape: [T, B, I], data: f32(T * B * I - 1) }), "shape", "input", "29", "30", `[${T}, ${B}, ${I}]`);
    refusedCleanly(layer, g, () => layer.forward({ shape: [T, B, I], data: f32(T * B * I + 5) }), "shape", "input", "35");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: { shape: [L, B, H], data: f32(L * B * H - 1) } }), "shape", "h0", "27", "28");
    refusedCleanly(layer, g, () => layer.forward({ shape: [T, 2.5, I], data: f32(T * B * I) }), "shape", "input");
    refusedCleanly(layer, g, () => layer.forward({ shape: [-3, -2, I], data: f32(T * B * I) }), "shape", "input");
    layer.dispose();
  });
});

describe("forward: initial states", () => {
  it("h0 / c0 of the wrong shape are 'shape' and name the tensor and the expected shape", () => {
    const layer = lstm();
    const g = goodLstmCall();
    const t = (shape: number[]) => ({ shape, data: f32(shape.reduce((a, b) => a * b, 1)) });
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: t([L, B + 1, H]) }), "shape", "h0", "[2, 3, 7]", "[2, 2, 7]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: t([1, B, H]) }), "shape", "h0", "[2, 2, 7]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: t([L, B, H + 1]) }), "shape", "h0", "[2, 2, 7]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: t([L, H]) }), "shape", "h0", "[2, 2, 7]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { c0: t([L, B, H - 1]) }), "shape", "c0", "[2, 2, 6]", "[2, 2, 7]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: g.state.h0, c0: t([L * 2, B, H]) }), "shape", "c0", "[2, 2, 7]");
    // unbatched input takes unbatched states
    const x1 = { shape: [T, I], data: f32(T * I) };
    refusedCleanly(layer, g, () => layer.forward(x1, { h0: t([L, 1, H]) }), "shape", "h0", "[2, 7]");
    layer.dispose();
  });

  it("a projected LSTM wants h0 of size projSize and c0 of size hiddenSize", () => {
    const layer = lstm({ projSize: 3 });
    const next = rng(1);
    const g = { input: randomTensor([T, B, I], next), state: { h0: randomTensor([L, B, 3], next), c0: randomTensor([L, B, H], next) } };
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: randomTensor([L, B, H], next) }), "shape", "h0", "[2, 2, 3]");
    refusedCleanly(layer, g, () => layer.forward(g.input, { h0: g.state.h0, c0: randomTensor([L, B, 3], next) }), "shape", "c0", "[2, 2, 7]");
    layer.dispose();
  });

  it("c0 given to a GRU or an RNN is 'unexpected' and says why", () => {
    for (const layer of [new GRU({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt }), new RNN({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt })]) {
      const g = { input: randomTensor([T, B, I], rng(2)), state: { h0: randomTensor([1, B, H], rng(3)) } };
      refusedCleanly(layer, g, () => layer.forward(g.input, { h0: g.state.h0, c0: randomTensor([1, B, H], rng(4)) }), "unexpected", "c0", "LSTM");
      layer.dispose();
    }
  });

  // src/cells.ts forward(): same dead rank message as in layers.ts.
  it("a cell's wrong-rank message lists both accepted forms", () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
    expectRnnError(() => cell.forward({ shape: [T, B, I], data: f32(T * B * I) }), "shape", "input", "[B, inputSize]", "[inputSize]", "rank 3");
    cell.dispose();
  });

  it("cells check input, h and c the same way", () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
    const mem = memorySnapshot(rt);
    expectRnnError(() => cell.forward({ shape: [B, I + 1], data: f32(B * (I + 1)) }), "shape", "input", "[*, 5]");
    expectRnnError(() => cell.forward({ shape: [T, B, I], data: f32(T * B * I) }), "shape", "input", "[3, 2, 5]");
    expectRnnError(() => cell.forward({ shape: [0, I], data: f32(0) }), "shape", "input");
    expectRnnError(() => cell.forward({ shape: [B, I], data: f32(B * I) }, { h: { shape: [B, H + 1], data: f32(B * (H + 1)) } }), "shape", "h", "[2, 7]");
    expectRnnError(() => cell.forward({ shape: [B, I], data: f32(B * I) }, { c: { shape: [H], data: f32(H) } }), "shape", "c", "[2, 7]");
    expectRnnError(() => cell.forward({ shape: [B, I], data: new Float64Array(B * I) } as unknown as Tensor), "dtype", "input", "Float64Array");
    expectRnnError(() => cell.forward({ shape: [B, I], data: f32(B * I, NaN) }), "nonfinite", "input", "NaN");
    expect(memorySnapshot(rt)).toEqual(mem);
    cell.dispose();
    const gru = new GRUCell({ inputSize: I, hiddenSize: H, seed: 1, runtime: rt });
    expectRnnError(() => gru.forward({ shape: [I], data: f32(I) }, { c: { shape: [H], data: f32(H) } }), "unexpected", "c", "LSTMCell");
    gru.dispose();
  });
});

describe("NaN policy", () => {
  it("NaN or Infinity in input, h0 or c0 is 'nonfinite', naming the tensor, the value and the index", () => {
    const layer = lstm();
    const g = goodLstmCall();
    const with_ = (t: Tensor, i: number, v: number): Tensor => {
      const d = t.data.slice();
      d[i] = v;
      return { shape: [...t.shape], data: d };
    };
    refusedCleanly(layer, g, () => layer.forward(with_(g.input, 7, NaN), g.state), "nonfinite", "input", "NaN", "index 7", "nanPolicy");
    refusedCleanly(layer, g, () => layer.forward(with_(g.input, 0, Infinity), g.state), "nonfinite", "input", "Infinity");
    refusedCleanly(layer, g, () => layer.forward(g.input, { ...g.state, h0: with_(g.state.h0!, 3, -Infinity) }), "nonfinite", "h0", "-Infinity", "index 3");
    refusedCleanly(layer, g, () => layer.forward(g.input, { ...g.state, c0: with_(g.state.c0!, 27, NaN) }), "nonfinite", "c0", "NaN", "index 27");
    refusedCleanly(layer, g, () => layer.stream(with_(g.input, 1, NaN)), "nonfinite", "input");
    expect(layer.state).toBeNull();
    layer.dispose();
  });

  it("long inputs (scanned by TypedArray builtins, not a loop) report the first bad value and its index too", () => {
    const layer = new LSTM({ inputSize: 50, hiddenSize: 4, seed: 3, runtime: rt });
    const T = 120; // 6000 values: above tensor.ts's 4096-value threshold for the builtin scan
    const input = (marks: [number, number][]): Tensor => {
      const d = new Float32Array(T * 50).fill(0.5);
      for (const [i, v] of marks) d[i] = v;
      return { shape: [T, 1, 50], data: d };
    };
    expectRnnError(() => layer.forward(input([[5999, NaN]])), "nonfinite", "input", "NaN", "index 5999");
    expectRnnError(() => layer.forward(input([[4321, -Infinity], [5000, NaN]])), "nonfinite", "-Infinity", "index 4321");
    expectRnnError(() => layer.forward(input([[4097, Infinity]])), "nonfinite", "Infinity", "index 4097");
    expectRnnError(() => layer.forward(input([[4500, -Infinity]])), "nonfinite", "-Infinity", "index 4500");
    expect(layer.forward(input([[17, 3e38]])).output.data.every(Number.isFinite)).toBe(true); // large is not infinite
    layer.dispose();
  });

  it("with nanPolicy 'propagate' NaN flows through (only into the batch row it was in), on every build and the reference", () => {
    const backends = [...otherRuntimes.map((runtime) => ({ backend: "wasm" as const, runtime })), { backend: "reference" as const }];
    for (const kind of ["lstm", "gru", "rnn"] as const) {
      for (const b of backends) {
        const options = { inputSize: I, hiddenSize: H, numLayers: 2, seed: 5, nanPolicy: "propagate" as const, ...b, ...(kind === "rnn" ? { nonlinearity: "relu" as const } : {}) };
        const layer = createLayer(kind, options);
        const x = randomTensor([T, B, I], rng(6));
        x.data[(1 * B + 0) * I + 2] = NaN; // t = 1, b = 0
        const r = layer.forward(x);
        const out = r.output.data;
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < H; j++) {
            const row0 = out[(t * B + 0) * H + j], row1 = out[(t * B + 1) * H + j];
            expect(Number.isNaN(row0), `${kind} ${b.backend} output t=${t} b=0 j=${j} is ${row0}`).toBe(t >= 1);
            expect(Number.isFinite(row1), `${kind} ${b.backend} output t=${t} b=1 j=${j} is ${row1}`).toBe(true);
          }
        }
        expect(Number.isNaN(r.hN.data[0])).toBe(true);
        // and a NaN h0 or an Infinity input is accepted too
        const h0 = { shape: [2, B, H], data: f32(2 * B * H, NaN) };
        expect(Array.from(layer.forward(randomTensor([T, B, I], rng(7)), { h0 }).output.data).every(Number.isNaN)).toBe(true);
        const xInf = randomTensor([T, B, I], rng(8));
        xInf.data[0] = Infinity;
        expect(() => layer.forward(xInf)).not.toThrow();
        layer.dispose();
      }
    }
  });
});

describe("bad options", () => {
  const cases: [string, () => unknown, RnnErrorCode, ...string[]][] = [
    ["hiddenSize 0", () => new LSTM({ inputSize: 3, hiddenSize: 0, runtime: rt }), "shape", "hiddenSize", "0"],
    ["hiddenSize 2.5", () => new GRU({ inputSize: 3, hiddenSize: 2.5, runtime: rt }), "shape", "hiddenSize", "2.5"],
    ["inputSize -1", () => new RNN({ inputSize: -1, hiddenSize: 3, runtime: rt }), "shape", "inputSize", "-1"],
    ["inputSize as a string", () => new RNN({ inputSize: "3" as unknown as number, hiddenSize: 3, runtime: rt }), "shape", "inputSize"],
    ["numLayers 0", () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 0, runtime: rt }), "shape", "numLayers"],
    ["projSize == hiddenSize", () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 4, runtime: rt }), "shape", "projSize", "(4)", "hiddenSize"],
    ["projSize > hiddenSize", () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 9, runtime: rt }), "shape", "projSize", "(9)"],
    ["projSize -1", () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: -1, runtime: rt }), "shape", "projSize"],
    ["projSize on a GRU", () => new GRU({ inputSize: 3, hiddenSize: 4, projSize: 2, runtime: rt } as never), "unexpected", "projSize", "gru"],
    ["projSize on an RNN", () => new RNN({ inputSize: 3, hiddenSize: 4, projSize: 2, runtime: rt } as never), "unexpected", "projSize", "rnn"],
    ["nonlinearity on an LSTM", () => new LSTM({ inputSize: 3, hiddenSize: 4, nonlinearity: "relu", runtime: rt } as never), "unexpected", "nonlinearity", "lstm"],
    ["nonlinearity 'sigmoid'", () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: "sigmoid" as never, runtime: rt }), "unexpected", "nonlinearity", "sigmoid"],
    ["resetAfter on an LSTM", () => new LSTM({ inputSize: 3, hiddenSize: 4, resetAfter: false, runtime: rt } as never), "unexpected", "resetAfter"],
    ["backend 'gpu'", () => new LSTM({ inputSize: 3, hiddenSize: 4, backend: "gpu" as never, runtime: rt }), "unexpected", "backend", "'gpu'"],
    ["cell hiddenSize 0", () => new LSTMCell({ inputSize: 3, hiddenSize: 0, runtime: rt }), "shape", "hiddenSize"],
    ["cell backend 'gpu'", () => new RNNCell({ inputSize: 3, hiddenSize: 2, backend: "gpu" as never, runtime: rt }), "unexpected", "backend"],
  ];
  it.each(cases)("%s", (_name, make, code, ...parts) => {
    refusedWithoutAllocating(make, code, ...parts);
  });

  // 'missing' is "a required tensor or option is absent" (src/errors.ts), also when no options object is given.
  it("absent options are 'missing' (errors.ts)", () => {
    refusedWithoutAllocating(() => new LSTM(undefined as never), "missing", "inputSize", "hiddenSize");
    refusedWithoutAllocating(() => new LSTM({ inputSize: 3 } as never), "missing", "hiddenSize");
  });
});

describe("fromTorch errors", () => {
  /** A 2-layer LSTM's state_dict (I = 5, H = 7): 4H = 28. */
  function lstmWeights(extra: object = {}): Record<string, Tensor> {
    const l = lstm(extra);
    const w = l.toTorch();
    l.dispose();
    return w;
  }
  const without = (w: Record<string, Tensor>, ...names: string[]) => Object.fromEntries(Object.entries(w).filter(([k]) => !names.includes(k)));

  it("a missing tensor is 'missing' and named, with its expected shape", () => {
    const w = lstmWeights();
    refusedWithoutAllocating(() => fromTorch(without(w, "bias_hh_l1")), "missing", "'bias_hh_l1'", "[28]");
    refusedWithoutAllocating(() => fromTorch(without(w, "weight_hh_l1")), "missing", "'weight_hh_l1'", "[28, 7]");
    refusedWithoutAllocating(() => fromTorch(without(w, "weight_ih_l1")), "missing", "'weight_ih_l1'", "[28, 7]");
    refusedWithoutAllocating(() => fromTorch(without(w, "bias_ih_l0")), "missing", "'bias_ih_l0'", "[28]");
    // weight_hh_l0 and weight_ih_l0 define the sizes, so only the name can be given
    refusedWithoutAllocating(() => fromTorch(without(w, "weight_hh_l0")), "missing", "'weight_hh_l0'");
    refusedWithoutAllocating(() => fromTorch(without(w, "weight_ih_l0")), "missing", "weight_ih_l0");
    const bi = lstmWeights({ bidirectional: true, projSize: 3 });
    refusedWithoutAllocating(() => fromTorch(without(bi, "weight_hr_l1_reverse")), "missing", "'weight_hr_l1_reverse'", "[3, 7]");
    refusedWithoutAllocating(() => fromTorch(without(bi, "weight_ih_l1_reverse")), "missing", "'weight_ih_l1_reverse'", "[28, 6]");
    refusedWithoutAllocating(() => fromTorch({}), "missing", "weight_ih_l0");
    refusedWithoutAllocating(() => fromTorch(null as never), "missing");
  });

  it("a tensor of the wrong shape is 'shape' and shows the expected shape", () => {
    const w = lstmWeights();
    const reshaped = (name: string, shape: number[]) => ({ ...w, [name]: { shape, data: f32(shape.reduce((a, b) => a * b, 1)) } });
    refusedWithoutAllocating(() => fromTorch(reshaped("bias_ih_l0", [27])), "shape", "bias_ih_l0", "[27]", "[28]");
    refusedWithoutAllocating(() => fromTorch(reshaped("weight_ih_l1", [28, 6])), "shape", "weight_ih_l1", "[28, 6]", "[28, 7]");
    refusedWithoutAllocating(() => fromTorch(reshaped("weight_ih_l0", [24, 5])), "shape", "weight_ih_l0", "[28, 5]");
    refusedWithoutAllocating(() => fromTorch(reshaped("weight_hh_l1", [28, 7, 1])), "shape", "weight_hh_l1", "[28, 7]");
    refusedWithoutAllocating(() => fromTorch(reshaped("weight_hh_l0", [27, 7])), "shape", "weight_hh_l0", "[27,7]");
    refusedWithoutAllocating(() => fromTorch({ ...w, bias_hh_l1: { shape: [28], data: f32(20) } }), "shape", "bias_hh_l1", "20");
    refusedWithoutAllocating(() => fromTorch({ ...w, bias_hh_l1: { shape: [28], data: new Float64Array(28) as never } }), "dtype", "bias_hh_l1", "Float64Array");
    // forcing a kind that does not fit the shapes
    refusedWithoutAllocating(() => fromTorch(w, { kind: "gru" }), "shape", "weight_ih_l0", "[21, 5]");
  });

  it("an unexpected extra tensor is 'unexpected' and named", () => {
    const w = lstmWeights();
    refusedWithoutAllocating(() => fromTorch({ ...w, num_batches_tracked: { shape: [1], data: f32(1) } }), "unexpected", "'num_batches_tracked'");
    refusedWithoutAllocating(() => fromTorch({ ...w, weight_ih_l0_extra: w.weight_ih_l0 }), "unexpected", "'weight_ih_l0_extra'");
    const nb = lstmWeights({ bias: false });
    refusedWithoutAllocating(() => fromTorch({ ...nb, bias_ih_l1: { shape: [28], data: f32(28) } }), "unexpected", "'bias_ih_l1'", "no bias");
    refusedWithoutAllocating(() => fromTorch({ ...w, weight_ih: w.weight_ih_l0, weight_hh: w.weight_hh_l0 }, { prefix: "" }), "unexpected", "weight_ih");
  });

  it("several recurrent modules without `prefix` is 'unexpected' and lists them; `prefix` picks one", () => {
    const enc = lstmWeights();
    const g = new GRU({ inputSize: 4, hiddenSize: 3, seed: 9, runtime: rt });
    const dec = g.toTorch();
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(enc)) sd[`encoder.rnn.${k}`] = v;
    for (const [k, v] of Object.entries(dec)) sd[`decoder.rnn.${k}`] = v;
    refusedWithoutAllocating(() => fromTorch(sd), "unexpected", "'encoder.rnn.'", "'decoder.rnn.'", "prefix");
    const picked = asLayer(fromTorch(sd, { prefix: "decoder.rnn.", runtime: rt }));
    expect(picked.spec.kind).toBe("gru");
    const x = randomTensor([3, 1, 4], rng(1));
    expectBitwise("picked by prefix", picked.forward(x).output, g.forward(x).output);
    picked.dispose();
    g.dispose();
    refusedWithoutAllocating(() => fromTorch(sd, { prefix: "decoder.gru." }), "missing", "decoder.gru.weight_ih_l0");
  });

  it("a prefix is stripped (given or inferred) and other modules' tensors are ignored", () => {
    const src = lstm();
    const sd: Record<string, Tensor> = {
      "embedding.weight": { shape: [10, 5], data: f32(50) },
      "head.weight": { shape: [2, 7], data: f32(14) },
      "head.bias": { shape: [2], data: f32(2, NaN) }, // not ours, so not checked
    };
    for (const [k, v] of Object.entries(src.toTorch())) sd[`encoder.lstm.${k}`] = v;
    const g = goodLstmCall();
    const want = src.forward(g.input, g.state);
    for (const options of [{}, { prefix: "encoder.lstm." }]) {
      const mem = memorySnapshot(rt);
      const layer = asLayer(fromTorch(sd, { ...options, runtime: rt }));
      expect(Object.keys(layer.toTorch())).toEqual(Object.keys(src.toTorch()));
      const got = layer.forward(g.input, g.state);
      expectBitwise("output", got.output, want.output);
      expectBitwise("cN", got.cN, want.cN);
      layer.dispose();
      expect(memorySnapshot(rt)).toEqual(mem);
    }
    src.dispose();
  });

  it("NaN or Infinity in a weight is 'nonfinite' naming the tensor, unless nanPolicy is 'propagate'", () => {
    const w = lstmWeights();
    const bad = { ...w, weight_hh_l1: { shape: w.weight_hh_l1.shape, data: w.weight_hh_l1.data.slice() } };
    bad.weight_hh_l1.data[5] = NaN;
    refusedWithoutAllocating(() => fromTorch(bad), "nonfinite", "weight_hh_l1", "NaN");
    const inf = { ...w, bias_ih_l0: { shape: [28], data: f32(28, -Infinity) } };
    refusedWithoutAllocating(() => fromTorch(inf, { prefix: "" }), "nonfinite", "bias_ih_l0", "Infinity");
    const layer = asLayer(fromTorch(bad, { nanPolicy: "propagate", runtime: rt }));
    expect(Number.isNaN(layer.toTorch().weight_hh_l1.data[5])).toBe(true);
    layer.dispose();
  });
});

describe("a workspace too large for 32-bit wasm memory", () => {
  // An LSTM with I = 1, H = 256 needs about 1028 bytes of inference workspace per (t, b) row (its hidden state;
  // the input projection goes a chunk of steps at a time), so an input of a few MB asks for gigabytes. Each case runs on a runtime of its own, since a failure here may leave that runtime unusable.
  async function tryHuge(T: number): Promise<{ rt: Runtime; layer: RecurrentLayer; small: Tensor; before: Float32Array; mem: ReturnType<typeof memorySnapshot> }> {
    const own = await runtimeFor("simd");
    const layer = new LSTM({ inputSize: 1, hiddenSize: 256, seed: 1, runtime: own });
    const small = { shape: [2, 1, 1], data: new Float32Array([0.5, -0.5]) };
    const before = layer.forward(small).output.data.slice();
    const mem = memorySnapshot(own);
    let caught: unknown;
    try {
      layer.forward({ shape: [T, 1, 1], data: new Float32Array(T) });
    } catch (e) {
      caught = e;
    }
    expect(caught, `forward over ${T} steps should fail with an RnnError, got ${String(caught)}`).toBeInstanceOf(RnnError);
    expect((caught as RnnError).code).toBe("memory");
    return { rt: own, layer, small, before, mem };
  }

  /** After the refused call: the layer gives the same result, counters are back, and the runtime still allocates and computes. */
  function stillUsable(r: Awaited<ReturnType<typeof tryHuge>>): void {
    expect(Array.from(r.layer.forward(r.small).output.data)).toEqual(Array.from(r.before));
    expect(r.rt.blocksInUse).toBe(r.mem.blocks);
    expect(r.rt.bytesInUse).toBe(r.mem.bytes);
    const g = new GRU({ inputSize: 3, hiddenSize: 5, seed: 2, runtime: r.rt });
    const ref = new GRU({ inputSize: 3, hiddenSize: 5, seed: 2, backend: "reference" });
    const x = randomTensor([3, 2, 3], rng(1));
    expect(maxAbsDiff(g.forward(x).output.data, ref.forward(x).output.data)).toBeLessThan(1e-5);
    g.dispose();
    r.layer.dispose();
    expect(r.rt.blocksInUse).toBe(0);
  }

  it("1.5 GB (over the allocator's 1 GiB block limit) is RnnError 'memory' and the runtime stays usable", async () => {
    const r = await tryHuge(1_500_000);
    stillUsable(r);
  });

  // Runtime.alloc refuses sizes the 32-bit allocator cannot serve before calling it (4.3e9 would wrap to ~10 MB).
  it("4.3 GB (beyond 2^32 bytes) is an RnnError too, and the runtime stays usable", async () => {
    const r = await tryHuge(4_200_000);
    stillUsable(r);
  });
});

describe("lifetimes", () => {
  it("every method after dispose() is 'disposed'; dispose twice is fine; memory returns to where it was", () => {
    for (const backend of ["wasm", "reference"] as const) {
      const mem = memorySnapshot(rt);
      const layer = lstm({ backend });
      const g = goodLstmCall();
      layer.stream(g.input);
      layer.dispose();
      expect(memorySnapshot(rt).blocks).toBe(mem.blocks);
      expect(memorySnapshot(rt).bytes).toBe(mem.bytes);
      expectRnnError(() => layer.forward(g.input), "disposed", "LSTM", "disposed");
      expectRnnError(() => layer.stream(g.input), "disposed", "LSTM");
      expectRnnError(() => layer.toTorch(), "disposed", "LSTM");
      expectRnnError(() => layer.resetState(), "disposed", "LSTM");
      expectRnnError(() => layer.resetState({ h0: g.state.h0 }), "disposed", "LSTM");
      expect(() => layer.dispose()).not.toThrow();
      expect(() => layer[Symbol.dispose]()).not.toThrow();
      expect(memorySnapshot(rt).blocks).toBe(mem.blocks);
      expect(memorySnapshot(rt).bytes).toBe(mem.bytes);
    }
    for (const cell of [new LSTMCell({ inputSize: 2, hiddenSize: 3, runtime: rt }), new GRUCell({ inputSize: 2, hiddenSize: 3, runtime: rt }), new RNNCell({ inputSize: 2, hiddenSize: 3, runtime: rt })]) {
      cell.dispose();
      cell.dispose();
      expectRnnError(() => cell.forward({ shape: [2], data: f32(2) }), "disposed", "Cell", "disposed");
      expectRnnError(() => cell.toTorch(), "disposed", "Cell");
    }
  });

  it("`using` disposes at the end of the block, and [Symbol.dispose] is dispose", () => {
    const mem = memorySnapshot(rt);
    let escaped: RecurrentLayer;
    {
      using layer = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, runtime: rt });
      layer.forward(randomTensor([4, 2, 3], rng(1)));
      escaped = layer;
      expect(rt.blocksInUse).toBeGreaterThan(mem.blocks);
    }
    expect(rt.blocksInUse).toBe(mem.blocks);
    expect(rt.bytesInUse).toBe(mem.bytes);
    expectRnnError(() => escaped.forward(randomTensor([4, 2, 3], rng(1))), "disposed");
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 5, runtime: rt });
    cell[Symbol.dispose]();
    expect(rt.blocksInUse).toBe(mem.blocks);
    expectRnnError(() => cell.forward({ shape: [3], data: f32(3) }), "disposed");
  });

  it("disposing one layer leaves another on the same runtime working", () => {
    const a = lstm();
    const b = lstm();
    const g = goodLstmCall();
    const before = b.forward(g.input, g.state);
    a.dispose();
    expectBitwise("the other layer", b.forward(g.input, g.state).output, before.output);
    b.dispose();
  });
});
