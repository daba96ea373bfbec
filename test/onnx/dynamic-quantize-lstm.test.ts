// test/onnx/dynamic-quantize-lstm.test.ts: com.microsoft.DynamicQuantizeLSTM (src/onnx/dynamic-quantize-lstm.ts) on the
// fixtures of scripts/make_onnx_dq_lstm_fixtures.mjs: six quantized LSTMs (int8 per column and per direction, an int8
// -128, uint8 with a constant zero point per column and with zero points per direction and weights fed as graph
// inputs, and clip with peepholes: the float path) with ONNX Runtime 1.30's outputs on seeded inputs.
//
// Tolerances. Both runtimes compute with the file's weights exactly; they differ in how they quantize the
// activations x_t and h_{t-1} at each product: ONNX Runtime to uint8 with a zero point per tensor, ours symmetric per
// batch row (to 8 bits with int8 weights, 12 with int12: see the source). Each rounding moves a gate's pre-activation
// by at most sum_k |w_k| * step / 2, a few 1e-3 at these sizes (weights within 0.45, inputs within 1.5, steps of
// max|x| / 127 or / 255), and the LSTM's sigmoid and tanh (slopes at most 1) pass that on. Measured on these
// fixtures: |ours - ONNX Runtime| <= 3.5e-3, |ONNX Runtime - float32 on the dequantized weights| <= 2.9e-3, |ours -
// that float32| <= 1.4e-3 (int8) and 7e-5 (int12); outputs within 0.9. So: ours against ONNX Runtime within 1e-2
// (1% of the outputs' range, three times the largest difference seen), ours against the float32 LSTM on the same
// weights within 5e-3 (int8) and 5e-4 (int12). A wrong gate order, transpose, scale or zero point moves outputs by
// 0.1 or more, and fails all of them. The quantized path is also checked against quantize() of that float32 LSTM
// (which gives back the file's integers where every column reaches ±127) within 1e-6, and the wasm and reference
// backends against each other within 1e-6 (both compute the quantized products exactly; float32 gate maths).
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { init, LSTM, maxAbsDiff, quantize, RnnError, type Tensor } from "../../src/index.js";
import { fromOnnx, type IntTensor } from "../../src/onnx/index.js";
import { loadOnnx } from "../../src/onnx/model.js";
import { readModel } from "../../src/onnx/proto.js";
import { tensorValue } from "../../src/onnx/values.js";
import { writeModel, type ModelSpec, type TensorSpec } from "./write-model.js";

const DIR = fileURLToPath(new URL("../fixtures/onnx/dynamic-quantize-lstm/", import.meta.url));
const TOL_ORT = 1e-2;
const TOL_FLOAT = { int8: 5e-3, int12: 5e-4 };
const TOL_SAME = 1e-6;

type JsonTensor = { dtype: string; shape: number[]; data: string | number[] };
interface DqCase { name: string; model: Uint8Array; feeds: Record<string, Tensor | IntTensor>; expected: Record<string, Tensor> }

