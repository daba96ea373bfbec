// test/tfjs/models.test.ts: fromTfjs(...).predict against TensorFlow.js 4.22's own predict (cpu backend) on models
// built here with tf.sequential / tf.model, their weights set to seeded random values (biases included) and saved
// through tf.io.withSaveHandler: every layer kind and option fromTfjs supports, on random sizes that include ones
// not divisible by 4 (the kernels' SIMD tails), within 1e-5 (tfjs computes in float32, the TypeScript path in
// float64, the wasm kernels in float32 with sums in another order). Each model runs on both paths ('auto': the wasm
// layers where they fit; 'typescript'), and a spy on the layers' forward checks which one ran.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { init, maxAbsDiff, tensor } from "../../src/index.js";
import { RecurrentLayer } from "../../src/layers.js";
import { mulberry32 } from "../../src/random.js";
import { fromTfjs } from "../../src/tfjs/index.js";
import { randomData, randomizeWeights, save, tf, tfPredict, tfReady } from "./helpers.js";

type Act = "sigmoid" | "hardSigmoid" | "tanh" | "relu" | "linear";
interface Dims { B: number; T: number; I: number; H: number; V: number }
/** How a case's input is made: dense features, features with padded (zero) steps, or token ids. */
type InputKind = "dense" | "padded" | "holes" | "ids" | "ids-holes";
interface Case {
  name: string;
  build: (d: Dims) => tf.LayersModel;
  input?: InputKind;
  /** Whether the 'auto' path runs at least one recurrent layer on the wasm layers. */
  wasm: boolean;
}

const seq = (layers: tf.layers.Layer[]): tf.LayersModel => {
  const m = tf.sequential();
  layers.forEach((l) => m.add(l));
  return m;
};
const lstm = (d: Dims, o: Record<string, unknown> = {}) => tf.layers.lstm({ units: d.H, ...o } as never);
const gru = (d: Dims, o: Record<string, unknown> = {}) => tf.layers.gru({ units: d.H, ...o } as never);
const rnn = (d: Dims, o: Record<string, unknown> = {}) => tf.layers.simpleRNN({ units: d.H, ...o } as never);
const first = (d: Dims) => ({ inputShape: [d.T, d.I] });
const sig = { recurrentActivation: "sigmoid" as Act };
const bidi = (layer: tf.layers.Layer, mergeMode: string, o: Record<string, unknown> = {}) =>
  tf.layers.bidirectional({ layer: layer as tf.RNN, mergeMode: mergeMode as never, ...o });

