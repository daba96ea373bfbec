// bench/serve/model.ts: the served model and the requests' bodies. The model is W-seq's (LSTM 64 -> 256 under
// PyTorch's names, bench/models/lstm_i64_h256.safetensors), optionally with a seeded nn.Linear head ("head."), saved
// as safetensors in a temp dir that both servers load. A whole-sequence request is W-seq's input (T=128 rows of 64,
// seededValues as the peers' suite has it); a stream steps through the same rows one per request.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveSafetensors, type Tensor } from "../../src/index.js";
import { loadWorkloadData, seededValues, WORKLOADS } from "../peers/workloads.js";

export const WORKLOAD = WORKLOADS["W-seq"];

export interface ServedFile {
  path: string;
  dir: string;
  /** Input features, the layer's output features (D*P) and the head's (0 without one). */
  I: number;
  H: number;
  O: number;
  /** W-seq's input, [T, I] row-major. */
  input: Float32Array;
  T: number;
}

/** Writes W-seq's weights (and a head of `headSize` outputs when > 0) to <tmp>/model.safetensors. */
export function writeModel(headSize = 0): ServedFile {
  const data = loadWorkloadData(WORKLOAD);
  const { I, H, T } = WORKLOAD;
  const tensors: Record<string, Tensor> = { ...data.weights };
  if (headSize > 0) {
    const scale = 1 / Math.sqrt(H);
    tensors["head.weight"] = { shape: [headSize, H], data: seededValues(headSize * H, 777).map((v) => v * scale) };
    tensors["head.bias"] = { shape: [headSize], data: seededValues(headSize, 778).map((v) => v * scale) };
  }
  const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-serve-bench-"));
  const path = join(dir, "model.safetensors");
  writeFileSync(path, saveSafetensors(tensors, { source: "bench/serve/model.ts (W-seq's weights)" }));
  return { path, dir, I, H, O: headSize, input: data.input, T };
}

/** [[width numbers] x rows], as a JavaScript client builds a JSON body from a Float32Array. */
export function rows(data: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < data.length; k += width) out.push(Array.from(data.subarray(k, k + width)));
  return out;
}

/** The whole sequence as a JSON body: {"input": [[I] x T]}. */
export function sequenceJson(f: ServedFile): string {
  return JSON.stringify({ input: rows(f.input, f.I) });
}

/** The whole sequence as raw little-endian float32 (send with X-Shape: T,I). */
export function sequenceBinary(f: ServedFile): Buffer {
  return Buffer.from(f.input.buffer, f.input.byteOffset, f.input.byteLength);
}

/** Row t (mod T) of the input, for a stream's step. */
export function stepRow(f: ServedFile, t: number): Float32Array {
  const k = t % f.T;
  return f.input.subarray(k * f.I, (k + 1) * f.I);
}
