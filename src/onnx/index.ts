// src/onnx/index.ts: the entry `rnn-wasm/onnx`: fromOnnx loads an ONNX model and runs it; toOnnx writes one. It shares its modules with
// `rnn-wasm` (one runtime, one RnnError class: import init and tensor from there), so call init() from `rnn-wasm`.

/**
 * ONNX models in: {@link fromOnnx} reads the bytes of a `.onnx` file (the protobuf reader is bundled in, no
 * dependency) and returns an {@link OnnxModel} whose `run` takes the graph's inputs by name and returns its outputs
 * by name. The recurrent operators LSTM, GRU and RNN run with every attribute of the spec: on the wasm layers when
 * the attributes are ones they compute, otherwise on a plain-TypeScript path. {@link toOnnx} writes a recurrent
 * layer, or a Sequential with Linear heads, as an ONNX file (opset 14) that ONNX Runtime runs. docs/onnx.md lists
 * what is supported.
 *
 * @example
 * ```ts
 * import { init, tensor } from "rnn-wasm";
 * import { fromOnnx } from "rnn-wasm/onnx";
 * await init();
 * const model = fromOnnx(bytes);              // an ONNX file's bytes
 * const { Y, Y_h } = model.run({ X: tensor([6, 1, 2], x) });
 * model.dispose();
 * ```
 *
 * @packageDocumentation
 */
export { fromOnnx, OnnxModel } from "./model.js";
export type { FromOnnxOptions, IntTensor, OnnxValueInfo } from "./model.js";
export { toOnnx, ONNX_EXPORT_OPSET } from "./export.js";
export type { ToOnnxOptions, OnnxExportable } from "./export.js";
