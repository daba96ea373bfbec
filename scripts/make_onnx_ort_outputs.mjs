// scripts/make_onnx_ort_outputs.mjs: ONNX Runtime's outputs, as fixtures for test/onnx/ort-agreement.test.ts.
//
//   npm run bench:install   # once: bench/'s own install holds onnxruntime-node (288 MB; not a root dependency)
//   node --import tsx scripts/make_onnx_ort_outputs.mjs
//
// Runs onnxruntime-node (bench/node_modules, CPU, one thread) on
//   (a) every model of the fixtures fromOnnx is tested on (test/fixtures/onnx/{conformance,attributes,torch,exported,
//       glue}, written by scripts/make_onnx_fixtures.py), with the fixtures' own feeds, and writes
//       test/fixtures/onnx/ort/fixtures.json: { "<group>/<case>": { outputs } or { refused: ONNX Runtime's message } };
//   (b) the files toOnnx writes for the seeded models of test/onnx/export-models.ts, with their seeded feeds, and
//       writes test/fixtures/onnx/ort/toonnx.json: each model's bytes, feeds and ONNX Runtime's outputs.
// Tensors are stored as the other ONNX fixtures store them (float32: base64 of little-endian bytes; int32: numbers;
// int64: decimal strings). The tests need neither onnxruntime-node nor this script.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { init } from "../src/index.ts";
import { toOnnx } from "../src/onnx/index.ts";
import { EXPORT_CASES, buildFeeds, buildModel } from "../test/onnx/export-models.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const FIXTURES = `${ROOT}test/fixtures/onnx/`;
const GROUPS = ["conformance", "attributes", "torch", "exported", "glue"];

const requireFromBench = createRequire(`${ROOT}bench/package.json`);
const ort = requireFromBench("onnxruntime-node");
const ORT_VERSION = JSON.parse(readFileSync(requireFromBench.resolve("onnxruntime-node/package.json"), "utf8")).version;
// logSeverityLevel 4 (fatal only): a refused model's reason is printed once below, not also by ONNX Runtime's logger
const SESSION = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", executionProviders: ["cpu"], logSeverityLevel: 4 };

function fromJson(t) {
  if (t.dtype === "int32") return { dtype: "int32", shape: t.shape, data: Int32Array.from(t.data) };
  if (t.dtype === "int64") return { dtype: "int64", shape: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
  const bytes = Buffer.from(t.data, "base64");
  return { dtype: "float32", shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
}

/** float16 bits -> number. */
function half(bits) {
  const sign = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, f = bits & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** float16 value -> its bits; the float16 feeds are float16 values stored as float32, so each is exact (else an error). */
const HALF_BITS = new Map(Array.from({ length: 0x10000 }, (_, b) => [half(b), b]).filter(([v]) => !Number.isNaN(v)).reverse());
function toHalf(v) {
  const bits = Number.isNaN(v) ? 0x7e00 : HALF_BITS.get(v);
  if (bits === undefined) throw new Error(`${v} is not a float16 value`);
  return bits;
}

/** An output stored as the fixtures store tensors: float types as float32, integers and bools as int32 or int64. */
function toJson(dtype, shape, data) {
  if (dtype === "int64" || dtype === "uint64") return { dtype: "int64", shape, data: Array.from(data, (v) => String(v)) };
  if (["int32", "int16", "int8", "uint32", "uint16", "uint8", "bool"].includes(dtype)) return { dtype: "int32", shape, data: Array.from(data, Number) };
  const values = dtype === "float16" ? Array.from(data, half)
    : dtype === "bfloat16" ? Array.from(data, (b) => new Float32Array(Uint32Array.of(b << 16).buffer)[0])
    : dtype === "float32" || dtype === "float64" ? Array.from(data) : null;
  if (!values) throw new Error(`output dtype ${dtype} is not stored here`);
  const f = Float32Array.from(values);
  return { dtype: "float32", shape, data: Buffer.from(f.buffer).toString("base64") };
}

/**
 * A feed as ONNX Runtime takes it: converted to the element type the graph declares (the fixtures store feeds as
 * float32, int32 or int64, as fromOnnx takes them).
 */
function ortTensor(meta, t) {
  const type = meta?.type ?? t.dtype;
  const values = t.dtype === "int64" ? Array.from(t.data, Number) : Array.from(t.data);
  const big = () => BigInt64Array.from(values, (v) => BigInt(v));
  const make = {
    float32: () => Float32Array.from(values), float64: () => Float64Array.from(values), float16: () => Uint16Array.from(values, toHalf),
    int32: () => Int32Array.from(values), int64: big, uint64: () => BigUint64Array.from(values, (v) => BigInt(v)),
    uint32: () => Uint32Array.from(values), int16: () => Int16Array.from(values), uint16: () => Uint16Array.from(values),
    int8: () => Int8Array.from(values), uint8: () => Uint8Array.from(values), bool: () => Uint8Array.from(values, (v) => (v ? 1 : 0)),
  }[type];
  if (!make) throw new Error(`input ${meta?.name} has type ${type}, which this script does not feed`);
  return new ort.Tensor(type, make(), t.shape);
}

async function runOrt(model, feeds) {
  const session = await ort.InferenceSession.create(model, SESSION);
  try {
    const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const given = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, ortTensor(meta.get(name), t)]));
    const result = await session.run(given);
    return Object.fromEntries(session.outputNames.map((name) => [name, toJson(result[name].type, [...result[name].dims], result[name].data)]));
  } finally {
    await session.release();
  }
}

