// src/tfjs/index.ts: the entry `rnn-wasm/tfjs`: fromTfjs loads a TensorFlow.js / Keras layers model and runs it. It
// shares its modules with `rnn-wasm` (one runtime, one RnnError class: import init and tensor from there), so call
// init() from `rnn-wasm`.

/**
 * TensorFlow.js / Keras models in: {@link fromTfjs} reads a layers model (the parsed `model.json` that tfjs's
 * `model.save` or `tensorflowjs_converter` writes, and its weight files' bytes) and returns a {@link TfjsModel}
 * whose `predict` runs it as tfjs's `model.predict` does. LSTM, GRU (both `reset_after` forms: tfjs itself refuses
 * `true`), SimpleRNN, Bidirectional, Masking, Embedding, Dense and TimeDistributed(Dense); recurrent layers with
 * PyTorch's activations run on the wasm layers, others on a plain-TypeScript path. docs/tfjs.md lists what is supported.
 *
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromTfjs } from "rnn-wasm/tfjs";
 * await init();
 * const model = fromTfjs(modelJson, weightBytes);   // parsed model.json, the weight files concatenated
 * const y = model.predict(tensor([1, 20, 3], x));   // [batch, steps, features]
 * model.dispose();
 * ```
 *
 * @packageDocumentation
 */
export { fromTfjs, TfjsModel } from "./model.js";
export type { FromTfjsOptions, TfjsLayerInfo } from "./model.js";
export type { RecurrentPath } from "./recurrent.js";
