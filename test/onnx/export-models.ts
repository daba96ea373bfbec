// test/onnx/export-models.ts: the seeded models whose toOnnx files ONNX Runtime runs (scripts/make_onnx_ort_outputs.mjs
// writes its outputs; test/onnx/ort-agreement.test.ts checks ours against them), described as data so the script and
// the test build the same models: every kind and form toOnnx writes, at sizes off the SIMD width (4), each fed
// inputs drawn from its seed at a batch size and length other than any other's.
import { Embedding, GRU, LastStep, Linear, LSTM, mulberry32, RNN, Sequential, type LayerOptions } from "../../src/index.js";
import type { RecurrentLayer, Tensor } from "../../src/index.js";
import type { IntTensor } from "../../src/onnx/index.js";

export type ModuleSpec =
  | { lstm: LayerOptions } | { gru: LayerOptions } | { rnn: LayerOptions }
  | { linear: { inFeatures: number; outFeatures: number; bias?: boolean } }
  | { embedding: { numEmbeddings: number; embeddingDim: number } }
  | { lastStep: true };

export interface ExportCase {
  name: string;
  /** One module: a layer alone (graph input `input`, outputs output/hN/cN); several: a Sequential. */
  modules: ModuleSpec[];
  /** toOnnx's initialState (a layer alone). */
  initialState?: boolean;
  /** toOnnx's lengths (a layer alone): a `lengths` feed drawn in [1, T]. */
  lengths?: boolean;
  /** Input sizes: [T, B] as the first recurrent layer reads them (batch-first layers: [B, T]). */
  time: [number, number];
  seed: number;
}

export const EXPORT_CASES: ExportCase[] = [
  { name: "lstm_states", modules: [{ lstm: { inputSize: 3, hiddenSize: 5 } }], initialState: true, time: [6, 3], seed: 11 },
  { name: "lstm_2layer_bidir_batch_first_states", modules: [{ lstm: { inputSize: 7, hiddenSize: 6, numLayers: 2, bidirectional: true, batchFirst: true } }], initialState: true, time: [2, 5], seed: 12 },
  { name: "lstm_no_bias_t1", modules: [{ lstm: { inputSize: 5, hiddenSize: 9, bias: false } }], time: [1, 2], seed: 13 },
  { name: "gru_reset_after_bidir", modules: [{ gru: { inputSize: 4, hiddenSize: 7, bidirectional: true } }], time: [5, 1], seed: 14 },
  { name: "gru_reset_before_2layer_states", modules: [{ gru: { inputSize: 6, hiddenSize: 5, numLayers: 2, resetAfter: false } }], initialState: true, time: [4, 3], seed: 15 },
  { name: "gru_reset_before_bidir_batch_first_no_bias", modules: [{ gru: { inputSize: 2, hiddenSize: 3, bidirectional: true, batchFirst: true, resetAfter: false, bias: false } }], time: [3, 4], seed: 16 },
  { name: "rnn_tanh_3layer", modules: [{ rnn: { inputSize: 3, hiddenSize: 11, numLayers: 3 } }], time: [7, 2], seed: 17 },
  { name: "lstm_2layer_bidir_lengths_states", modules: [{ lstm: { inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true } }], initialState: true, lengths: true, time: [6, 4], seed: 23 },
  { name: "gru_reset_before_bidir_batch_first_lengths", modules: [{ gru: { inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, resetAfter: false } }], lengths: true, time: [3, 7], seed: 24 },
  { name: "rnn_relu_bidir_states", modules: [{ rnn: { inputSize: 5, hiddenSize: 6, bidirectional: true, nonlinearity: "relu" } }], initialState: true, time: [5, 2], seed: 18 },
  { name: "seq_lstm_batch_first_last_step_linear", modules: [{ lstm: { inputSize: 4, hiddenSize: 10, batchFirst: true } }, { lastStep: true }, { linear: { inFeatures: 10, outFeatures: 3 } }], time: [3, 6], seed: 19 },
  { name: "seq_gru_bidir_linear_every_step", modules: [{ gru: { inputSize: 3, hiddenSize: 6, bidirectional: true } }, { linear: { inFeatures: 12, outFeatures: 5 } }], time: [5, 2], seed: 20 },
  { name: "seq_embedding_lstm_2layer_linear", modules: [{ embedding: { numEmbeddings: 11, embeddingDim: 6 } }, { lstm: { inputSize: 6, hiddenSize: 7, numLayers: 2 } }, { linear: { inFeatures: 7, outFeatures: 2 } }], time: [6, 2], seed: 21 },
  { name: "seq_linear_rnn_relu_last_step_linear", modules: [{ linear: { inFeatures: 5, outFeatures: 8 } }, { rnn: { inputSize: 8, hiddenSize: 9, nonlinearity: "relu" } }, { lastStep: true }, { linear: { inFeatures: 9, outFeatures: 1, bias: false } }], time: [4, 3], seed: 22 },
];

