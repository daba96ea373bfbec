// cli/src/model-format.ts: which kind of model file `run` and `inspect` were given: a safetensors file (a PyTorch
// state_dict, a quantized model file, a trained forecaster), an ONNX model, a TensorFlow.js model.json, or a Keras 3
// .keras file. The extension decides when it is one of .safetensors, .onnx, .json and .keras; otherwise the first
// bytes do (a safetensors file opens with a u64 header length and then `{`, a .keras file, a zip archive, with a local
// file header's `PK\x03\x04`, a model.json with `{`, an ONNX ModelProto with the tag of its first field, ir_version,
// 0x08). Anything else is read as safetensors, whose reader says what is wrong with it.
import { extname } from "node:path";

export type ModelFormat = "safetensors" | "onnx" | "tfjs" | "keras";

const BY_EXTENSION: Record<string, ModelFormat> = { ".safetensors": "safetensors", ".onnx": "onnx", ".json": "tfjs", ".keras": "keras" };

/** A zip archive's first local file header: what a .keras file opens with. */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** The format of the model file at `path` whose bytes are `bytes`. */
export function modelFormat(path: string, bytes: Uint8Array): ModelFormat {
  const byName = BY_EXTENSION[extname(path).toLowerCase()];
  if (byName) return byName;
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength <= BigInt(bytes.length - 8)) return "safetensors";
  }
  if (ZIP_MAGIC.every((b, k) => bytes[k] === b)) return "keras";
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
  keras: "Keras 3 .keras file",
};

/** `an ONNX model`, `a Keras 3 .keras file`: a format's name with its article. */
export function formatPhrase(format: ModelFormat): string {
  return `${format === "onnx" ? "an" : "a"} ${FORMAT_NAMES[format]}`;
}
