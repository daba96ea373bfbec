// cli/src/model-format.ts: which kind of model file `run` and `inspect` were given: a safetensors file (a PyTorch
// state_dict, a quantized model file, a trained forecaster), an ONNX model, or a TensorFlow.js model.json. The
// extension decides when it is one of .safetensors, .onnx and .json; otherwise the first bytes do (a safetensors file
// opens with a u64 header length and then `{`, a model.json with `{`, an ONNX ModelProto with the tag of its first
// field, ir_version, 0x08). Anything else is read as safetensors, whose reader says what is wrong with it.
import { extname } from "node:path";

export type ModelFormat = "safetensors" | "onnx" | "tfjs";

const BY_EXTENSION: Record<string, ModelFormat> = { ".safetensors": "safetensors", ".onnx": "onnx", ".json": "tfjs" };

/** The format of the model file at `path` whose bytes are `bytes`. */
export function modelFormat(path: string, bytes: Uint8Array): ModelFormat {
  const byName = BY_EXTENSION[extname(path).toLowerCase()];
  if (byName) return byName;
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength <= BigInt(bytes.length - 8)) return "safetensors";
  }
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b) return "tfjs";
  if (bytes[0] === 0x08) return "onnx";
  return "safetensors";
}

/** How messages name a format. */
export const FORMAT_NAMES: Record<ModelFormat, string> = {
  safetensors: "safetensors",
  onnx: "ONNX model",
  tfjs: "TensorFlow.js model.json",
};
