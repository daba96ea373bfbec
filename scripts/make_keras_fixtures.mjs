// scripts/make_keras_fixtures.mjs: writes test/fixtures/keras/: Keras 3 `.keras` files (zips of metadata.json,
// config.json and model.weights.h5, as Keras 3's saving_lib writes them) and, beside each, <name>.json with an input
// and the expected output. Keras 3 is not installable here, so the files are written by hand in its format: the
// config.json objects below follow Keras 3's get_config output (module / class_name / config / registered_name,
// DTypePolicy dtypes, build_config, functional inbound nodes as { args, kwargs } of __keras_tensor__), and the
// weights go to model.weights.h5 under the paths saving_lib uses (layers/<snake_case class>[_n]/[cell/]vars/<i>)
// through h5py (scripts/keras_weights_h5.py; needs Debian's python3-h5py).
//
// The oracle is TensorFlow.js 4.22 (cpu backend, the root's devDependency) on the same weights, with what Keras 3
// computes differently from tfjs applied to it:
//   - Keras 3's hard_sigmoid(x) = clip(x/6 + 0.5, 0, 1) = tfjs's clip(0.2 y + 0.5, 0, 1) at y = 5x/6: the tfjs
//     model gets the kernel, recurrent kernel and bias columns of the gates hard_sigmoid applies to (LSTM i, f, o)
//     scaled by 5/6 (in float64, then rounded to float32: a relative change of at most 6e-8 per weight);
//   - Bidirectional(return_sequences) outputs zeros at masked steps (Keras forces zero_output_for_mask), where
//     tfjs repeats the last output: those steps of tfjs's output are set to zero;
//   - GRU(reset_after=True), Keras 3's default, which tfjs refuses: its equations in tfjs ops, step by step, as
//     test/tfjs/reset-after.test.ts does.
// Deterministic (seeded weights and inputs):
//   node scripts/make_keras_fixtures.mjs
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { zipSync, strToU8 } from "fflate";

