// src/onnx/recurrent.ts: the ONNX operators LSTM, GRU and RNN (opsets 7 to 22: layout since 14).
// Inputs   X (T,B,I) [layout 1: (B,T,I)], W (D,G*H,I), R (D,G*H,H), B (D,2*G*H) = Wb then Rb, sequence_lens (B),
//          initial_h (D,B,H) [layout 1: (B,D,H)], LSTM: initial_c as initial_h, P (D,3H) = Pi, Po, Pf
// Outputs  Y (T,D,B,H) [layout 1: (B,T,D,H)], Y_h (D,B,H) [layout 1: (B,D,H)], LSTM: Y_c as Y_h
// Gate orders: ONNX LSTM i, o, f, c (PyTorch i, f, g, o); GRU z, r, h (PyTorch r, z, n); G = 4, 3, 1.
// The operator validates the attributes once, when the model loads, and each call's tensors; then one of two paths
// runs it (chosen per call, both give the spec's results):
//   - wasm: when the attributes are ones our layers compute (default activations, or Relu for an RNN; no clip, no
//     input_forget, no nonzero peepholes; every row at least one step long; direction "reverse" runs the forward
//     layer on each row's steps reversed, and reverses its outputs back), the weights
//     are reordered into PyTorch's gate order (Wb -> bias_ih, Rb -> bias_hh; linear_before_reset 1 -> the GRU's
//     reset-after form, 0 -> reset-before) and an LSTM/GRU/RNN layer runs the sequence (batchFirst for layout 1).
//     A node whose W, R and B are initializers builds its layer once; otherwise one per call, freed after it;
//   - reference: everything else, in plain TypeScript (recurrent-reference.ts; slower).
import { RnnError } from "../errors.js";
import { GRU, LSTM, RNN, type RecurrentLayer } from "../layers.js";
import type { Kind } from "../architecture.js";
import type { NodeMsg } from "./proto.js";
import { Attributes, checkShape, need, type Kernel, type NodeContext } from "./node.js";
import { onnxGates, recurrentReference, type Activation, type RecurrentConfig } from "./recurrent-reference.js";
import { floatValue, shapeText, type Value } from "./values.js";

