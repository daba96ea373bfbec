// src/keras/index.ts: the entry `rnn-wasm/keras`: fromKeras loads a Keras 3 `.keras` file and runs it. It shares its
// modules with `rnn-wasm` (one runtime, one RnnError class: import init and tensor from there), so call init() from
// `rnn-wasm`. It carries its zip and HDF5 readers (fflate and jsfive, bundled at build time), which is why it is
// its own subpath rather than part of `rnn-wasm/tfjs`.

/**
 * Keras 3 models in: {@link fromKeras} reads a `.keras` file (config.json and model.weights.h5 in a zip) and returns
 * a {@link KerasModel} whose `predict` runs it as Keras' `model.predict` does. The layers are those of
 * `rnn-wasm/tfjs` (LSTM, GRU in both `reset_after` forms, SimpleRNN, Bidirectional, Masking, Embedding, Dense,
 * TimeDistributed(Dense), Dropout); `hard_sigmoid` follows the file's Keras version. docs/tfjs.md lists what is
 * supported.
 *
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromKeras } from "rnn-wasm/keras";
 * await init();
 * const model = fromKeras(bytes);                   // the .keras file's bytes
 * const y = model.predict(tensor([1, 20, 3], x));   // [batch, steps, features]
 * model.dispose();
 * ```
 *
 * @packageDocumentation
 */
export { fromKeras, KerasModel } from "./model.js";
export type { FromKerasOptions, KerasLayerInfo, KerasWeightInfo } from "./model.js";