await tf.setBackend("cpu");
const OUT = new URL("../test/fixtures/keras/", import.meta.url);
const EXAMPLE = new URL("../examples/keras-lstm.keras", import.meta.url);
const H5_WRITER = new URL("keras_weights_h5.py", import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

/** mulberry32, as src/random.ts. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = (rand, n, scale) => Float32Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * scale));

// ---- Keras 3 config.json objects ----
const POLICY = { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null };
const init = (cls, config = {}) => ({ module: "keras.initializers", class_name: cls, config, registered_name: null });
const inputLayer = (batchShape, name = "input_layer") => ({
  module: "keras.layers", class_name: "InputLayer", registered_name: null,
  config: { batch_shape: batchShape, dtype: "float32", sparse: false, name },
});
const layer = (cls, name, config, inputShape) => ({
  module: "keras.layers", class_name: cls, registered_name: null,
  config: { name, trainable: true, dtype: POLICY, ...config },
  ...(inputShape ? { build_config: { input_shape: inputShape } } : {}),
});
const rnnBase = (o) => ({
  return_sequences: false, return_state: false, go_backwards: false, stateful: false, unroll: false,
  zero_output_for_mask: false, units: o.units, activation: "tanh", use_bias: true,
  kernel_initializer: init("GlorotUniform", { seed: null }), recurrent_initializer: init("Orthogonal", { gain: 1.0, seed: null }),
  bias_initializer: init("Zeros"), kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null,
  activity_regularizer: null, kernel_constraint: null, recurrent_constraint: null, bias_constraint: null,
  dropout: 0.0, recurrent_dropout: 0.0, seed: null,
});
const lstmConfig = (o) => ({ ...rnnBase(o), recurrent_activation: "sigmoid", unit_forget_bias: true, ...o });
const gruConfig = (o) => ({ ...rnnBase(o), recurrent_activation: "sigmoid", reset_after: true, ...o });
const simpleRnnConfig = (o) => ({ ...rnnBase(o), ...o });
const denseConfig = (units, activation = "linear") => ({
  units, activation, use_bias: true, kernel_initializer: init("GlorotUniform", { seed: null }), bias_initializer: init("Zeros"),
  kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null,
});
const sequential = (layers, inputShape) => ({
  module: "keras", class_name: "Sequential", registered_name: null,
  config: { name: "sequential", trainable: true, dtype: POLICY, layers },
  build_config: { input_shape: inputShape }, compile_config: null,
});
const kerasTensor = (shape, history) => ({ class_name: "__keras_tensor__", config: { shape, dtype: "float32", keras_history: history } });
/** A functional model from a chain of [layer object, output shape] after an InputLayer. */
function functional(input, chain) {
  const layers = [{ ...input, name: input.config.name, inbound_nodes: [] }];
  let prev = [input.config.name, input.config.batch_shape];
  for (const [l, shape] of chain) {
    layers.push({ ...l, name: l.config.name, inbound_nodes: [{ args: [kerasTensor(prev[1], [prev[0], 0, 0])], kwargs: l.class_name === "Dropout" ? { training: false } : {} }] });
    prev = [l.config.name, shape];
  }
  return {
    module: "keras.src.models.functional", class_name: "Functional", registered_name: "Functional",
    config: { name: "functional", trainable: true, layers, input_layers: [[input.config.name, 0, 0]], output_layers: [[prev[0], 0, 0]] },
    build_config: { input_shape: input.config.batch_shape }, compile_config: null,
  };
}

// ---- the files ----
/** Writes name.keras (and name.json): weights as { h5 path: [shape, Float32Array] }, groups: empty vars groups. */
function writeKeras(file, config, weights, { groups = [], gzip = false, version = "3.10.0" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "keras-fixture-"));
  const h5 = join(dir, "model.weights.h5");
  const spec = {
    groups: ["vars", "optimizer/vars", ...groups],
    datasets: [
      ...Object.entries(weights).map(([path, [shape, data]]) => ({ path, shape, dtype: "float32", data: Array.from(data), gzip })),
      { path: "optimizer/vars/0", shape: [], dtype: "int64", data: 0 }, // the iteration count, as a compiled model saves it
    ],
  };
  execFileSync("/usr/bin/python3", [H5_WRITER, h5], { input: JSON.stringify(spec) });
  const zip = zipSync({
    "metadata.json": strToU8(JSON.stringify({ keras_version: version, date_saved: "2026-12-05@04:00:00" })),
    "config.json": strToU8(JSON.stringify(config)),
    "model.weights.h5": readFileSync(h5),
  }, { level: 0, mtime: "2026-12-05T04:00:00Z" }); // stored, without compression, as Keras writes it; a fixed time: reruns give the same bytes
  rmSync(dir, { recursive: true });
  writeFileSync(file, zip);
}
function writeIo(name, x, xShape, y, notes) {
  writeFileSync(new URL(`${name}.json`, OUT), JSON.stringify({ notes, inputShape: xShape, input: Array.from(x), outputShape: y.shape, output: Array.from(y.data) }) + "\n");
}
const predict = (model, x, shape) => {
  const y = model.predict(tf.tensor(x, shape));
  return { shape: y.shape, data: y.dataSync() };
};
/** A tfjs layer's weights set to seeded values; returns them. */
function randomize(tfLayer, rand, scale = 0.6) {
  const values = tfLayer.getWeights().map((w) => uniform(rand, w.size, scale));
  tfLayer.setWeights(values.map((v, k) => tf.tensor(v, tfLayer.getWeights()[k].shape)));
  return values.map((v, k) => [tfLayer.getWeights()[k].shape, v]);
}
const vars = (group, list) => Object.fromEntries(list.map((w, i) => [`${group}/vars/${i}`, w]));