const CASES: Case[] = [
  { name: "LSTM, tfjs's defaults (hard_sigmoid)", wasm: false, build: (d) => seq([lstm(d, first(d))]) },
  { name: "InputLayer -> LSTM sigmoid (Sequential)", wasm: true, build: (d) => seq([tf.layers.inputLayer({ inputShape: [d.T, d.I] }), lstm(d, sig)]) },
  { name: "LSTM sigmoid, return_sequences", wasm: true, build: (d) => seq([lstm(d, { ...first(d), ...sig, returnSequences: true })]) },
  { name: "LSTM sigmoid, go_backwards, return_sequences", wasm: true, build: (d) => seq([lstm(d, { ...first(d), ...sig, goBackwards: true, returnSequences: true })]) },
  { name: "LSTM relu activation (TypeScript path)", wasm: false, build: (d) => seq([lstm(d, { ...first(d), ...sig, activation: "relu", returnSequences: true })]) },
  { name: "LSTM without bias, go_backwards, hard_sigmoid", wasm: false, build: (d) => seq([lstm(d, { ...first(d), useBias: false, goBackwards: true })]) },
  { name: "GRU, tfjs's defaults (reset before, hard_sigmoid)", wasm: false, build: (d) => seq([gru(d, { ...first(d), returnSequences: true })]) },
  { name: "GRU sigmoid, go_backwards", wasm: true, build: (d) => seq([gru(d, { ...first(d), ...sig, goBackwards: true })]) },
  { name: "SimpleRNN tanh, return_sequences", wasm: true, build: (d) => seq([rnn(d, { ...first(d), returnSequences: true })]) },
  { name: "SimpleRNN relu, go_backwards", wasm: true, build: (d) => seq([rnn(d, { ...first(d), activation: "relu", goBackwards: true, returnSequences: true })]) },
  { name: "SimpleRNN sigmoid (TypeScript path)", wasm: false, build: (d) => seq([rnn(d, { ...first(d), activation: "sigmoid" })]) },
  { name: "Bidirectional LSTM concat, return_sequences", wasm: true, build: (d) => seq([bidi(lstm(d, { ...sig, returnSequences: true }), "concat", first(d))]) },
  { name: "Bidirectional GRU sum", wasm: true, build: (d) => seq([bidi(gru(d, sig), "sum", first(d))]) },
  { name: "Bidirectional SimpleRNN mul, return_sequences", wasm: true, build: (d) => seq([bidi(rnn(d, { returnSequences: true }), "mul", first(d))]) },
  { name: "Bidirectional LSTM ave (hard_sigmoid)", wasm: false, build: (d) => seq([bidi(lstm(d), "ave", first(d))]) },
  { name: "Bidirectional GRU of a go_backwards layer, concat", wasm: true, build: (d) => seq([bidi(gru(d, { ...sig, goBackwards: true, returnSequences: true }), "concat", first(d))]) },
  {
    name: "stacked LSTM -> GRU -> SimpleRNN with Dropout, TimeDistributed(Dense softmax)", wasm: true,
    build: (d) => seq([
      lstm(d, { ...first(d), ...sig, returnSequences: true }), tf.layers.dropout({ rate: 0.5 }),
      gru(d, { returnSequences: true }), rnn(d, { returnSequences: true }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: "softmax" }) }),
    ]),
  },
  {
    name: "Dense heads: every activation, on sequences and on the last step", wasm: true,
    build: (d) => seq([
      lstm(d, { ...first(d), ...sig, returnSequences: true }),
      ...(["relu", "elu", "selu", "softplus", "softsign", "hardSigmoid", "tanh", "relu6", "swish", "mish", "linear"] as const)
        .map((a) => tf.layers.dense({ units: 5, activation: a })),
      tf.layers.activation({ activation: "sigmoid" }), gru(d, sig), tf.layers.dense({ units: 2, activation: "softmax" }),
    ]),
  },
  {
    name: "Masking (steps of padding at the end of rows) -> LSTM -> Bidirectional GRU", input: "padded", wasm: true,
    build: (d) => seq([
      tf.layers.masking({ maskValue: 0, inputShape: [d.T, d.I] }), lstm(d, { ...sig, returnSequences: true }),
      bidi(gru(d, { ...sig, returnSequences: true }), "concat"), tf.layers.dense({ units: 2 }),
    ]),
  },
  {
    name: "Masking -> go_backwards SimpleRNN, Bidirectional LSTM (hard_sigmoid)", input: "padded", wasm: true,
    build: (d) => seq([
      tf.layers.masking({ maskValue: 0, inputShape: [d.T, d.I] }), rnn(d, { goBackwards: true, returnSequences: true }),
      bidi(lstm(d, { returnSequences: true }), "sum"),
    ]),
  },
  {
    name: "Masking with masked steps between real ones (TypeScript path)", input: "holes", wasm: false,
    build: (d) => seq([
      tf.layers.masking({ maskValue: 0, inputShape: [d.T, d.I] }), bidi(lstm(d, { ...sig, returnSequences: true }), "concat"), gru(d, sig),
    ]),
  },
  {
    name: "Embedding(mask_zero) with padding ids at the end -> LSTM -> Dense", input: "ids", wasm: true,
    build: (d) => seq([
      tf.layers.embedding({ inputDim: d.V, outputDim: d.I, maskZero: true, inputLength: d.T }),
      lstm(d, sig), tf.layers.dense({ units: 3, activation: "softmax" }),
    ]),
  },
  {
    name: "Embedding(mask_zero) with zeros inside rows -> GRU", input: "ids-holes", wasm: false,
    build: (d) => seq([tf.layers.embedding({ inputDim: d.V, outputDim: d.I, maskZero: true, inputLength: d.T }), gru(d, { ...sig, returnSequences: true })]),
  },
  {
    name: "Embedding without mask_zero -> SimpleRNN", input: "ids-holes", wasm: true,
    build: (d) => seq([tf.layers.embedding({ inputDim: d.V, outputDim: d.I, inputLength: d.T }), rnn(d)]),
  },
  {
    name: "functional: Input -> Masking -> LSTM(return_state) -> Dense on the cell state", input: "padded", wasm: true,
    build: (d) => {
      const input = tf.input({ shape: [d.T, d.I] });
      const masked = tf.layers.masking({ maskValue: 0 }).apply(input) as tf.SymbolicTensor;
      const [, , c] = lstm(d, { ...sig, returnState: true }).apply(masked) as tf.SymbolicTensor[];
      const out = tf.layers.dense({ units: 2, activation: "tanh" }).apply(c) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    },
  },
  {
    name: "functional: Input -> Bidirectional LSTM(return_state) -> Dense on the backward h", input: "padded", wasm: true,
    build: (d) => {
      const input = tf.input({ shape: [d.T, d.I] });
      const masked = tf.layers.masking({ maskValue: 0 }).apply(input) as tf.SymbolicTensor;
      const outs = bidi(lstm(d, { ...sig, returnState: true }), "concat").apply(masked) as tf.SymbolicTensor[];
      const out = tf.layers.dense({ units: 3 }).apply(outs[3]) as tf.SymbolicTensor; // [merged, h_f, c_f, h_b, c_b]
      return tf.model({ inputs: input, outputs: out });
    },
  },
  {
    name: "functional: Input -> Bidirectional GRU -> Dropout -> Dense", wasm: false,
    build: (d) => {
      const input = tf.input({ shape: [d.T, d.I] });
      const h = bidi(gru(d, { returnSequences: true }), "ave").apply(input) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 4 }).apply(tf.layers.dropout({ rate: 0.3 }).apply(h)) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    },
  },
];

