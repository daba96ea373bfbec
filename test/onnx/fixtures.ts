// test/onnx/fixtures.ts: the ONNX fixtures of scripts/make_onnx_fixtures.py (test/fixtures/onnx/<group>/<case>.json:
// the model's bytes, its feeds and the expected outputs), read for the tests.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../../src/index.js";
import type { IntTensor } from "../../src/onnx/index.js";

export const ONNX_FIXTURES = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));

/** float32 data as base64 of little-endian bytes; int64 as decimal strings; int32 as numbers. */
type JsonTensor =
  | { dtype: "float32"; shape: number[]; data: string }
  | { dtype: "int32"; shape: number[]; data: number[] }
  | { dtype: "int64"; shape: number[]; data: string[] };

export interface OnnxCase {
  group: string;
  name: string;
  model: Uint8Array;
  feeds: Record<string, Tensor | IntTensor>;
  expected: Record<string, Tensor | IntTensor>;
}

function tensorOf(t: JsonTensor): Tensor | IntTensor {
  if (t.dtype === "int32") return { shape: t.shape, data: Int32Array.from(t.data) };
  if (t.dtype === "int64") return { shape: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
  const bytes = Buffer.from(t.data, "base64");
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { shape: t.shape, data };
}

/** Expected values as numbers (an int64 output becomes float64 numbers). */
export function numbers(t: Tensor | IntTensor): Float64Array {
  return Float64Array.from(t.data as ArrayLike<number>, Number);
}

export function loadCase(group: string, name: string): OnnxCase {
  const doc = JSON.parse(readFileSync(`${ONNX_FIXTURES}${group}/${name}.json`, "utf8")) as { model: string; inputs: Record<string, JsonTensor>; outputs: Record<string, JsonTensor> };
  return {
    group, name,
    model: new Uint8Array(Buffer.from(doc.model, "base64")),
    feeds: Object.fromEntries(Object.entries(doc.inputs).map(([k, v]) => [k, tensorOf(v)])),
    expected: Object.fromEntries(Object.entries(doc.outputs).map(([k, v]) => [k, tensorOf(v)])),
  };
}

export function caseNames(group: string): string[] {
  return readdirSync(ONNX_FIXTURES + group).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}
