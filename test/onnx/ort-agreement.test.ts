// test/onnx/ort-agreement.test.ts: our outputs against ONNX Runtime's (onnxruntime-node 1.30, CPU, one thread), stored
// by scripts/make_onnx_ort_outputs.mjs in test/fixtures/onnx/ort/ (rerun: npm run bench:install, then
// node --import tsx scripts/make_onnx_ort_outputs.mjs; this test needs no onnxruntime):
//   fixtures.json  ONNX Runtime on every model the ONNX fixtures test fromOnnx on (conformance, attributes, torch,
//                  exported, glue), with the fixtures' feeds: fromOnnx's outputs, three ways as conformance.test.ts
//                  runs them, against ONNX Runtime's. The models ONNX Runtime does not run are listed with why.
//   toonnx.json    the files toOnnx writes for test/onnx/export-models.ts's seeded models: toOnnx must still write
//                  those bytes, and both the model's own forward (wasm and reference backends) and fromOnnx on the
//                  file must give ONNX Runtime's outputs.
// TOL = 1e-5, the bound. Both sides compute in float32 over at most 7 steps of sizes <= 19; they differ by
// summation order and by ONNX Runtime's vectorized sigmoid/tanh approximations (MLAS's, a few ulp), which moves
// outputs of order 1 by about 1e-7 to 1e-6 (the largest difference here is printed below). A wrong gate order, bias
// half, direction or state row moves them by 1e-2 and more. The glue operators' node tests reach large values (Pow,
// Exp): there the bound is 1e-5 relative to max(1, |value|), as in glue.test.ts.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init, type Tensor } from "../../src/index.js";
import { loadOnnx } from "../../src/onnx/model.js";
import { fromOnnx, toOnnx, type IntTensor } from "../../src/onnx/index.js";
import { caseNames, loadCase, numbers, ONNX_FIXTURES } from "./fixtures.js";
import { buildModel, EXPORT_CASES, modelOutputs } from "./export-models.js";

const TOL = 1e-5;
const GROUPS = ["conformance", "attributes", "torch", "exported", "glue"];
/** Why ONNX Runtime did not run a model: the case names each reason covers, and the script's message for it. */
const NOT_RUN = [
  { cases: /^(conformance\/test_\w+_batchwise|attributes\/\w*layout1\w*|attributes\/lstm_everything)$/, message: /layout == 1\) are not supported/, why: "ONNX Runtime refuses layout 1" },
  { cases: /^attributes\/\w+_seq_lens_float$/, message: /Type 'tensor\(float\)' of input parameter \(sequence_lens\)/, why: "float32 sequence_lens: the spec types it int32; fromOnnx takes whole-number floats as an extension" },
  { cases: /^glue\/test_cast_(BFLOAT16_to_FLOAT|FLOAT_to_BFLOAT16)$/, message: /Unsupported data type: 16/, why: "onnxruntime-node's JavaScript tensors have no bfloat16" },
  { cases: /^glue\/test_identity_(opt|sequence)$/, message: /expected to be of type: [35] but received a tensor/, why: "optional and sequence types, which the fixtures feed as plain tensors" },
  { cases: /^glue\/test_pow_types_float32_uint(32|64)$/, message: /Could not find an implementation for Pow/, why: "ONNX Runtime's CPU Pow has no uint32/uint64 exponents" },
];
/** Run by ONNX Runtime but not compared: fromOnnx refuses it on purpose (glue.test.ts's REFUSED). */
const NOT_COMPARED = /^glue\/test_training_dropout(?!_zero_ratio)/;
const WAYS = [
  { way: "default (wasm layers where they fit)", options: {}, reference: false },
  { way: "layers' reference backend", options: { backend: "reference" as const }, reference: false },
  { way: "TypeScript ONNX path", options: {}, reference: true },
];

type JsonTensor =
  | { dtype: "float32"; shape: number[]; data: string }
  | { dtype: "int32"; shape: number[]; data: number[] }
  | { dtype: "int64"; shape: number[]; data: string[] };