function tensorOf(t: JsonTensor): Tensor | IntTensor {
  if (t.dtype !== "float32") return { shape: t.shape, data: Int32Array.from(t.data as number[]) };
  const bytes = Buffer.from(t.data as string, "base64");
  return { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
}

const CASES: DqCase[] = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort().map((f) => {
  const doc = JSON.parse(readFileSync(DIR + f, "utf8"));
  return {
    name: f.slice(0, -5),
    model: new Uint8Array(Buffer.from(doc.model, "base64")),
    feeds: Object.fromEntries(Object.entries(doc.inputs as Record<string, JsonTensor>).map(([k, v]) => [k, tensorOf(v)])),
    expected: Object.fromEntries(Object.entries(doc.outputs as Record<string, JsonTensor>).map(([k, v]) => [k, tensorOf(v) as Tensor])),
  };
});
const byName = (name: string) => CASES.find((c) => c.name === name)!;

/** Which integer layer a case's weights map onto (the -128 and the wide uint8 ones need int12's int16 lanes). */
function dtypeOf(c: DqCase): "int8" | "int12" {
  const g = readModel(c.model).graph;
  const ints = (n: string) => {
    const t = g.initializers.find((i) => i.name === n);
    return t ? Array.from(tensorValue(t, n).data) : Array.from((c.feeds[n] as IntTensor).data as Int32Array);
  };
  const fits = ["W", "R"].every((n) => {
    const q = ints(n), z = ints(`${n}_zero_point`);
    const [D, , N] = g.initializers.find((i) => i.name === n)?.dims ?? (c.feeds[n] as IntTensor).shape;
    const perColumn = z.length === D * N, KN = q.length / D;
    // q is (D, K, 4H); the zero point is one per direction, or one per column of each direction
    return q.every((v, i) => Math.abs(v - z[perColumn ? Math.floor(i / KN) * N + (i % N) : Math.floor(i / KN)]) <= 127);
  });
  return fits ? "int8" : "int12";
}

function run(c: DqCase, options: Parameters<typeof fromOnnx>[1] = {}, floatPath = false): Record<string, Tensor> {
  const model = floatPath ? loadOnnx(c.model, options, true) : fromOnnx(c.model, options);
  try {
    return model.run(c.feeds);
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  await init();
});

describe("DynamicQuantizeLSTM against ONNX Runtime", () => {
  it("the fixtures cover both integer layers and the float path", () => {
    expect(CASES.map((c) => c.name)).toHaveLength(6);
    expect(new Set(CASES.filter((c) => c.name !== "int8_clip_peepholes").map(dtypeOf))).toEqual(new Set(["int8", "int12"]));
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s: Y, Y_h, Y_c within 1e-2 of ONNX Runtime's, on both backends", (_name, c) => {
    for (const backend of ["wasm", "reference"] as const) {
      const got = run(c, { backend });
      for (const [name, want] of Object.entries(c.expected)) {
        expect(got[name].shape, `${name} shape`).toEqual(want.shape);
        const d = maxAbsDiff(got[name].data, want.data);
        expect(d, `${backend}: ${name} max |ours - ORT| = ${d}`).toBeLessThanOrEqual(TOL_ORT);
      }
    }
  });

  it.each(CASES.filter((c) => c.name !== "int8_clip_peepholes").map((c) => [c.name, c] as const))(
    "%s: the quantized layer against float32 on the dequantized weights, and wasm against reference", (_name, c) => {
      const tol = TOL_FLOAT[dtypeOf(c)];
      const q = run(c), f = run(c, {}, true), ref = run(c, { backend: "reference" });
      for (const name of Object.keys(c.expected)) {
        const d = maxAbsDiff(q[name].data, f[name].data);
        expect(d, `${name} max |quantized - float| = ${d} (${dtypeOf(c)})`).toBeLessThanOrEqual(tol);
        expect(d, `${name}: the quantized path ran (it differs from float32)`).toBeGreaterThan(0);
        expect(maxAbsDiff(q[name].data, ref[name].data), `${name}: wasm vs reference`).toBeLessThanOrEqual(TOL_SAME);
      }
    });

  it("clip and peepholes run as ONNX's LSTM on the dequantized weights (the float path), as the test-only float path does", () => {
    const c = byName("int8_clip_peepholes");
    const got = run(c), f = run(c, {}, true);
    for (const name of Object.keys(c.expected)) expect(maxAbsDiff(got[name].data, f[name].data)).toBe(0);
  });
});

describe("DynamicQuantizeLSTM's int8 weights are the file's integers", () => {
  it("int8_per_column: the same outputs as quantize() of the float32 LSTM on the dequantized weights", () => {
    const c = byName("int8_per_column");
    const g = readModel(c.model).graph;
    const init = (n: string) => tensorValue(g.initializers.find((i) => i.name === n)!, n).data;
    const X = c.feeds.X as Tensor;
    const [, , I] = X.shape;
    const H = g.nodes[0].attributes.find((a) => a.name === "hidden_size")!.i;
    // PyTorch's rows i, f, g, o from ONNX's columns i, o, f, c; weight = q * scale (zero points 0)
    const order = [0, 2, 3, 1];
    const rows = (q: ArrayLike<number>, scale: ArrayLike<number>, K: number) => {
      const out = new Float32Array(4 * H * K);
      for (let b = 0; b < 4; b++) for (let j = 0; j < H; j++) for (let k = 0; k < K; k++) {
        const col = order[b] * H + j;
        out[(b * H + j) * K + k] = Math.fround(q[k * 4 * H + col] * scale[col]);
      }
      return out;
    };
    const bias = init("B");
    const gates = (v: Float32Array) => Float32Array.from({ length: 4 * H }, (_, r) => v[order[Math.floor(r / H)] * H + (r % H)]);
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, backend: "reference" }, {
      weight_ih_l0: rows(init("W"), init("W_scale"), I), weight_hh_l0: rows(init("R"), init("R_scale"), H),
      bias_ih_l0: gates(bias.subarray(0, 4 * H) as Float32Array), bias_hh_l0: gates(bias.subarray(4 * H) as Float32Array),
    });
    const q = quantize(lstm, { dtype: "int8", form: "q16" });
    try {
      const want = q.forward(X);
      const got = run(c, { backend: "reference" });
      expect(maxAbsDiff(got.Y.data, want.output.data)).toBeLessThanOrEqual(TOL_SAME);
      expect(maxAbsDiff(got.Y_c.data, want.cN!.data)).toBeLessThanOrEqual(TOL_SAME);
    } finally {
      q.dispose();
      lstm.dispose();
    }
  });
});

