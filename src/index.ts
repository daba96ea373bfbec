// src/index.ts: the public API.
// Layers, optimizers and models have [Symbol.dispose] (for `using`); the reference below gives a consumer project
// the type of Symbol.dispose even where its own lib setting predates it (TypeScript >= 5.2 knows the lib).
/// <reference lib="esnext.disposable" preserve="true" />

/**
 * LSTM, GRU and Elman RNN layers and cells with PyTorch's API, run by WebAssembly SIMD kernels (or by a
 * plain-TypeScript reference), in Node, Cloudflare Workers and browsers; training with backpropagation through
 * time, PyTorch's optimizers, losses and clipping; and PyTorch's weights in and out through safetensors.
 *
 * Start with {@link init}, then {@link LSTM} / {@link GRU} / {@link RNN} (or {@link fromTorch} for a model saved
 * from PyTorch with {@link loadSafetensors}); the README's examples run each part.
 *
 * @example
 * ```ts
 * import { init, LSTM, tensor } from "rnn-wasm";
 * await init();
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 1 });
 * const { output, hN, cN } = lstm.forward(tensor([5, 3, 8])); // [T, B, I] -> output [5, 3, 16]
 * lstm.dispose();
 * ```
 *
 * @packageDocumentation
 */
export { init, createRuntime, getRuntime, supportsBuild, Runtime, BUILDS } from "./runtime.js";
export type { Build, WasmSource, RuntimeOptions, Kernels } from "./runtime.js";
export type { WasmModule, FetchResponse, WasmMemory } from "./host-types.js";
export { LSTM, GRU, RNN, RecurrentLayer } from "./layers.js";
export type { LayerOptions, LSTMOptions, GRUOptions, RNNOptions, LayerState, LayerResult, LayerOut } from "./layers.js";
export { LSTMCell, GRUCell, RNNCell, RecurrentCell } from "./cells.js";
export type { CellOptions, GRUCellOptions, RNNCellOptions, CellState, CellForwardOptions, CellGradients } from "./cells.js";
export { quantize, QuantizedLayer, QuantizedCell, QuantizedSequential } from "./quantized.js";
export type { QuantizeOptions, QuantizedForwardOptions, QuantDtype, QuantizedPart } from "./quantized.js";
export { saveQuantized, loadQuantized, readQuantized, isQuantizedFile, QUANTIZED_FORMAT, QUANTIZED_FORMAT_VERSION } from "./quantized-file.js";
export type { LoadQuantizedOptions, QuantizedFile, QuantizedFileHead } from "./quantized-file.js";
export type { QuantRunData, QuantMatrixData, QuantWeights } from "./quantized-engine.js";
export { fromTorch, readTorchStateDict, recurrentPrefixes, isRecurrentParamName } from "./torch.js";
export type { FromTorchOptions, FromTorchQuantizedOptions, TorchStateDict } from "./torch.js";
export { paramList } from "./architecture.js";
export type { ParamInfo, ParamRole } from "./architecture.js";
export { mulberry32 } from "./random.js";
export { maxAbsDiff } from "./compare.js";
export type { BackendOptions } from "./recurrent-base.js";
export type { WeightValue } from "./weights.js";
export type { ArchitectureOptions, Kind, Nonlinearity, Spec } from "./architecture.js";
export { loadSafetensors, saveSafetensors } from "./io/safetensors.js";
export type { SafetensorsFile, IntTensor } from "./io/safetensors.js";
export { RnnError } from "./errors.js";
export type { RnnErrorCode } from "./errors.js";
export { tensor } from "./tensor.js";
export type { Tensor, NanPolicy } from "./tensor.js";
export { Linear } from "./train/linear.js";
export type { LinearOptions } from "./train/linear.js";
export { Embedding } from "./train/embedding.js";
export type { EmbeddingOptions, IndexTensor } from "./train/embedding.js";
export { mseLoss, crossEntropyLoss } from "./train/loss.js";
export type { LossResult, Reduction } from "./train/loss.js";
export { Sequential, LastStep } from "./train/sequential.js";
export type { Module } from "./train/sequential.js";
export { SGD, Adam, AdamW, Optimizer } from "./train/optim.js";
export type { SGDOptions, AdamOptions } from "./train/optim.js";
export { clipGradNorm, clipGradValue, gradNorm } from "./train/clip.js";
export type { ParamBuffer, Trainable } from "./train/params.js";
export type { ForwardOptions, LayerGradients, LayerGradientsIn } from "./layers.js";