// 1. Sequential: InputLayer -> LSTM(8) -> Dense(2) (the example's model too)
{
  const rand = mulberry32(301);
  const [B, T, I, H] = [2, 7, 3, 8];
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: H, recurrentActivation: "sigmoid", inputShape: [T, I] }));
  m.add(tf.layers.dense({ units: 2 }));
  const w = { ...vars("layers/lstm/cell", randomize(m.layers[0], rand)), ...vars("layers/dense", randomize(m.layers[1], rand)) };
  const config = sequential([
    inputLayer([null, T, I]),
    layer("LSTM", "lstm", lstmConfig({ units: H }), [null, T, I]),
    layer("Dense", "dense", denseConfig(2), [null, H]),
  ], [null, T, I]);
  const x = uniform(rand, B * T * I, 1);
  const groups = ["layers/lstm/vars", "layers/dense/vars"];
  writeKeras(new URL("lstm_dense.keras", OUT), config, w, { groups });
  writeKeras(EXAMPLE, config, w, { groups });
  writeKeras(new URL("lstm_dense_gzip.keras", OUT), config, w, { groups, gzip: true });
  writeIo("lstm_dense", x, [B, T, I], predict(m, x, [B, T, I]), "tfjs predict; lstm_dense_gzip.keras: the same weights stored chunked and gzip-compressed");
}

// 2. LSTM with hard_sigmoid, Keras 3's (also saved as if by Keras 2.15 to check the version switch)
{
  const rand = mulberry32(302);
  const [B, T, I, H] = [3, 6, 4, 5];
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: H, recurrentActivation: "hardSigmoid", returnSequences: true, inputShape: [T, I] }));
  const weights = randomize(m.layers[0], rand, 1.5); // large enough that the two hard_sigmoids differ widely
  const config = sequential([
    inputLayer([null, T, I]),
    layer("LSTM", "lstm", lstmConfig({ units: H, recurrent_activation: "hard_sigmoid", return_sequences: true }), [null, T, I]),
  ], [null, T, I]);
  const x = uniform(rand, B * T * I, 1);
  writeKeras(new URL("lstm_hard_sigmoid.keras", OUT), config, vars("layers/lstm/cell", weights));
  writeKeras(new URL("lstm_hard_sigmoid_keras2.keras", OUT), config, vars("layers/lstm/cell", weights), { version: "2.15.0" });
  const keras2 = predict(m, x, [B, T, I]);
  // Keras 3: the i, f, o gate columns (blocks 0, 1, 3 of 4H) times 5/6
  const scaled = weights.map(([shape, data]) => {
    const cols = shape[shape.length - 1], out = Float32Array.from(data);
    for (let k = 0; k < data.length; k++) if (Math.floor((k % cols) / H) !== 2) out[k] = Math.fround(data[k] * 5 / 6);
    return tf.tensor(out, shape);
  });
  m.layers[0].setWeights(scaled);
  const keras3 = predict(m, x, [B, T, I]);
  writeIo("lstm_hard_sigmoid", x, [B, T, I], keras3, "Keras 3 hard_sigmoid: tfjs predict with the i, f, o gate columns scaled by 5/6");
  writeIo("lstm_hard_sigmoid_keras2", x, [B, T, I], keras2, "Keras 2 hard_sigmoid (keras_version 2.15.0): tfjs predict as is");
}

