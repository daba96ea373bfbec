// test/api/torch-roundtrip.test.ts: toTorch() speaks PyTorch's state_dict (names, order, shapes); fromTorch infers
// the architecture back from names and shapes and round-trips to the bit; seeded initialisation is deterministic
// and within PyTorch's ±1/sqrt(hiddenSize); safetensors save/load round-trips toTorch() to the bit.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import {
  fromTorch, GRUCell, loadSafetensors, LSTM, LSTMCell, RNNCell, RecurrentLayer, saveSafetensors,
  type Build, type Kind, type Runtime, type Tensor,
} from "../../src/index.js";
import { asCell, asLayer, caseData, createLayer, layerCaseArb, layerOptions, type LayerCase } from "./helpers.js";
import { expectBitwise, firstBitDifference } from "../helpers/compare.js";
import { TEST_BUILDS, runtimeFor } from "../helpers/runtimes.js";

const runtimes = new Map<Build, Runtime>();
let rt: Runtime;

beforeAll(async () => {
  for (const b of TEST_BUILDS) runtimes.set(b, await runtimeFor(b));
  rt = runtimes.get("simd")!;
});

/** Options fromTorch cannot read from a state_dict (PyTorch does not store them). */
function unstoredOptions(c: LayerCase) {
  return {
    batchFirst: c.batchFirst,
    ...(c.kind === "rnn" ? { nonlinearity: c.nonlinearity } : {}),
    ...(c.kind === "gru" ? { resetAfter: c.resetAfter } : {}),
  };
}

function expectSameWeights(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const k of Object.keys(want)) expectBitwise(k, got[k], want[k]);
}

describe("toTorch names and shapes", () => {
  it("a bidirectional 2-layer LSTM with projSize: PyTorch's names, order and shapes", () => {
    const I = 5, H = 7, P = 3;
    const layer = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2, bidirectional: true, seed: 1, runtime: rt });
    const w = layer.toTorch();
    const expected: [string, number[]][] = [];
    for (const l of [0, 1]) {
      for (const sfx of ["", "_reverse"]) {
        expected.push(
          [`weight_ih_l${l}${sfx}`, [4 * H, l === 0 ? I : 2 * P]],
          [`weight_hh_l${l}${sfx}`, [4 * H, P]],
          [`bias_ih_l${l}${sfx}`, [4 * H]],
          [`bias_hh_l${l}${sfx}`, [4 * H]],
          [`weight_hr_l${l}${sfx}`, [P, H]],
        );
      }
    }
    expect(Object.keys(w)).toEqual(expected.map(([n]) => n)); // state_dict order, as torch.nn.LSTM
    for (const [name, shape] of expected) {
      expect(w[name].shape, name).toEqual(shape);
      expect(w[name].data).toBeInstanceOf(Float32Array);
      expect(w[name].data.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect(w.weight_ih_l0.shape).toEqual([28, 5]);
    expect(w.weight_ih_l1.shape).toEqual([28, 6]);
    expect(w.weight_hr_l0_reverse.shape).toEqual([3, 7]);
    layer.dispose();
  });

  it("GRU (3H rows) and RNN (H rows) without bias; cells without the _l0 suffix", () => {
    const gru = createLayer("gru", { inputSize: 4, hiddenSize: 6, numLayers: 2, bias: false, seed: 1, runtime: rt });
    const g = gru.toTorch();
    expect(Object.entries(g).map(([k, v]) => [k, v.shape])).toEqual([
      ["weight_ih_l0", [18, 4]], ["weight_hh_l0", [18, 6]], ["weight_ih_l1", [18, 6]], ["weight_hh_l1", [18, 6]],
    ]);
    const rnn = createLayer("rnn", { inputSize: 4, hiddenSize: 6, bidirectional: true, nonlinearity: "relu", seed: 1, runtime: rt });
    expect(Object.entries(rnn.toTorch()).map(([k, v]) => [k, v.shape])).toEqual([
      ["weight_ih_l0", [6, 4]], ["weight_hh_l0", [6, 6]], ["bias_ih_l0", [6]], ["bias_hh_l0", [6]],
      ["weight_ih_l0_reverse", [6, 4]], ["weight_hh_l0_reverse", [6, 6]], ["bias_ih_l0_reverse", [6]], ["bias_hh_l0_reverse", [6]],
    ]);
    const cells: [RecurrentCellLike, number][] = [
      [new LSTMCell({ inputSize: 4, hiddenSize: 5, seed: 1, runtime: rt }), 4],
      [new GRUCell({ inputSize: 4, hiddenSize: 5, seed: 1, runtime: rt }), 3],
      [new RNNCell({ inputSize: 4, hiddenSize: 5, seed: 1, runtime: rt }), 1],
    ];
    for (const [cell, G] of cells) {
      expect(Object.entries(cell.toTorch()).map(([k, v]) => [k, v.shape])).toEqual([
        ["weight_ih", [G * 5, 4]], ["weight_hh", [G * 5, 5]], ["bias_ih", [G * 5]], ["bias_hh", [G * 5]],
      ]);
      cell.dispose();
    }
    gru.dispose();
    rnn.dispose();
  });

  it("toTorch returns copies: writing into them does not change the layer", () => {
    const layer = createLayer("lstm", { inputSize: 3, hiddenSize: 4, seed: 5, runtime: rt });
    const { input } = { input: { shape: [2, 1, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) } };
    const before = layer.forward(input);
    const w = layer.toTorch();
    for (const t of Object.values(w)) t.data.fill(0);
    expectBitwise("output", layer.forward(input).output, before.output);
    expect(Object.values(layer.toTorch()).some((t) => t.data.some((v) => v !== 0))).toBe(true);
    layer.dispose();
  });
});

