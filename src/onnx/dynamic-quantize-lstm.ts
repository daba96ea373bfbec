// src/onnx/dynamic-quantize-lstm.ts: ONNX Runtime's contrib operator com.microsoft.DynamicQuantizeLSTM (what
// onnxruntime.quantization's quantize_dynamic makes of an LSTM node), mapped onto our quantized layers (quantized.ts).
// Inputs   X (T,B,I) float; W (D,I,4H) and R (D,H,4H) int8 or uint8, the transposes of ONNX's LSTM weights, gates
//          i, o, f, c along the 4H columns; B, sequence_lens, initial_h, initial_c, P as ONNX's LSTM; W_scale and
//          W_zero_point, R_scale and R_zero_point of shape (D) (one per direction) or (D,4H) (one per column):
//          weight = (q - zero_point) * scale. Attributes as ONNX's LSTM but layout (none: always time-major).
// Outputs  Y (T,D,B,H), Y_h and Y_c (D,B,H), as ONNX's LSTM.
// A column of W is one output row of our weight_ih (gate unit), so per-column or per-direction scales are our
// per-row scales, and the integers q - zero_point are our row's integers, exactly:
//   - every q - zero_point within ±127 (int8 weights with zero point 0: what quantize_dynamic writes with its default
//     symmetric int8 weights): our int8 layer with the file's integers and scales, nothing rounded again;
//   - otherwise (uint8 weights with a zero point, or an int8 -128): our int12 layer, whose int16 lanes hold the
//     integers q - zero_point (within ±255) as they are: the weights are still exact, and the activations are
//     quantized to 12 bits instead of 8.
// The activations (x_t and h_{t-1}) are quantized as our layers quantize them (symmetric, per batch row, at each
// product), not as ONNX Runtime does (uint8 with a zero point, per tensor): that, and not the weights, is where the
// two differ (docs/onnx.md gives the measured difference).
// What our layers do not compute (activations other than the defaults, clip, input_forget, nonzero peepholes, a row
// of length 0) runs as ONNX's LSTM on the weights dequantized to float32 (recurrent.ts: the plain-TypeScript path),
// without quantizing the activations at all.
import { makeSpec } from "../architecture.js";
import { RnnError } from "../errors.js";
import { buildQuantized, engineOptions, quantizedFrom, type QuantizedLayer } from "../quantized.js";
import type { QuantDtype, QuantRunData } from "../quantized-engine.js";
import { Attributes, checkShape, need, type Kernel, type NodeContext } from "./node.js";
import type { NodeMsg } from "./proto.js";
import { lengthsOf, recurrentKernel, reverseSteps, swap12 } from "./recurrent.js";
import { floatValue, shapeText, type Value } from "./values.js";

const KNOWN = ["hidden_size", "direction", "activations", "activation_alpha", "activation_beta", "clip", "input_forget"];
const NAMES = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P", "W_scale", "W_zero_point", "R_scale", "R_zero_point"];
/** The inputs that make up the quantized weights (W, R, their scales and zero points) and B. */
const WEIGHT_INPUTS = [1, 2, 3, 8, 9, 10, 11];
/** PyTorch's gate block b (i, f, g, o) is ONNX's column block TORCH_FROM_ONNX[b] (i, o, f, c). */
const TORCH_FROM_ONNX = [0, 2, 3, 1];

/** One direction's matrix as integers q - zero_point in PyTorch's row order (4H rows of K), and each row's scale. */
interface Rows {
  q: Int16Array;
  scale: Float32Array;
}

/**
 * Direction d of a (D, K, 4H) quantized matrix as rows: row b*H + j of PyTorch's layout is column
 * TORCH_FROM_ONNX[b]*H + j, its integers q[k, col] - zero_point[col], its scale scale[col] (one per direction when
 * the scale is (D)).
 */
function rowsOf(q: Value, scale: Value, zero: Value, d: number, K: number, H: number): Rows {
  const N = 4 * H;
  const perColumn = scale.shape.length === 2;
  const out = new Int16Array(N * K), s = new Float32Array(N);
  for (let b = 0; b < 4; b++) {
    for (let j = 0; j < H; j++) {
      const row = b * H + j, col = TORCH_FROM_ONNX[b] * H + j;
      const p = perColumn ? d * N + col : d;
      const z = zero.data[p];
      s[row] = scale.data[p];
      for (let k = 0; k < K; k++) out[row * K + k] = q.data[(d * K + k) * N + col] - z;
    }
  }
  return { q: out, scale: s };
}

/** The float32 weights q's rows stand for, as ONNX's LSTM takes them: (4H, K) in ONNX's gate order. */
function dequantized(rows: Rows, K: number, H: number): Float32Array {
  const out = new Float32Array(4 * H * K);
  for (let b = 0; b < 4; b++) {
    for (let j = 0; j < H; j++) {
      const row = b * H + j, onnxRow = TORCH_FROM_ONNX[b] * H + j;
      for (let k = 0; k < K; k++) out[onnxRow * K + k] = rows.q[row * K + k] * rows.scale[row];
    }
  }
  return out;
}