describe("DynamicQuantizeLSTM's errors", () => {
  const I = 3, H = 2, N = 8;
  /** A forward DynamicQuantizeLSTM node over int8 weights, with `change` applied to its spec. */
  function model(change: (m: ModelSpec & { initializers: TensorSpec[] }) => void = () => {}): Uint8Array {
    const m: ModelSpec & { initializers: TensorSpec[] } = {
      nodes: [{ op: "DynamicQuantizeLSTM", domain: "com.microsoft", name: "dq", inputs: ["X", "W", "R", "", "", "", "", "", "W_scale", "W_zero_point", "R_scale", "R_zero_point"], outputs: ["Y"], attrs: { hidden_size: { i: H } } }],
      inputs: [{ name: "X", dims: [2, 1, I] }],
      outputs: [{ name: "Y" }],
      initializers: [
        { name: "W", dims: [1, I, N], dataType: 3, ints: Array.from({ length: I * N }, (_, k) => (k % 11) - 5) },
        { name: "R", dims: [1, H, N], dataType: 3, ints: Array.from({ length: H * N }, (_, k) => (k % 7) - 3) },
        { name: "W_scale", dims: [1], floats: [0.01] }, { name: "W_zero_point", dims: [1], dataType: 3, ints: [0] },
        { name: "R_scale", dims: [1], floats: [0.02] }, { name: "R_zero_point", dims: [1], dataType: 3, ints: [0] },
      ],
    };
    change(m);
    return writeModel(m);
  }
  const x = { X: { shape: [2, 1, I], data: new Float32Array(2 * I).fill(0.5) } };
  const error = (bytes: Uint8Array): RnnError => {
    try {
      fromOnnx(bytes).run(x);
    } catch (e) {
      if (e instanceof RnnError) return e;
      throw e;
    }
    throw new Error("expected an RnnError");
  };

  it("a well-formed node runs (the base of the cases below)", () => {
    const y = fromOnnx(model()).run(x).Y;
    expect(y.shape).toEqual([2, 1, 1, H]);
  });

  it("W of the wrong shape, a scale of the wrong shape, a missing scale, float weights, weights beyond uint8", () => {
    expect(error(model((m) => { m.initializers[0].dims = [1, N, I]; })).message).toMatch(/node "dq" \(DynamicQuantizeLSTM\): W has shape \[1, 8, 3\], expected \[1, 3, 8\]/);
    expect(error(model((m) => { m.initializers[2].dims = [2]; m.initializers[2].floats = [0.01, 0.01]; })).message).toMatch(/W_scale has shape \[2\], expected \[1\]/);
    const missing = error(model((m) => { m.nodes[0].inputs[10] = ""; }));
    expect([missing.code, missing.message]).toEqual(["missing", expect.stringMatching(/input 10 \(R_scale\) is required/)]);
    expect(error(model((m) => { m.initializers[0] = { name: "W", dims: [1, I, N], floats: new Array(I * N).fill(0.1) }; })).message).toMatch(/input W must be a int tensor/);
    expect(error(model((m) => { m.initializers[1] = { name: "R", dims: [1, H, N], dataType: 6, ints: new Array(H * N).fill(300) }; })).message).toMatch(/R holds 300 at index 0: its weights must be int8 or uint8/);
  });

  it("an attribute ONNX's LSTM has but DynamicQuantizeLSTM does not (layout) is refused when the model loads", () => {
    let e: unknown;
    try { fromOnnx(model((m) => { m.nodes[0].attrs!.layout = { i: 0 }; })); } catch (err) { e = err; }
    expect(e).toBeInstanceOf(RnnError);
    expect((e as RnnError).message).toMatch(/attribute layout is not one rnn-wasm\/onnx knows for DynamicQuantizeLSTM/);
  });
});