/** Random dims (sizes off the SIMD width included) and an input of the case's kind. */
function draw(seed: number, kind: InputKind): { d: Dims; shape: number[]; x: Float32Array } {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const holes = kind === "holes" || kind === "ids-holes";
  const d: Dims = { B: int(1, 3), T: int(holes ? 2 : 1, 7), I: int(1, 6), H: int(1, 9), V: int(4, 9) };
  // with holes, row 0 has one for sure: step 0 masked, step 1 real (so the mask is not padding at the ends of rows)
  const hole = (b: number, t: number, otherwise: boolean) => (holes && b === 0 && t < 2 ? t === 0 : otherwise);
  if (kind === "ids" || kind === "ids-holes") {
    const x = new Float32Array(d.B * d.T);
    for (let b = 0; b < d.B; b++) {
      const n = int(b === 0 ? d.T : 0, d.T); // row 0 full; others may end in padding, or be all padding
      for (let t = 0; t < d.T; t++) x[b * d.T + t] = kind === "ids" ? (t < n ? int(1, d.V - 1) : 0) : hole(b, t, rand() < 0.3) ? 0 : int(1, d.V - 1);
    }
    return { d, shape: [d.B, d.T], x };
  }
  const x = randomData(d.B * d.T * d.I, seed + 7);
  for (let b = 0; b < d.B; b++) {
    const n = int(b === 0 ? d.T : 0, d.T);
    for (let t = 0; t < d.T; t++) {
      const masked = kind === "padded" ? t >= n : hole(b, t, kind === "holes" && rand() < 0.35);
      if (masked) x.fill(0, (b * d.T + t) * d.I, (b * d.T + t + 1) * d.I);
    }
  }
  return { d, shape: [d.B, d.T, d.I], x };
}

beforeAll(async () => {
  await tfReady();
  await init();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("fromTfjs(...).predict equals tfjs's predict within 1e-5", () => {
  it.each(CASES.map((c, k) => [c.name, c, k] as const))("%s", async (_, c, k) => {
    for (const round of [0, 1, 2]) {
      const { d, shape, x } = draw(1000 * k + round, c.input ?? "dense");
      const model = c.build(d);
      randomizeWeights(model, 17 * k + round);
      const want = tfPredict(model, shape, x);
      const saved = await save(model);
      model.dispose();
      for (const path of ["auto", "typescript"] as const) {
        const forward = vi.spyOn(RecurrentLayer.prototype, "forward");
        const ours = fromTfjs(saved.modelJson, saved.weights, { path });
        const got = ours.predict(tensor(shape, x.slice()));
        ours.dispose();
        const label = `${path}, dims ${JSON.stringify(d)}`;
        expect(got.shape, label).toEqual(want.shape);
        expect(maxAbsDiff(got.data, want.data), label).toBeLessThan(1e-5);
        expect(forward.mock.calls.length > 0, `${label}: the wasm layers ran`).toBe(path === "auto" && c.wasm);
        forward.mockRestore();
      }
    }
  });
});