async function fixtureOutputs() {
  const cases = {};
  for (const group of GROUPS) {
    for (const file of readdirSync(FIXTURES + group).filter((f) => f.endsWith(".json")).sort()) {
      const key = `${group}/${file.slice(0, -5)}`;
      const doc = JSON.parse(readFileSync(`${FIXTURES}${group}/${file}`, "utf8"));
      const feeds = Object.fromEntries(Object.entries(doc.inputs).map(([k, v]) => [k, fromJson(v)]));
      try {
        cases[key] = { outputs: await runOrt(new Uint8Array(Buffer.from(doc.model, "base64")), feeds) };
      } catch (e) {
        cases[key] = { refused: String(e.message).split("\n")[0] };
        console.log(`${key}: refused by ONNX Runtime: ${cases[key].refused}`);
      }
    }
  }
  return cases;
}

async function toOnnxOutputs() {
  const cases = [];
  for (const c of EXPORT_CASES) {
    const model = buildModel(c);
    const bytes = toOnnx(model, { initialState: c.initialState ?? false, lengths: c.lengths ?? false });
    model.dispose();
    const feeds = buildFeeds(c);
    // integer feeds (Embedding indices, lengths) go in as the graph declares them (int64, int32)
    const typed = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { dtype: t.data instanceof Int32Array ? "int32" : "float32", shape: t.shape, data: t.data }]));
    const outputs = await runOrt(bytes, typed);
    cases.push({
      name: c.name,
      model: Buffer.from(bytes).toString("base64"),
      feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toJson(t.data instanceof Int32Array ? "int32" : "float32", t.shape, t.data)])),
      outputs,
    });
  }
  return cases;
}

await init();
mkdirSync(`${FIXTURES}ort`, { recursive: true });
const note = `onnxruntime-node ${ORT_VERSION}, CPU, one thread (scripts/make_onnx_ort_outputs.mjs)`;
const fixtures = await fixtureOutputs();
writeFileSync(`${FIXTURES}ort/fixtures.json`, `${JSON.stringify({ producer: note, cases: fixtures }, null, 1)}\n`);
const exported = await toOnnxOutputs();
writeFileSync(`${FIXTURES}ort/toonnx.json`, `${JSON.stringify({ producer: note, cases: exported }, null, 1)}\n`);
const refused = Object.values(fixtures).filter((c) => c.refused).length;
console.log(`${Object.keys(fixtures).length} fixture models (${refused} refused by ONNX Runtime), ${exported.length} toOnnx models: ${note}`);
