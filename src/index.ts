// src/index.ts: the public API.
export { init, createRuntime, getRuntime, supportsBuild, Runtime, BUILDS } from "./runtime.js";
export type { Build, WasmSource, RuntimeOptions, Kernels } from "./runtime.js";
export { LSTM, GRU, RNN, RecurrentLayer } from "./layers.js";
export type { LayerOptions, LSTMOptions, GRUOptions, RNNOptions, LayerState, LayerResult } from "./layers.js";
export { LSTMCell, GRUCell, RNNCell, RecurrentCell } from "./cells.js";
export type { CellOptions, GRUCellOptions, RNNCellOptions, CellState } from "./cells.js";
export { fromTorch } from "./torch.js";
export type { FromTorchOptions } from "./torch.js";
export type { BackendOptions } from "./owner.js";
export type { ArchitectureOptions, Kind, Nonlinearity, Spec } from "./spec.js";
export { loadSafetensors, saveSafetensors } from "./io/safetensors.js";
export type { SafetensorsFile } from "./io/safetensors.js";
export { RnnError } from "./errors.js";
export type { RnnErrorCode } from "./errors.js";
export { tensor } from "./tensor.js";
export type { Tensor, NanPolicy } from "./tensor.js";
