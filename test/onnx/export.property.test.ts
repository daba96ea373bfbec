// test/onnx/export.property.test.ts: toOnnx -> fromOnnx gives the model's own outputs back. fast-check draws layers
// (LSTM, GRU both forms, RNN tanh/relu; 1-3 layers; either direction count; batchFirst; with and without bias,
// initial states and per-row lengths) and Sequentials (an optional Embedding or Linear in front, a recurrent layer,
// an optional LastStep, 0-2 Linear heads) at sizes that include ones off the SIMD width (4), and runs each at a batch
// size and length of its own (the graph's axes are symbolic). fromOnnx runs the same wasm kernels as the layer, one
// ONNX node per stacked layer, so the sums differ in order at most: TOL = 1e-6 (the largest difference in 300 draws,
// with and without lengths, was 3.6e-7 on outputs of order 1), far below what a gate, bias half, direction or state
// row put in the wrong place moves (GRU gates r and z swapped: 9e-4 already at hidden size 1, 1e-2 and more at the
// sizes drawn here).
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { init, maxAbsDiff, type Tensor } from "../../src/index.js";
import { fromOnnx, toOnnx } from "../../src/onnx/index.js";
import { buildFeeds, buildModel, modelOutputs, type ExportCase, type ModuleSpec } from "./export-models.js";

const TOL = 1e-6;

beforeAll(async () => {
  await init();
});

type LayerDraw = { kind: "lstm" | "gru" | "rnn"; inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; batchFirst: boolean; bias: boolean; resetAfter: boolean; relu: boolean };

const layerSpec: fc.Arbitrary<LayerDraw> = fc.record({
  kind: fc.constantFrom("lstm" as const, "gru" as const, "rnn" as const),
  inputSize: fc.integer({ min: 1, max: 9 }),
  hiddenSize: fc.integer({ min: 1, max: 13 }),
  numLayers: fc.integer({ min: 1, max: 3 }),
  bidirectional: fc.boolean(),
  batchFirst: fc.boolean(),
  bias: fc.boolean(),
  resetAfter: fc.boolean(),
  relu: fc.boolean(),
});

function layerModule(l: LayerDraw): ModuleSpec {
  const o = { inputSize: l.inputSize, hiddenSize: l.hiddenSize, numLayers: l.numLayers, bidirectional: l.bidirectional, batchFirst: l.batchFirst, bias: l.bias };
  if (l.kind === "lstm") return { lstm: o };
  if (l.kind === "gru") return { gru: { ...o, resetAfter: l.resetAfter } };
  return { rnn: { ...o, nonlinearity: l.relu ? "relu" : "tanh" } };
}

const time = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }));
const seed = fc.integer({ min: 1, max: 1 << 20 });

function roundTrip(c: ExportCase): void {
  const model = buildModel(c);
  const onnx = fromOnnx(toOnnx(model, { initialState: c.initialState ?? false, lengths: c.lengths ?? false }));
  try {
    const feeds = buildFeeds(c);
    const want = modelOutputs(model, feeds);
    const got = onnx.run(feeds);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [name, w] of Object.entries(want)) {
      expect(got[name].shape, `${name} shape`).toEqual(w.shape);
      expect(maxAbsDiff(got[name].data, (w as Tensor).data), `${name}`).toBeLessThan(TOL);
    }
  } finally {
    onnx.dispose();
    model.dispose();
  }
}

it("a layer comes back from toOnnx -> fromOnnx with its own outputs and states", () => {
  fc.assert(fc.property(layerSpec, fc.boolean(), fc.boolean(), time, seed, (l, initialState, lengths, t, s) => {
    roundTrip({ name: "layer", modules: [layerModule(l)], initialState, lengths, time: t, seed: s });
  }), { numRuns: 60 });
});

it("a Sequential with Embedding/Linear in front, LastStep and Linear heads comes back with its own output", () => {
  const chain = fc.record({
    layer: layerSpec,
    front: fc.constantFrom("none", "linear", "embedding"),
    frontSize: fc.integer({ min: 1, max: 7 }),
    lastStep: fc.boolean(),
    heads: fc.array(fc.record({ out: fc.integer({ min: 1, max: 6 }), bias: fc.boolean() }), { maxLength: 2 }),
  });
  fc.assert(fc.property(chain, time, seed, (ch, t, s) => {
    const rnn = layerModule(ch.layer);
    const modules: ModuleSpec[] = [];
    if (ch.front === "linear") modules.push({ linear: { inFeatures: ch.frontSize, outFeatures: ch.layer.inputSize } });
    if (ch.front === "embedding") modules.push({ embedding: { numEmbeddings: ch.frontSize + 1, embeddingDim: ch.layer.inputSize } });
    modules.push(rnn);
    if (ch.lastStep) modules.push({ lastStep: true });
    let features = (ch.layer.bidirectional ? 2 : 1) * ch.layer.hiddenSize;
    for (const h of ch.heads) {
      modules.push({ linear: { inFeatures: features, outFeatures: h.out, bias: h.bias } });
      features = h.out;
    }
    if (modules.length === 1) modules.push({ linear: { inFeatures: features, outFeatures: 2 } });
    roundTrip({ name: "sequential", modules, time: t, seed: s });
  }), { numRuns: 40 });
});