// 3. Embedding(mask_zero) -> Bidirectional(LSTM, return_sequences, concat): masked steps output zeros in Keras
{
  const rand = mulberry32(303);
  const [B, T, V, D, H] = [3, 6, 11, 4, 5];
  const m = tf.sequential();
  m.add(tf.layers.embedding({ inputDim: V, outputDim: D, maskZero: true, inputLength: T }));
  m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: H, recurrentActivation: "sigmoid", returnSequences: true }), mergeMode: "concat" }));
  const emb = randomize(m.layers[0], rand), bi = randomize(m.layers[1], rand);
  const inner = lstmConfig({ units: H, return_sequences: true, zero_output_for_mask: true });
  const config = sequential([
    inputLayer([null, T]),
    layer("Embedding", "embedding", { input_dim: V, output_dim: D, embeddings_initializer: init("RandomUniform", { minval: -0.05, maxval: 0.05, seed: null }), embeddings_regularizer: null, activity_regularizer: null, embeddings_constraint: null, mask_zero: true }, [null, T]),
    layer("Bidirectional", "bidirectional", {
      merge_mode: "concat",
      layer: layer("LSTM", "forward_lstm", inner),
      backward_layer: layer("LSTM", "backward_lstm", { ...inner, go_backwards: true }),
    }, [null, T, D]),
  ], [null, T]);
  // tfjs's getWeights order: forward kernel, recurrent kernel, bias, then backward's
  const w = { ...vars("layers/embedding", emb), ...vars("layers/bidirectional/forward_layer/cell", bi.slice(0, 3)), ...vars("layers/bidirectional/backward_layer/cell", bi.slice(3)) };
  writeKeras(new URL("embedding_bidirectional.keras", OUT), config, w, { groups: ["layers/bidirectional/vars", "layers/bidirectional/forward_layer/vars", "layers/bidirectional/backward_layer/vars"] });
  const ids = Float32Array.from({ length: B * T }, () => 1 + Math.floor(rand() * (V - 1)));
  ids.fill(0, 1 * T + 4, 2 * T); // row 1: 4 tokens then padding
  ids.fill(0, 2 * T + 2, 3 * T); // row 2: 2 tokens then padding
  const y = predict(m, ids, [B, T]);
  const out = Float32Array.from(y.data);
  for (let s = 0; s < B * T; s++) if (ids[s] === 0) out.fill(0, s * 2 * H, (s + 1) * 2 * H);
  writeIo("embedding_bidirectional", ids, [B, T], { shape: y.shape, data: out }, "tfjs predict, outputs at masked steps set to zero (Keras' zero_output_for_mask, which Bidirectional forces)");
}

// 4. Functional: Masking -> LSTM(return_sequences, go_backwards) -> Dropout -> LSTM(return_sequences) ->
//    Bidirectional(SimpleRNN, ave) -> Dense(softmax): two LSTMs (layers/lstm, layers/lstm_1), padded rows
{
  const rand = mulberry32(304);
  const [B, T, I, H] = [3, 6, 3, 5];
  const inp = tf.input({ shape: [T, I] });
  const l0 = tf.layers.masking({ maskValue: 0 }), l1 = tf.layers.lstm({ units: H, recurrentActivation: "sigmoid", returnSequences: true, goBackwards: true });
  const l2 = tf.layers.dropout({ rate: 0.3 }), l3 = tf.layers.lstm({ units: H, recurrentActivation: "sigmoid", returnSequences: true });
  const l4 = tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: H }), mergeMode: "ave" }), l5 = tf.layers.dense({ units: 3, activation: "softmax" });
  const m = tf.model({ inputs: inp, outputs: l5.apply(l4.apply(l3.apply(l2.apply(l1.apply(l0.apply(inp)))))) });
  const w1 = randomize(l1, rand), w3 = randomize(l3, rand), w4 = randomize(l4, rand), w5 = randomize(l5, rand);
  const rnnInner = simpleRnnConfig({ units: H });
  const config = functional(inputLayer([null, T, I]), [
    [layer("Masking", "masking", { mask_value: 0.0 }), [null, T, I]],
    [layer("LSTM", "lstm", lstmConfig({ units: H, return_sequences: true, go_backwards: true }), [null, T, I]), [null, T, H]],
    [layer("Dropout", "dropout", { rate: 0.3, seed: null, noise_shape: null }), [null, T, H]],
    [layer("LSTM", "lstm_1", lstmConfig({ units: H, return_sequences: true }), [null, T, H]), [null, T, H]],
    [layer("Bidirectional", "bidirectional", {
      merge_mode: "ave",
      layer: layer("SimpleRNN", "forward_simple_rnn", rnnInner),
      backward_layer: layer("SimpleRNN", "backward_simple_rnn", { ...rnnInner, go_backwards: true }),
    }, [null, T, H]), [null, H]],
    [layer("Dense", "dense", denseConfig(3, "softmax"), [null, H]), [null, 3]],
  ]);
  const w = {
    ...vars("layers/lstm/cell", w1), ...vars("layers/lstm_1/cell", w3),
    ...vars("layers/bidirectional/forward_layer/cell", w4.slice(0, 3)), ...vars("layers/bidirectional/backward_layer/cell", w4.slice(3)),
    ...vars("layers/dense", w5),
  };
  writeKeras(new URL("functional_stack.keras", OUT), config, w, { groups: ["layers/input_layer/vars", "layers/masking/vars", "layers/dropout/vars"] });
  const x = uniform(rand, B * T * I, 1);
  x.fill(0, (1 * T + 3) * I, (2 * T) * I); // row 1: 3 steps then padding
  x.fill(0, (2 * T + 5) * I, (3 * T) * I); // row 2: 5 steps then padding
  writeIo("functional_stack", x, [B, T, I], predict(m, x, [B, T, I]), "tfjs predict (no layer here zeroes masked outputs: the Bidirectional returns its last state)");
}