function tensorOf(t: JsonTensor): Tensor | IntTensor {
  if (t.dtype === "int32") return { shape: t.shape, data: Int32Array.from(t.data) };
  if (t.dtype === "int64") return { shape: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
  const bytes = Buffer.from(t.data, "base64");
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { shape: t.shape, data };
}

const read = (file: string) => JSON.parse(readFileSync(`${ONNX_FIXTURES}ort/${file}`, "utf8"));
const ORT_FIXTURES = read("fixtures.json") as { producer: string; cases: Record<string, { outputs?: Record<string, JsonTensor>; refused?: string }> };
const ORT_TOONNX = read("toonnx.json") as { producer: string; cases: { name: string; model: string; feeds: Record<string, JsonTensor>; outputs: Record<string, JsonTensor> }[] };

let largest = 0;
/** Every output of `got` matches ONNX Runtime's in shape and within TOL (relative to max(1, |value|) when `relative`; NaN where it has NaN). */
function expectOrt(got: Record<string, Tensor>, want: Record<string, JsonTensor>, what: string, relative = false): void {
  expect(Object.keys(got).sort(), what).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const expected = numbers(tensorOf(w));
    expect(got[name].shape, `${what}: ${name} shape`).toEqual(w.shape);
    let diff = 0;
    expected.forEach((v, k) => {
      const ours = got[name].data[k];
      const d = Number.isNaN(v) && Number.isNaN(ours) ? 0 : Math.abs(ours - v) / (relative ? Math.max(1, Math.abs(v)) : 1);
      if (!(d <= diff)) diff = d;
    });
    largest = Math.max(largest, diff);
    expect(diff, `${what}: ${name}: max |ours - ONNX Runtime's| ${diff}`).toBeLessThan(TOL);
  }
}

beforeAll(async () => {
  await init();
});

afterAll(() => {
  console.log(`largest |ours - ONNX Runtime's| over the outputs compared (relative for glue): ${largest.toExponential(2)} (${ORT_FIXTURES.producer})`);
});

describe("fromOnnx against ONNX Runtime on the fixtures' models", () => {
  const keys = Object.keys(ORT_FIXTURES.cases).sort();
  const ran = keys.filter((k) => ORT_FIXTURES.cases[k].outputs && !NOT_COMPARED.test(k));

  it("has ONNX Runtime's answer for every model of the fixture groups", () => {
    expect(keys).toEqual(GROUPS.flatMap((g) => caseNames(g).map((n) => `${g}/${n}`)).sort());
    expect(ran.length).toBeGreaterThanOrEqual(45);
  });

  it("ONNX Runtime leaves out only the models NOT_RUN lists, each for the reason it gives", () => {
    const refused = keys.filter((k) => ORT_FIXTURES.cases[k].refused);
    for (const k of refused) {
      const reason = NOT_RUN.find((r) => r.cases.test(k));
      expect(reason, `${k}: ${ORT_FIXTURES.cases[k].refused}`).toBeDefined();
      expect(ORT_FIXTURES.cases[k].refused, `${k}: ${reason!.why}`).toMatch(reason!.message);
    }
    expect(keys.filter((k) => NOT_RUN.some((r) => r.cases.test(k)))).toEqual(refused);
    expect(refused.length).toBe(17);
  });

  it.each(ran)("%s", (key) => {
    const [group, name] = key.split("/");
    const c = loadCase(group, name);
    for (const { way, options, reference } of WAYS) {
      const model = loadOnnx(c.model, options, reference);
      try {
        expectOrt(model.run(c.feeds), ORT_FIXTURES.cases[key].outputs!, `${key}, ${way}`, group === "glue");
      } finally {
        model.dispose();
      }
    }
  });
});

describe("toOnnx files against ONNX Runtime", () => {
  it("covers every seeded model of export-models.ts", () => {
    expect(ORT_TOONNX.cases.map((c) => c.name)).toEqual(EXPORT_CASES.map((c) => c.name));
  });

  it.each(EXPORT_CASES.map((c) => c.name))("%s", (name) => {
    const c = EXPORT_CASES.find((e) => e.name === name)!;
    const stored = ORT_TOONNX.cases.find((e) => e.name === name)!;
    const feeds = Object.fromEntries(Object.entries(stored.feeds).map(([k, v]) => [k, tensorOf(v)]));
    const bytes = new Uint8Array(Buffer.from(stored.model, "base64"));
    for (const backend of ["wasm", "reference"] as const) {
      const model = buildModel(c, backend);
      try {
        // the file ONNX Runtime ran is the one toOnnx writes today (else rerun the script)
        expect(Buffer.from(toOnnx(model, { initialState: c.initialState ?? false, lengths: c.lengths ?? false })).equals(Buffer.from(bytes)), `${name}: toOnnx's bytes changed; rerun scripts/make_onnx_ort_outputs.mjs`).toBe(true);
        expectOrt(modelOutputs(model, feeds), stored.outputs, `${name}: the model's forward (${backend})`);
      } finally {
        model.dispose();
      }
    }
    const onnx = fromOnnx(bytes);
    try {
      expectOrt(onnx.run(feeds), stored.outputs, `${name}: fromOnnx on the file`);
    } finally {
      onnx.dispose();
    }
  });
});