/** The case's model, its weights drawn from the case's seed (module k's from seed * 100 + k), on `backend`. */
export function buildModel(c: ExportCase, backend: "wasm" | "reference" = "wasm"): RecurrentLayer | Sequential {
  const parts = c.modules.map((m, k) => {
    const seed = c.seed * 100 + k;
    if ("lstm" in m) return new LSTM({ ...m.lstm, seed, backend });
    if ("gru" in m) return new GRU({ ...m.gru, seed, backend });
    if ("rnn" in m) return new RNN({ ...m.rnn, seed, backend });
    if ("linear" in m) return new Linear({ ...m.linear, seed, backend });
    if ("embedding" in m) return new Embedding({ ...m.embedding, seed, backend });
    return new LastStep();
  });
  return parts.length === 1 ? (parts[0] as RecurrentLayer) : new Sequential(parts);
}

/** The case's feeds by graph input name, drawn from its seed: values uniform in [-2, 2), indices in [0, numEmbeddings). */
export function buildFeeds(c: ExportCase): Record<string, Tensor | IntTensor> {
  const rand = mulberry32(c.seed);
  const floats = (shape: number[]): Tensor => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 4 * rand() - 2) });
  const first = c.modules[0];
  const feeds: Record<string, Tensor | IntTensor> = {};
  if ("embedding" in first) {
    const n = c.time[0] * c.time[1];
    feeds.input = { shape: [...c.time], data: Int32Array.from({ length: n }, () => Math.floor(rand() * first.embedding.numEmbeddings)) };
  } else {
    const features = "linear" in first ? first.linear.inFeatures : "lstm" in first ? first.lstm.inputSize : "gru" in first ? first.gru.inputSize : "rnn" in first ? first.rnn.inputSize : 0;
    feeds.input = floats([...c.time, features]);
  }
  const o = "lstm" in first ? first.lstm : "gru" in first ? first.gru : "rnn" in first ? first.rnn : null;
  if ((c.initialState || c.lengths) && !o) throw new Error(`${c.name}: initialState and lengths need a recurrent layer alone`);
  const [T, B] = o?.batchFirst ? [c.time[1], c.time[0]] : c.time;
  if (c.initialState && o) {
    const rows = (o.numLayers ?? 1) * (o.bidirectional ? 2 : 1);
    feeds.h0 = floats([rows, B, o.hiddenSize]);
    if ("lstm" in first) feeds.c0 = floats([rows, B, o.hiddenSize]);
  }
  if (c.lengths) feeds.lengths = { shape: [B], data: Int32Array.from({ length: B }, () => 1 + Math.floor(rand() * T)) };
  return feeds;
}

/** The model's own outputs for the feeds, named as the graph names them. */
export function modelOutputs(model: RecurrentLayer | Sequential, feeds: Record<string, Tensor | IntTensor>): Record<string, Tensor> {
  if (model instanceof Sequential) {
    // an Embedding-first Sequential takes the indices as they are (an Int32Array)
    return { output: model.forward(feeds.input as Tensor) };
  }
  const r = model.forward(feeds.input as Tensor, {
    ...(feeds.h0 ? { h0: feeds.h0 as Tensor } : {}),
    ...(feeds.c0 ? { c0: feeds.c0 as Tensor } : {}),
    ...(feeds.lengths ? { lengths: feeds.lengths.data as Int32Array } : {}),
  });
  return { output: r.output, hN: r.hN, ...(r.cN ? { cN: r.cN } : {}) };
}
