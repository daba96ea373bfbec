// scripts/make_onnx_dq_lstm_fixtures.mjs: com.microsoft.DynamicQuantizeLSTM models and ONNX Runtime's outputs on them,
// as fixtures for test/onnx/dynamic-quantize-lstm.test.ts.
//
//   npm run bench:install   # once: bench/'s own install holds onnxruntime-node (not a root dependency)
//   node --import tsx scripts/make_onnx_dq_lstm_fixtures.mjs
//
// Each case is an LSTM with seeded random float weights, quantized here the way the case names (int8 symmetric per
// column or per direction with zero point 0, as onnxruntime.quantization's quantize_dynamic writes them; int8 reaching
// -128; uint8 with a zero point per direction, or one constant zero point for every column, the two uint8 forms ONNX
// Runtime accepts), written as one DynamicQuantizeLSTM node (test/onnx/write-model.ts) with the com.microsoft opset,
// and run by onnxruntime-node (bench/node_modules, CPU, one thread) on seeded inputs. It writes
// test/fixtures/onnx/dynamic-quantize-lstm/<case>.json: { model (base64), inputs, outputs (ONNX Runtime's), ort }.
// Tensors: float32 as base64 of little-endian bytes; int32, int8 and uint8 as numbers. Deterministic (fixed seeds);
// the tests need neither onnxruntime-node nor this script.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { writeModel } from "../test/onnx/write-model.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = `${ROOT}test/fixtures/onnx/dynamic-quantize-lstm/`;
const requireFromBench = createRequire(`${ROOT}bench/package.json`);
const ort = requireFromBench("onnxruntime-node");
const ORT_VERSION = JSON.parse(readFileSync(requireFromBench.resolve("onnxruntime-node/package.json"), "utf8")).version;
const SESSION = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", executionProviders: ["cpu"], logSeverityLevel: 3 };
const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6 };

/** mulberry32: a seeded uniform generator in [0, 1). */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CASES = [
  // name, sizes, direction, how W and R are quantized, optional inputs, extra attributes
  { name: "int8_per_column", T: 7, B: 2, I: 5, H: 8, direction: "forward", quant: "int8-column", bias: true },
  { name: "int8_per_direction_bidirectional_states", T: 5, B: 3, I: 3, H: 6, direction: "bidirectional", quant: "int8-direction", bias: true, lengths: [5, 3, 4], states: true },
  { name: "int8_minus128_reverse_lengths", T: 6, B: 2, I: 4, H: 5, direction: "reverse", quant: "int8-minus128", bias: true, lengths: [6, 4] },
  { name: "uint8_constant_zero_point_per_column", T: 6, B: 2, I: 4, H: 5, direction: "forward", quant: "uint8-column", bias: false },
  { name: "uint8_per_direction_weights_fed", T: 4, B: 1, I: 6, H: 7, direction: "bidirectional", quant: "uint8-direction", bias: true, fedWeights: true },
  { name: "int8_clip_peepholes", T: 5, B: 2, I: 4, H: 4, direction: "bidirectional", quant: "int8-column", bias: true, peepholes: true, attrs: { clip: { f: 0.9 } } },
];

/**
 * A direction's float (K, 4H) matrix quantized as `quant` says: its integers (row-major as the file holds them), and
 * per column (4H) or per direction (1) scales and zero points.
 */
function quantize(w, K, N, quant) {
  const q = new Int32Array(K * N);
  const col = (c) => Array.from({ length: K }, (_, k) => w[k * N + c]);
  const perColumn = quant.endsWith("column");
  const scales = [], zeros = [];
  const groups = perColumn ? Array.from({ length: N }, (_, c) => [c]) : [Array.from({ length: N }, (_, c) => c)];
  for (const cols of groups) {
    const values = cols.flatMap(col);
    const max = Math.max(...values), min = Math.min(...values), amax = Math.max(max, -min);
    let scale, zero, lo, hi;
    if (quant.startsWith("int8")) {
      // symmetric, zero point 0: amax -> 127 (quantize_dynamic's int8 weights); or the most negative value -> -128
      // (larger positive values saturate at 127), the int8 value our int8 layers do not hold
      scale = Math.fround(quant === "int8-minus128" ? -min / 128 : amax / 127); zero = 0; lo = -128; hi = 127;
    } else if (perColumn) {
      scale = Math.fround(amax / 127); zero = 128; lo = 0; hi = 255; // one zero point for every column (ONNX Runtime requires it)
    } else {
      scale = Math.fround((max - min) / 255); zero = Math.min(255, Math.max(0, Math.round(-min / scale))); lo = 0; hi = 255;
    }
    for (const c of cols) for (let k = 0; k < K; k++) q[k * N + c] = Math.min(hi, Math.max(lo, Math.round(w[k * N + c] / scale) + zero));
    scales.push(scale);
    zeros.push(zero);
  }
  return { q, scales, zeros };
}

function floats(rand, n, spread) {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * spread);
}

const b64 = (f) => Buffer.from(Float32Array.from(f).buffer).toString("base64");