type RecurrentCellLike = { toTorch(): Record<string, Tensor>; dispose(): void };

describe("fromTorch(toTorch())", () => {
  it("round-trips weights and forward results bitwise, and infers kind, sizes, layers, direction, bias, projection", () => {
    fc.assert(fc.property(layerCaseArb(), fc.constantFrom<Build | "reference">(...TEST_BUILDS, "reference"), (c, target) => {
      const a = createLayer(c.kind, { ...layerOptions(c), runtime: rt });
      const w = a.toTorch();
      const b = asLayer(fromTorch(w, {
        ...unstoredOptions(c),
        ...(target === "reference" ? { backend: "reference" as const } : { runtime: runtimes.get(target)! }),
      }));
      try {
        expect(b.spec).toEqual(a.spec);
        expect(b.spec).toMatchObject({
          kind: c.kind, cell: false, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
          bidirectional: c.bidirectional, bias: c.bias, projSize: c.projSize,
        });
        expect(Object.keys(b.toTorch())).toEqual(Object.keys(w));
        expectSameWeights(b.toTorch(), w);
        // wasm -> wasm on the same build: bitwise the same results
        if (target === "simd") {
          const { input, state } = caseData(c);
          const ra = a.forward(input, state), rb = b.forward(input, state);
          expectBitwise("output", rb.output, ra.output);
          expectBitwise("hN", rb.hN, ra.hN);
          if (c.kind === "lstm") expectBitwise("cN", rb.cN, ra.cN);
        }
        // and back again from wherever it went
        const back = asLayer(fromTorch(b.toTorch(), { ...unstoredOptions(c), runtime: rt }));
        expectSameWeights(back.toTorch(), w);
        back.dispose();
      } finally {
        a.dispose();
        b.dispose();
      }
    }), { numRuns: 150 });
  });

  it("fromTorch copies the weights: writing into the record afterwards does not change the layer", () => {
    for (const backend of ["wasm", "reference"] as const) {
      const src = createLayer("gru", { inputSize: 3, hiddenSize: 5, seed: 6, runtime: rt });
      const w = src.toTorch();
      const want = src.toTorch();
      const l = asLayer(fromTorch(w, { backend, runtime: rt }));
      for (const t of Object.values(w)) t.data.fill(9);
      expectSameWeights(l.toTorch(), want);
      l.dispose();
      src.dispose();
    }
  });

  it("options PyTorch does not store take PyTorch's defaults", () => {
    for (const kind of ["lstm", "gru", "rnn"] as Kind[]) {
      const src = createLayer(kind, { inputSize: 3, hiddenSize: 5, seed: 1, runtime: rt, batchFirst: true });
      const l = asLayer(fromTorch(src.toTorch(), { runtime: rt }));
      expect(l.spec).toMatchObject({ kind, batchFirst: false, nonlinearity: "tanh", resetAfter: true, projSize: 0, numLayers: 1, bidirectional: false });
      l.dispose();
      src.dispose();
    }
  });

  it("cell names build cells of the right kind, round-tripping bitwise", () => {
    const cases: [RecurrentCellLike, typeof LSTMCell | typeof GRUCell | typeof RNNCell][] = [
      [new LSTMCell({ inputSize: 3, hiddenSize: 5, seed: 4, runtime: rt }), LSTMCell],
      [new GRUCell({ inputSize: 3, hiddenSize: 5, seed: 4, runtime: rt, bias: false }), GRUCell],
      [new RNNCell({ inputSize: 3, hiddenSize: 5, seed: 4, runtime: rt }), RNNCell],
    ];
    for (const [src, Cls] of cases) {
      const w = src.toTorch();
      const cell = asCell(fromTorch(w, { runtime: rt }));
      expect(cell).toBeInstanceOf(Cls);
      expect(cell).not.toBeInstanceOf(RecurrentLayer);
      expect(cell.spec.cell).toBe(true);
      expectSameWeights(cell.toTorch(), w);
      const x = { shape: [2, 3], data: new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
      expectBitwise("h", cell.forward(x).h, (src as LSTMCell).forward(x).h);
      cell.dispose();
      src.dispose();
    }
  });
});

describe("seeded initialisation", () => {
  it("the same seed gives bitwise the same weights on every build and the reference; another seed differs", () => {
    fc.assert(fc.property(layerCaseArb(), (c) => {
      const layers = [
        ...TEST_BUILDS.map((b) => createLayer(c.kind, { ...layerOptions(c), runtime: runtimes.get(b)! })),
        createLayer(c.kind, { ...layerOptions(c), backend: "reference" }),
      ];
      const other = createLayer(c.kind, { ...layerOptions(c), seed: c.seed + 1, runtime: rt });
      try {
        const w = layers[0].toTorch();
        for (const l of layers.slice(1)) expectSameWeights(l.toTorch(), w);
        const o = other.toTorch();
        expect(Object.keys(w).some((k) => firstBitDifference(o[k].data, w[k].data) !== -1)).toBe(true);
      } finally {
        for (const l of layers) l.dispose();
        other.dispose();
      }
    }), { numRuns: 60 });
  });

  it("weights are within ±1/sqrt(hiddenSize) and fill that range (uniform, as PyTorch)", () => {
    for (const [kind, H] of [["lstm", 1], ["lstm", 16], ["gru", 23], ["rnn", 100]] as [Kind, number][]) {
      const layer = createLayer(kind, { inputSize: 7, hiddenSize: H, numLayers: 2, seed: 123, runtime: rt });
      const bound = Math.fround(1 / Math.sqrt(H));
      let min = Infinity, max = -Infinity, sum = 0, n = 0;
      for (const [name, t] of Object.entries(layer.toTorch())) {
        for (const v of t.data) {
          expect(Math.abs(v) <= bound, `${kind} H=${H} ${name}: ${v} outside ±${bound}`).toBe(true);
          min = Math.min(min, v);
          max = Math.max(max, v);
          sum += v;
          n++;
        }
      }
      // n >= 2 * 4 * 1 * 8 = 64 draws: the extremes come within 15% of the bound, the mean near 0
      expect(min).toBeLessThan(-0.85 * bound);
      expect(max).toBeGreaterThan(0.85 * bound);
      expect(Math.abs(sum / n)).toBeLessThan(0.25 * bound);
      layer.dispose();
    }
  });

  it("without a seed, two layers get different weights", () => {
    const a = createLayer("lstm", { inputSize: 3, hiddenSize: 4, runtime: rt });
    const b = createLayer("lstm", { inputSize: 3, hiddenSize: 4, runtime: rt });
    expect(firstBitDifference(a.toTorch().weight_ih_l0.data, b.toTorch().weight_ih_l0.data)).not.toBe(-1);
    a.dispose();
    b.dispose();
  });
});

describe("safetensors", () => {
  it("saveSafetensors(toTorch()) then loadSafetensors gives the same names, shapes and bits, and the same layer", () => {
    fc.assert(fc.property(layerCaseArb(), fc.boolean(), (c, prefixed) => {
      const a = createLayer(c.kind, { ...layerOptions(c), runtime: rt });
      const w = a.toTorch();
      const prefix = prefixed ? "model.encoder.rnn." : "";
      const named = Object.fromEntries(Object.entries(w).map(([k, v]) => [prefix + k, v]));
      const bytes = saveSafetensors(named, { format: "pt", note: "api test" });
      const file = loadSafetensors(bytes);
      expect(file.metadata).toEqual({ format: "pt", note: "api test" });
      expectSameWeights(file.tensors, named);
      const b = asLayer(fromTorch(file.tensors, { ...unstoredOptions(c), runtime: rt }));
      try {
        expectSameWeights(b.toTorch(), w);
        const { input, state } = caseData(c);
        expectBitwise("output", b.forward(input, state).output, a.forward(input, state).output);
      } finally {
        a.dispose();
        b.dispose();
      }
    }), { numRuns: 60 });
  });

  it("loadSafetensors accepts an ArrayBuffer and a Uint8Array at an offset", () => {
    const a = createLayer("gru", { inputSize: 2, hiddenSize: 3, seed: 9, runtime: rt });
    const bytes = saveSafetensors(a.toTorch());
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const fromBuffer = loadSafetensors(bytes.slice().buffer);
    const fromView = loadSafetensors(padded.subarray(3));
    expectSameWeights(fromBuffer.tensors, a.toTorch());
    expectSameWeights(fromView.tensors, a.toTorch());
    expect(fromBuffer.metadata).toEqual({});
    a.dispose();
  });
});