/** The activations ONNX lists for the recurrent operators, and whether each takes alpha and beta (ONNX Runtime's table). */
const ACTIVATIONS: Record<string, { alpha: boolean; beta: boolean; make: (a: number, b: number) => (x: number) => number }> = {
  sigmoid: { alpha: false, beta: false, make: () => (x) => 1 / (1 + Math.exp(-x)) },
  tanh: { alpha: false, beta: false, make: () => Math.tanh },
  relu: { alpha: false, beta: false, make: () => (x) => (x > 0 ? x : 0) },
  affine: { alpha: true, beta: true, make: (a, b) => (x) => a * x + b },
  leakyrelu: { alpha: true, beta: false, make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { alpha: true, beta: false, make: (a) => (x) => (x >= a ? x : 0) },
  scaledtanh: { alpha: true, beta: true, make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { alpha: true, beta: true, make: (a, b) => (x) => Math.min(Math.max(a * x + b, 0), 1) },
  elu: { alpha: true, beta: false, make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
  softsign: { alpha: false, beta: false, make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { alpha: false, beta: false, make: () => (x) => (x > 30 ? x : Math.log1p(Math.exp(x))) },
};
/** Alpha/beta when the lists run out (ONNX Runtime's defaults; every other activation gets 0). */
const ACTIVATION_DEFAULTS: Record<string, [number, number]> = { leakyrelu: [0.01, 0], hardsigmoid: [0.2, 0.5], elu: [1, 0] };
const DEFAULT_ACTIVATIONS: Record<Kind, string[]> = { lstm: ["Sigmoid", "Tanh", "Tanh"], gru: ["Sigmoid", "Tanh"], rnn: ["Tanh"] };

const KNOWN: Record<Kind, string[]> = {
  lstm: ["hidden_size", "direction", "activations", "activation_alpha", "activation_beta", "clip", "input_forget", "layout"],
  gru: ["hidden_size", "direction", "activations", "activation_alpha", "activation_beta", "clip", "linear_before_reset", "layout"],
  rnn: ["hidden_size", "direction", "activations", "activation_alpha", "activation_beta", "clip", "layout"],
};
const INPUT_NAMES = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"];

/**
 * The `activations` list resolved: alpha and beta are consumed in order, only by the activations that take them, and
 * default as ONNX Runtime defaults them when the lists are shorter; a list for one direction serves both.
 */
function resolveActivations(kind: Kind, D: number, attrs: Attributes, what: string): Activation[][] {
  const k = DEFAULT_ACTIVATIONS[kind].length;
  let names = attrs.strings("activations") ?? Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[kind]).flat();
  if (D === 2 && names.length === k) names = [...names, ...names];
  if (names.length !== k * D) {
    throw new RnnError("shape", `${what}: activations lists ${names.length} functions, expected ${k * D} (${k} per direction: ${DEFAULT_ACTIVATIONS[kind].join(", ")})`);
  }
  const alphas = attrs.floats("activation_alpha") ?? [], betas = attrs.floats("activation_beta") ?? [];
  let ai = 0, bi = 0;
  const all = names.map((name) => {
    const key = name.toLowerCase();
    const spec = ACTIVATIONS[key];
    if (!spec) throw new RnnError("unexpected", `${what}: activation ${name} is not one the spec lists (${Object.keys(ACTIVATIONS).join(", ")}; any case)`);
    const [da, db] = ACTIVATION_DEFAULTS[key] ?? [0, 0];
    const alpha = spec.alpha ? (ai < alphas.length ? alphas[ai++] : (ai++, da)) : 0;
    const beta = spec.beta ? (bi < betas.length ? betas[bi++] : (bi++, db)) : 0;
    return { name, alpha, beta, fn: spec.make(alpha, beta) };
  });
  return Array.from({ length: D }, (_, d) => all.slice(d * k, (d + 1) * k));
}

/** PyTorch's gate block b is ONNX's block ORDER[kind][b]. */
const TORCH_FROM_ONNX: Record<Kind, number[]> = { lstm: [0, 2, 3, 1], gru: [1, 0, 2], rnn: [0] };

/** Rows of direction d's gate blocks (each H rows of `cols`), in PyTorch's gate order. */
function torchRows(src: Float32Array, d: number, kind: Kind, H: number, cols: number): Float32Array {
  const G = onnxGates(kind), block = H * cols;
  const out = new Float32Array(G * block);
  TORCH_FROM_ONNX[kind].forEach((from, to) => out.set(src.subarray((d * G + from) * block, (d * G + from + 1) * block), to * block));
  return out;
}

/** (A, B, rest) -> (B, A, rest). */
function swap01(data: Float32Array, A: number, B: number, rest: number): Float32Array {
  if (A === 1 || B === 1) return data.slice();
  const out = new Float32Array(data.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) out.set(data.subarray((a * B + b) * rest, (a * B + b + 1) * rest), (b * A + a) * rest);
  return out;
}

/** (T, A, B, rest) -> (T, B, A, rest). */
export function swap12(data: Float32Array, T: number, A: number, B: number, rest: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let t = 0; t < T; t++) out.set(swap01(data.subarray(t * A * B * rest, (t + 1) * A * B * rest), A, B, rest), t * A * B * rest);
  return out;
}

/** sequence_lens as Int32Array: int32 tensor, or float32 holding whole numbers; each in [0, T]. */
export function lengthsOf(v: Value, B: number, T: number, what: string): Int32Array {
  checkShape(v, [B], "sequence_lens", what);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const n = v.data[b];
    if (!Number.isInteger(n) || n < 0 || n > T) {
      throw new RnnError("shape", `${what}: sequence_lens[${b}] = ${n} is not a whole number of steps in [0, ${T}]`);
    }
    out[b] = n;
  }
  return out;
}

export function recurrentKernel(kind: Kind, node: NodeMsg, ctx: NodeContext): Kernel {
  const what = ctx.what;
  const attrs = new Attributes(node, what, KNOWN[kind]);
  const direction = attrs.string("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) {
    throw new RnnError("unexpected", `${what}: direction "${direction}" is not forward, reverse or bidirectional`);
  }
  const D = direction === "bidirectional" ? 2 : 1;
  const layout = attrs.int("layout", 0);
  if (layout !== 0 && layout !== 1) throw new RnnError("unexpected", `${what}: layout ${layout} is not 0 or 1`);
  const clip = attrs.float("clip", null);
  if (clip !== null && !(clip >= 0)) throw new RnnError("unexpected", `${what}: clip ${clip} must be a non-negative number`);
  const inputForget = attrs.int("input_forget", 0) !== 0;
  const linearBeforeReset = attrs.int("linear_before_reset", 0) !== 0;
  const activations = resolveActivations(kind, D, attrs, what);
  const hiddenAttr = attrs.has("hidden_size") ? attrs.int("hidden_size", 0) : null;
  if (hiddenAttr !== null && !(Number.isSafeInteger(hiddenAttr) && hiddenAttr >= 1)) throw new RnnError("shape", `${what}: hidden_size ${hiddenAttr} must be a positive integer`);
  if (node.inputs.length < 3 || node.inputs.length > (kind === "lstm" ? 8 : 6)) {
    throw new RnnError("format", `${what}: has ${node.inputs.length} inputs; ${node.opType} takes X, W, R and up to ${kind === "lstm" ? 5 : 3} optional ones`);
  }
  if (node.outputs.length > (kind === "lstm" ? 3 : 2)) throw new RnnError("format", `${what}: has ${node.outputs.length} outputs; ${node.opType} has ${kind === "lstm" ? "Y, Y_h and Y_c" : "Y and Y_h"}`);

  // the wasm layers compute the default activations (and an RNN's Relu) with no clip and no input_forget, in any direction
  const names = activations.map((list) => list.map((a) => a.name.toLowerCase()).join(","));
  const defaults = DEFAULT_ACTIVATIONS[kind].map((n) => n.toLowerCase()).join(",");
  const nonlinearity = kind === "rnn" && names.every((n) => n === "relu") ? "relu" : "tanh";
  const attrsFit = clip === null && !inputForget && (names.every((n) => n === defaults) || nonlinearity === "relu");
  const constantWeights = [1, 2, 3].every((k) => !node.inputs[k] || ctx.constants.has(node.inputs[k]));
  let cached: RecurrentLayer | null = null;
  let disposed = false;

  function buildLayer(W: Float32Array, R: Float32Array, bias: Float32Array | null, H: number, I: number): RecurrentLayer {
    const params: Record<string, Float32Array> = {};
    for (let d = 0; d < D; d++) {
      const sfx = d === 1 ? "_reverse" : "";
      params[`weight_ih_l0${sfx}`] = torchRows(W, d, kind, H, I);
      params[`weight_hh_l0${sfx}`] = torchRows(R, d, kind, H, H);
      if (bias) {
        const G = onnxGates(kind);
        params[`bias_ih_l0${sfx}`] = torchRows(bias.subarray(d * 2 * G * H, d * 2 * G * H + G * H), 0, kind, H, 1);
        params[`bias_hh_l0${sfx}`] = torchRows(bias.subarray(d * 2 * G * H + G * H, (d + 1) * 2 * G * H), 0, kind, H, 1);
      }
    }
    const options = { inputSize: I, hiddenSize: H, bidirectional: D === 2, batchFirst: layout === 1, bias: bias !== null, ...ctx.backend };
    if (kind === "lstm") return new LSTM(options, params);
    if (kind === "gru") return new GRU({ ...options, resetAfter: linearBeforeReset }, params);
    return new RNN({ ...options, nonlinearity }, params);
  }

  return {
    run(inputs) {
      if (disposed) throw new RnnError("disposed", `${what}: the model was disposed`);
      const X = need(inputs, 0, "X", what, "float"), W = need(inputs, 1, "W", what, "float"), R = need(inputs, 2, "R", what, "float");
      if (X.shape.length !== 3) throw new RnnError("shape", `${what}: X has shape ${shapeText(X.shape)}, expected ${layout === 0 ? "[seq_length, batch_size, input_size]" : "[batch_size, seq_length, input_size]"}`);
      const [T, B] = layout === 0 ? [X.shape[0], X.shape[1]] : [X.shape[1], X.shape[0]];
      const I = X.shape[2];
      const G = onnxGates(kind);
      const H = hiddenAttr ?? R.shape[R.shape.length - 1];
      checkShape(W, [D, G * H, I], "W", what);
      checkShape(R, [D, G * H, H], "R", what);
      const opt = (k: number): Value | null => {
        const v = inputs[k] ?? null;
        if (v && k !== 4 && v.kind !== "float") throw new RnnError("dtype", `${what}: input ${INPUT_NAMES[k]} must be a float tensor`);
        return v;
      };
      const Bv = opt(3), seqV = opt(4), h0v = opt(5), c0v = kind === "lstm" ? opt(6) : null, Pv = kind === "lstm" ? opt(7) : null;
      if (Bv) checkShape(Bv, [D, 2 * G * H], "B", what);
      const stateShape = layout === 0 ? [D, B, H] : [B, D, H];
      if (h0v) checkShape(h0v, stateShape, "initial_h", what);
      if (c0v) checkShape(c0v, stateShape, "initial_c", what);
      if (Pv) checkShape(Pv, [D, 3 * H], "P", what);
      const lengths = seqV ? lengthsOf(seqV, B, T, what) : null;
      if (T < 1 || B < 1 || I < 1) throw new RnnError("shape", `${what}: X has shape ${shapeText(X.shape)}: need at least one step, one batch row and one feature`);
      const Ystate = (data: Float32Array) => floatValue(stateShape, layout === 0 ? data : swap01(data, D, B, H));
      const states = (v: Value | null) => (v === null ? null : layout === 0 ? (v.data as Float32Array) : swap01(v.data as Float32Array, B, D, H));

      const wasm = !ctx.onnxReference && attrsFit && (!Pv || Pv.data.every((p) => p === 0)) && (!lengths || lengths.every((n) => n >= 1));
      if (!wasm) {
        const x = layout === 0 ? (X.data as Float32Array) : swap01(X.data as Float32Array, B, T, I);
        const cfg: RecurrentConfig = { kind, hiddenSize: H, directions: D, reverse: direction === "reverse", activations, clip, inputForget, linearBeforeReset };
        const r = recurrentReference(cfg, x, W.data as Float32Array, R.data as Float32Array, (Bv?.data as Float32Array) ?? null, lengths,
          states(h0v), states(c0v), (Pv?.data as Float32Array) ?? null, T, B, I);
        const Y = layout === 0 ? floatValue([T, D, B, H], r.Y) : floatValue([B, T, D, H], toLayout1(r.Y, T, D, B, H));
        return [Y, Ystate(r.Yh), Ystate(r.Yc)];
      }
      let layer = cached;
      if (!layer) {
        layer = buildLayer(W.data as Float32Array, R.data as Float32Array, (Bv?.data as Float32Array) ?? null, H, I);
        cached = constantWeights ? layer : null;
      }
      try {
        const h0 = states(h0v), c0 = states(c0v);
        // direction "reverse": the forward layer over each row's steps in reverse order, its outputs put back
        const reverse = direction === "reverse";
        const x = reverse ? reverseSteps(X.data as Float32Array, T, B, I, lengths, layout === 1) : (X.data as Float32Array);
        const r = layer.forward({ shape: [...X.shape], data: x }, {
          ...(h0 ? { h0: { shape: [D, B, H], data: h0 } } : {}),
          ...(c0 ? { c0: { shape: [D, B, H], data: c0 } } : {}),
          ...(lengths ? { lengths } : {}),
        });
        const out = reverse ? reverseSteps(r.output.data, T, B, H, lengths, layout === 1) : r.output.data;
        // layer output: [T, B, D*H] (layout 1: [B, T, D*H], which is ONNX's [B, T, D, H] already)
        const Y = layout === 0 ? floatValue([T, D, B, H], D === 1 ? out : swap12(out, T, B, D, H)) : floatValue([B, T, D, H], out);
        return [Y, Ystate(r.hN.data), kind === "lstm" ? Ystate(r.cN!.data) : null];
      } finally {
        if (!constantWeights) layer.dispose();
      }
    },
    dispose() {
      disposed = true;
      cached?.dispose();
      cached = null;
    },
  };
}

/**
 * Each row's first lengths[b] steps in reverse order (steps past them copied as they are): x (T,B,F), or (B,T,F)
 * when batchFirst. Its own inverse.
 */
export function reverseSteps(x: Float32Array, T: number, B: number, F: number, lengths: Int32Array | null, batchFirst: boolean): Float32Array {
  const out = x.slice();
  const at = (t: number, b: number) => (batchFirst ? b * T + t : t * B + b) * F;
  for (let b = 0; b < B; b++) {
    const L = lengths ? lengths[b] : T;
    for (let t = 0; t < L; t++) out.set(x.subarray(at(L - 1 - t, b), at(L - 1 - t, b) + F), at(t, b));
  }
  return out;
}

/** (T, D, B, H) -> (B, T, D, H). */
function toLayout1(Y: Float32Array, T: number, D: number, B: number, H: number): Float32Array {
  const out = new Float32Array(Y.length);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) {
    out.set(Y.subarray(((t * D + d) * B + b) * H, ((t * D + d) * B + b + 1) * H), ((b * T + t) * D + d) * H);
  }
  return out;
}