// 5. GRU(reset_after=True, Keras 3's default) -> TimeDistributed(Dense): tfjs refuses reset_after, so the GRU is
//    its equations in tfjs ops, then the Dense in tfjs ops
{
  const rand = mulberry32(305);
  const [B, T, I, H, N] = [2, 5, 4, 6, 3];
  const K = uniform(rand, I * 3 * H, 0.6), R = uniform(rand, H * 3 * H, 0.6), b = uniform(rand, 2 * 3 * H, 0.6);
  const Wd = uniform(rand, H * N, 0.6), bd = uniform(rand, N, 0.6);
  const x = uniform(rand, B * T * I, 1);
  const seq = tf.tidy(() => {
    const Kt = tf.tensor2d(K, [I, 3 * H]), Rt = tf.tensor2d(R, [H, 3 * H]);
    const bIn = tf.tensor2d(b.subarray(0, 3 * H), [1, 3 * H]), bRec = tf.tensor2d(b.subarray(3 * H), [1, 3 * H]);
    const xs = tf.tensor3d(x, [B, T, I]);
    let h = tf.zeros([B, H]);
    const outs = [];
    for (let t = 0; t < T; t++) {
      const xt = tf.reshape(tf.slice(xs, [0, t, 0], [B, 1, I]), [B, I]);
      const xz = tf.add(tf.matMul(xt, Kt), bIn), hz = tf.add(tf.matMul(h, Rt), bRec);
      const part = (v, k) => tf.slice(v, [0, k * H], [B, H]);
      const z = tf.sigmoid(tf.add(part(xz, 0), part(hz, 0))), r = tf.sigmoid(tf.add(part(xz, 1), part(hz, 1)));
      const hh = tf.tanh(tf.add(part(xz, 2), tf.mul(r, part(hz, 2))));
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
      outs.push(h);
    }
    const dense = tf.add(tf.matMul(tf.reshape(tf.stack(outs, 1), [B * T, H]), tf.tensor2d(Wd, [H, N])), tf.tensor1d(bd));
    return tf.reshape(dense, [B, T, N]).dataSync();
  });
  const config = sequential([
    inputLayer([null, T, I]),
    layer("GRU", "gru", gruConfig({ units: H, return_sequences: true }), [null, T, I]),
    layer("TimeDistributed", "time_distributed", { layer: layer("Dense", "dense", denseConfig(N)) }, [null, T, H]),
  ], [null, T, I]);
  const w = { ...vars("layers/gru/cell", [[[I, 3 * H], K], [[H, 3 * H], R], [[2, 3 * H], b]]), ...vars("layers/time_distributed/layer", [[[H, N], Wd], [[N], bd]]) };
  writeKeras(new URL("gru_reset_after.keras", OUT), config, w);
  writeIo("gru_reset_after", x, [B, T, I], { shape: [B, T, N], data: seq }, "the reset_after GRU's equations in tfjs ops (float32), then the Dense");
}
console.log(`wrote ${OUT.pathname} and ${EXAMPLE.pathname}`);