async function makeCase(c, seed) {
  const rand = generator(seed);
  const D = c.direction === "bidirectional" ? 2 : 1, N = 4 * c.H;
  const signed = c.quant.startsWith("int8");
  const intType = signed ? DT.INT8 : DT.UINT8;
  const perColumn = c.quant.endsWith("column");
  const mats = {};
  for (const [name, K] of [["W", c.I], ["R", c.H]]) {
    const parts = Array.from({ length: D }, () => quantize(floats(rand, K * N, 0.45), K, N, c.quant));
    mats[name] = {
      q: parts.flatMap((p) => Array.from(p.q)),
      scale: parts.flatMap((p) => p.scales),
      zero: parts.flatMap((p) => p.zeros),
      dims: [D, K, N],
    };
  }
  const X = floats(rand, c.T * c.B * c.I, 1.5);
  const inputs = { X: { dtype: "float32", shape: [c.T, c.B, c.I], data: b64(X) } };
  const initializers = [];
  const qdims = perColumn ? [D, N] : [D];
  const intBytes = (v) => (signed ? new Uint8Array(Int8Array.from(v).buffer) : Uint8Array.from(v));
  for (const name of ["W", "R"]) {
    const m = mats[name];
    if (c.fedWeights) inputs[name] = { dtype: signed ? "int8" : "uint8", shape: m.dims, data: m.q };
    else initializers.push({ name, dims: m.dims, dataType: intType, raw: intBytes(m.q) });
    initializers.push({ name: `${name}_scale`, dims: qdims, dataType: DT.FLOAT, floats: m.scale });
    initializers.push({ name: `${name}_zero_point`, dims: qdims, dataType: intType, raw: intBytes(m.zero) });
  }
  if (c.bias) initializers.push({ name: "B", dims: [D, 2 * N], floats: Array.from(floats(rand, D * 2 * N, 0.3)) });
  if (c.lengths) inputs.sequence_lens = { dtype: "int32", shape: [c.B], data: c.lengths };
  if (c.states) {
    inputs.initial_h = { dtype: "float32", shape: [D, c.B, c.H], data: b64(floats(rand, D * c.B * c.H, 0.8)) };
    inputs.initial_c = { dtype: "float32", shape: [D, c.B, c.H], data: b64(floats(rand, D * c.B * c.H, 0.8)) };
  }
  if (c.peepholes) initializers.push({ name: "P", dims: [D, 3 * c.H], floats: Array.from(floats(rand, D * 3 * c.H, 0.5)) });
  const has = (n) => n in inputs || initializers.some((t) => t.name === n);
  const nodeInputs = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P", "W_scale", "W_zero_point", "R_scale", "R_zero_point"].map((n) => (has(n) ? n : ""));
  const spec = {
    nodes: [{ op: "DynamicQuantizeLSTM", domain: "com.microsoft", name: "dq_lstm", inputs: nodeInputs, outputs: ["Y", "Y_h", "Y_c"],
      attrs: { hidden_size: { i: c.H }, direction: { s: c.direction }, ...(c.attrs ?? {}) } }],
    inputs: Object.entries(inputs).map(([name, t]) => ({ name, elemType: { float32: DT.FLOAT, int32: DT.INT32, int8: DT.INT8, uint8: DT.UINT8 }[t.dtype], dims: t.shape })),
    outputs: ["Y", "Y_h", "Y_c"].map((name) => ({ name })),
    initializers,
    opset: 14,
  };
  // writeModel imports the default domain's opset; the contrib operator needs com.microsoft's too (ModelProto field
  // 8 is repeated, so a second entry appended to the message is read with the first)
  const tail = new BinaryWriter();
  tail.tag(8, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("com.microsoft").tag(2, WireType.Varint).int64(1).join();
  const head = writeModel(spec), extra = tail.finish();
  const model = new Uint8Array(head.length + extra.length);
  model.set(head);
  model.set(extra, head.length);

  const session = await ort.InferenceSession.create(model, SESSION);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, t]) => {
    if (t.dtype === "float32") {
      const bytes = Buffer.from(t.data, "base64");
      return [name, new ort.Tensor("float32", new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), t.shape)];
    }
    if (t.dtype === "int32") return [name, new ort.Tensor("int32", Int32Array.from(t.data), t.shape)];
    return [name, new ort.Tensor(t.dtype, t.dtype === "int8" ? Int8Array.from(t.data) : Uint8Array.from(t.data), t.shape)];
  }));
  const result = await session.run(feeds);
  await session.release();
  const outputs = Object.fromEntries(["Y", "Y_h", "Y_c"].map((n) => [n, { dtype: "float32", shape: [...result[n].dims], data: b64(result[n].data) }]));
  return { model: Buffer.from(model).toString("base64"), inputs, outputs, ort: `onnxruntime-node ${ORT_VERSION}, CPU, one thread` };
}

mkdirSync(OUT, { recursive: true });
let seed = 1500;
for (const c of CASES) {
  const doc = await makeCase(c, seed++);
  writeFileSync(`${OUT}${c.name}.json`, JSON.stringify(doc) + "\n");
  console.log(`${c.name}: Y ${doc.outputs.Y.shape.join("x")}`);
}