export function dynamicQuantizeLstmKernel(node: NodeMsg, ctx: NodeContext): Kernel {
  const what = ctx.what;
  const attrs = new Attributes(node, what, KNOWN);
  if (node.inputs.length !== NAMES.length) {
    throw new RnnError("format", `${what}: has ${node.inputs.length} inputs; DynamicQuantizeLSTM takes ${NAMES.length} (${NAMES.join(", ")}; empty names for the optional B to P)`);
  }
  for (const k of [0, 1, 2, 8, 9, 10, 11]) {
    if (!node.inputs[k]) throw new RnnError("missing", `${what}: input ${k} (${NAMES[k]}) is required`);
  }
  if (node.outputs.length > 3) throw new RnnError("format", `${what}: has ${node.outputs.length} outputs; DynamicQuantizeLSTM has Y, Y_h and Y_c`);
  const direction = attrs.string("direction", "forward");
  const D = direction === "bidirectional" ? 2 : 1;
  const acts = attrs.strings("activations")?.map((a) => a.toLowerCase());
  const defaults = acts === null || acts === undefined || acts.every((a, k) => a === ["sigmoid", "tanh", "tanh"][k % 3]);
  const attrsFit = defaults && attrs.float("clip", null) === null && attrs.int("input_forget", 0) === 0;

  // The float path: ONNX's LSTM on the dequantized weights (it also checks the attributes, now).
  const floatNames = [node.inputs[0], `${node.inputs[1]}#dequantized`, `${node.inputs[2]}#dequantized`, ...node.inputs.slice(3, 8)];
  const constant = WEIGHT_INPUTS.every((k) => !node.inputs[k] || ctx.constants.has(node.inputs[k]));
  const floatConstants = new Map(ctx.constants);
  if (constant) floatConstants.set(floatNames[1], floatValue([], new Float32Array(0))).set(floatNames[2], floatValue([], new Float32Array(0)));
  const floatNode: NodeMsg = { ...node, opType: "LSTM", domain: "", inputs: floatNames };
  const floatKernel = recurrentKernel("lstm", floatNode, { ...ctx, constants: floatConstants });

  let cachedLayer: QuantizedLayer | null = null;
  let cachedFloat: [Value, Value] | null = null;
  let disposed = false;

  /** Checks the quantized weights against X and each other; the sizes and each direction's rows. */
  function weights(inputs: (Value | null)[], I: number) {
    const W = need(inputs, 1, "W", what, "int"), R = need(inputs, 2, "R", what, "int");
    if (R.shape.length !== 3) throw new RnnError("shape", `${what}: R has shape ${shapeText(R.shape)}, expected [num_directions, hidden_size, 4*hidden_size]`);
    const H = attrs.has("hidden_size") ? attrs.int("hidden_size", 0) : R.shape[1];
    checkShape(W, [D, I, 4 * H], "W", what);
    checkShape(R, [D, H, 4 * H], "R", what);
    const quant = (k: number, q: Value) => {
      const scale = need(inputs, k, NAMES[k], what, "float"), zero = need(inputs, k + 1, NAMES[k + 1], what, "int");
      const form = scale.shape.length === 2 ? [D, 4 * H] : [D];
      checkShape(scale, form, NAMES[k], what);
      checkShape(zero, form, NAMES[k + 1], what);
      const bad = q.data.findIndex((v) => v < -128 || v > 255);
      if (bad >= 0) throw new RnnError("dtype", `${what}: ${NAMES[k === 8 ? 1 : 2]} holds ${q.data[bad]} at index ${bad}: its weights must be int8 or uint8`);
      const negative = scale.data.findIndex((v) => !(v >= 0));
      if (negative >= 0) throw new RnnError("format", `${what}: ${NAMES[k]} holds ${scale.data[negative]} at index ${negative}; scales are finite and not negative`);
      const K = q === W ? I : H;
      return Array.from({ length: D }, (_, d) => rowsOf(q, scale, zero, d, K, H));
    };
    return { H, wih: quant(8, W), whh: quant(10, R) };
  }

  function biasOf(inputs: (Value | null)[], H: number): Float32Array | null {
    const Bv = inputs[3] ?? null;
    if (!Bv) return null;
    if (Bv.kind !== "float") throw new RnnError("dtype", `${what}: input B must be a float tensor`);
    checkShape(Bv, [D, 8 * H], "B", what);
    return Bv.data;
  }

  /** Our quantized layer over the file's integers: int8 when every integer fits ±127, else int12 (exact in int16). */
  function buildLayer(inputs: (Value | null)[], I: number): QuantizedLayer {
    const { H, wih, whh } = weights(inputs, I);
    const bias = biasOf(inputs, H);
    const fits = [...wih, ...whh].every((m) => m.q.every((v) => v >= -127 && v <= 127));
    const dtype: QuantDtype = fits ? "int8" : "int12";
    const reorder = (v: Float32Array) => {
      const out = new Float32Array(4 * H);
      TORCH_FROM_ONNX.forEach((from, to) => out.set(v.subarray(from * H, (from + 1) * H), to * H));
      return out;
    };
    const run: QuantRunData[] = Array.from({ length: D }, (_, d) => ({
      wih: [{ q: fits ? Int8Array.from(wih[d].q) : wih[d].q, scale: wih[d].scale }],
      whh: { q: fits ? Int8Array.from(whh[d].q) : whh[d].q, scale: whh[d].scale },
      whr: null,
      bih: bias ? reorder(bias.subarray(d * 8 * H, d * 8 * H + 4 * H)) : null,
      bhh: bias ? reorder(bias.subarray(d * 8 * H + 4 * H, (d + 1) * 8 * H)) : null,
    }));
    const spec = makeSpec("lstm", { inputSize: I, hiddenSize: H, bidirectional: D === 2, bias: bias !== null });
    const options = engineOptions({ backend: ctx.backend.backend, runtime: ctx.backend.runtime, nanPolicy: ctx.backend.nanPolicy }, "wasm");
    return quantizedFrom(buildQuantized(spec, [run], dtype, options, `${what} (DynamicQuantizeLSTM)`)) as QuantizedLayer;
  }

  /** W and R dequantized to float32, shaped as ONNX's LSTM takes them. */
  function floatWeights(inputs: (Value | null)[], I: number): [Value, Value] {
    const { H, wih, whh } = weights(inputs, I);
    const join = (rows: Rows[], K: number) => {
      const out = new Float32Array(D * 4 * H * K);
      rows.forEach((r, d) => out.set(dequantized(r, K, H), d * 4 * H * K));
      return floatValue([D, 4 * H, K], out);
    };
    return [join(wih, I), join(whh, H)];
  }

  return {
    run(inputs) {
      if (disposed) throw new RnnError("disposed", `${what}: the model was disposed`);
      const X = need(inputs, 0, "X", what, "float");
      if (X.shape.length !== 3) throw new RnnError("shape", `${what}: X has shape ${shapeText(X.shape)}, expected [seq_length, batch_size, input_size]`);
      const [T, B, I] = X.shape;
      if (T < 1 || B < 1 || I < 1) throw new RnnError("shape", `${what}: X has shape ${shapeText(X.shape)}: need at least one step, one batch row and one feature`);
      for (const k of [5, 6, 7]) {
        if (inputs[k] && inputs[k]!.kind !== "float") throw new RnnError("dtype", `${what}: input ${NAMES[k]} must be a float tensor`);
      }
      const P = inputs[7] ?? null;
      const seq = inputs[4] ?? null;
      const lengths = seq ? lengthsOf(seq, B, T, what) : null;
      const quantized = !ctx.onnxReference && attrsFit && (!P || P.data.every((p) => p === 0)) && (!lengths || lengths.every((n) => n >= 1));
      if (!quantized) {
        const [Wf, Rf] = cachedFloat ?? floatWeights(inputs, I);
        if (constant) cachedFloat = [Wf, Rf];
        return floatKernel.run([X, Wf, Rf, ...inputs.slice(3, 8)]);
      }
      const layer = cachedLayer ?? buildLayer(inputs, I);
      if (constant) cachedLayer = layer;
      try {
        const H = layer.spec.hiddenSize;
        const state = (k: number, name: string) => {
          const v = inputs[k] ?? null;
          if (v) checkShape(v, [D, B, H], name, what);
          return v ? { shape: [D, B, H], data: v.data as Float32Array } : undefined;
        };
        const h0 = state(5, "initial_h"), c0 = state(6, "initial_c");
        if (P) checkShape(P, [D, 3 * H], "P", what);
        // direction "reverse": the forward layer over each row's steps in reverse order, its outputs put back
        const reverse = direction === "reverse";
        const x = reverse ? reverseSteps(X.data as Float32Array, T, B, I, lengths, false) : (X.data as Float32Array);
        const r = layer.forward({ shape: [T, B, I], data: x }, { ...(h0 ? { h0 } : {}), ...(c0 ? { c0 } : {}), ...(lengths ? { lengths } : {}) });
        const out = reverse ? reverseSteps(r.output.data, T, B, H, lengths, false) : r.output.data;
        return [floatValue([T, D, B, H], D === 1 ? out : swap12(out, T, B, D, H)), floatValue([D, B, H], r.hN.data), floatValue([D, B, H], r.cN!.data)];
      } finally {
        if (!constant) layer.dispose();
      }
    },
    dispose() {
      disposed = true;
      cachedLayer?.dispose();
      cachedLayer = null;
      floatKernel.dispose();
    },
  };
}
