// test/onnx/fixtures.ts: the ONNX fixtures of scripts/make_onnx_fixtures.py (test/fixtures/onnx/<group>/<case>.json:
// the model's bytes, its feeds and the expected outputs), read for the tests.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../../src/index.js";
import type { IntTensor } from "../../src/onnx/index.js";

export const ONNX_FIXTURES = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));

interface JsonTensor { dtype: "float32" | "int32"; shape: number[]; data: number[] }

export interface OnnxCase {
  group: string;
  name: string;
  model: Uint8Array;
  feeds: Record<string, Tensor | IntTensor>;
  expected: Record<string, Tensor>;
}

function tensorOf(t: JsonTensor): Tensor | IntTensor {
  return t.dtype === "int32" ? { shape: t.shape, data: Int32Array.from(t.data) } : { shape: t.shape, data: Float32Array.from(t.data) };
}

export function loadCase(group: string, name: string): OnnxCase {
  const doc = JSON.parse(readFileSync(`${ONNX_FIXTURES}${group}/${name}.json`, "utf8")) as { model: string; inputs: Record<string, JsonTensor>; outputs: Record<string, JsonTensor> };
  return {
    group, name,
    model: new Uint8Array(Buffer.from(doc.model, "base64")),
    feeds: Object.fromEntries(Object.entries(doc.inputs).map(([k, v]) => [k, tensorOf(v)])),
    expected: Object.fromEntries(Object.entries(doc.outputs).map(([k, v]) => [k, tensorOf(v) as Tensor])),
  };
}

export function caseNames(group: string): string[] {
  return readdirSync(ONNX_FIXTURES + group).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}
