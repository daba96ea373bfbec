// src/tfjs/layers.ts: the Keras / tfjs-layers layers fromTfjs runs, each built once from its config and weights into
// an Op: values in (a tensor and its mask), values out. Tensors are batch-first, as Keras holds them. Masks are
// (B, T) of 0/1: Masking and Embedding(mask_zero) make them; Dropout, Activation, Dense and TimeDistributed pass
// them on; a recurrent layer consumes its input's mask and passes it on only with return_sequences.
import { RnnError } from "../errors.js";
import type { BackendOptions } from "../recurrent-base.js";
import type { Tensor } from "../tensor.js";
import { applyActivation } from "./activations.js";
import { GATES, KerasRecurrent, type DirectionResult, type KerasCellConfig, type KerasKind, type RecurrentPath } from "./recurrent.js";
import { checkWeightShape, type WeightStore } from "./weights.js";

/** A tensor with its Keras mask (B, T), or null. */
export interface Value {
  tensor: Tensor;
  mask: Uint8Array | null;
}

/** A built layer. */
export interface Op {
  run(inputs: Value[]): Value[];
  dispose(): void;
}

/** A layer's config as the topology holds it. */
export interface LayerSpec {
  class_name: string;
  config: Record<string, unknown>;
}

/** What building a layer needs besides its spec. */
export interface BuildContext {
  weights: WeightStore;
  backend: BackendOptions;
  path: RecurrentPath;
  /** The file's keras_version is 3 or later (hard_sigmoid is Keras 3's). */
  keras3: boolean;
}

const RECURRENT: Record<string, KerasKind> = { LSTM: "lstm", GRU: "gru", SimpleRNN: "rnn" };
const IDENTITY = new Set(["InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout"]);
/** The classes fromTfjs builds (for error messages). */
export const SUPPORTED = ["InputLayer", "Dropout", "SpatialDropout1D", "Activation", "Masking", "Embedding", "Dense",
  "TimeDistributed(Dense)", "LSTM", "GRU", "SimpleRNN", "Bidirectional"];

function layerName(spec: LayerSpec): string {
  return typeof spec.config?.name === "string" ? spec.config.name : "(unnamed)";
}

function opt<T>(config: Record<string, unknown>, key: string, fallback: T, what: string, type: "boolean" | "number" | "string"): T {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== type) throw new RnnError("format", `${what}: ${key} is ${JSON.stringify(v)}, expected a ${type}`);
  return v as T;
}

function positiveInt(config: Record<string, unknown>, key: string, what: string): number {
  const v = config[key];
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw new RnnError("format", `${what}: ${key} is ${JSON.stringify(v)}, expected a positive integer`);
  return v as number;
}

function one(inputs: Value[], what: string): Value {
  if (inputs.length !== 1) throw new RnnError("unexpected", `${what}: takes one input, got ${inputs.length}`);
  return inputs[0];
}

function shapeText(shape: number[]): string {
  return `[${shape.join(", ")}]`;
}

/** x (..., I) times kernel (I, N) plus bias (N), then the activation: Keras Dense over the last axis. */
function dense(x: Tensor, kernel: Float32Array, bias: Float32Array | null, I: number, N: number, activation: unknown, what: string, keras3: boolean): Tensor {
  if (x.shape.length < 2 || x.shape[x.shape.length - 1] !== I) throw new RnnError("shape", `${what}: input has shape ${shapeText(x.shape)}, expected [..., ${I}]`);
  const rows = x.data.length / I;
  const out = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    const o = out.subarray(r * N, (r + 1) * N);
    if (bias) o.set(bias);
    for (let i = 0; i < I; i++) {
      const v = x.data[r * I + i];
      if (v !== 0) for (let n = 0; n < N; n++) o[n] += v * kernel[i * N + n];
    }
  }
  applyActivation(out, N, activation, what, keras3);
  return { shape: [...x.shape.slice(0, -1), N], data: Float32Array.from(out) };
}

function buildDense(spec: LayerSpec, names: string[], ctx: BuildContext, what: string): Op {
  const c = spec.config;
  const N = positiveInt(c, "units", what);
  const useBias = opt(c, "use_bias", true, what, "boolean");
  const k = ctx.weights.find(names, "kernel", null, what);
  if (k.shape.length !== 2) throw new RnnError("shape", `${what}: weight ${k.name} has shape ${shapeText(k.shape)}, expected [inputs, ${N}]`);
  const I = k.shape[0];
  const kernel = checkWeightShape(k, [I, N], what);
  const bias = useBias ? checkWeightShape(ctx.weights.find(names, "bias", null, what), [N], what) : null;
  const activation = c.activation ?? "linear";
  applyActivation(new Float64Array(N), N, activation, what); // an unknown activation fails at load time
  return {
    run: (inputs) => {
      const v = one(inputs, what);
      return [{ tensor: dense(v.tensor, kernel, bias, I, N, activation, what, ctx.keras3), mask: v.mask }];
    },
    dispose: () => {},
  };
}

function cellConfig(kind: KerasKind, c: Record<string, unknown>, what: string, goBackwards: boolean): KerasCellConfig {
  if (opt(c, "stateful", false, what, "boolean")) throw new RnnError("unexpected", `${what}: stateful layers are not supported (predict starts every call from zero states)`);
  if (opt(c, "time_major", false, what, "boolean")) throw new RnnError("unexpected", `${what}: time_major layers are not supported`);
  return {
    kind,
    units: positiveInt(c, "units", what),
    activation: opt(c, "activation", "tanh", what, "string"),
    // tfjs-layers' default when a config leaves it out (Keras 2 and tfjs: hard_sigmoid)
    recurrentActivation: opt(c, "recurrent_activation", "hard_sigmoid", what, "string"),
    resetAfter: kind === "gru" && opt(c, "reset_after", false, what, "boolean"),
    goBackwards,
  };
}

/** One direction of a recurrent layer: its config checked and its weights found and shape-checked. */
function buildDirection(kind: KerasKind, c: Record<string, unknown>, names: string[], part: string | null, goBackwards: boolean, ctx: BuildContext, what: string): KerasRecurrent {
  const cfg = cellConfig(kind, c, what, goBackwards);
  const H = cfg.units, GH = GATES[kind] * H;
  const k = ctx.weights.find(names, "kernel", part, what);
  if (k.shape.length !== 2) throw new RnnError("shape", `${what}: weight ${k.name} has shape ${shapeText(k.shape)}, expected [inputs, ${GH}]`);
  const I = k.shape[0];
  const kernel = checkWeightShape(k, [I, GH], what);
  const recurrentKernel = checkWeightShape(ctx.weights.find(names, "recurrent_kernel", part, what), [H, GH], what);
  let bias: Float32Array | null = null;
  if (opt(c, "use_bias", true, what, "boolean")) {
    bias = checkWeightShape(ctx.weights.find(names, "bias", part, what), cfg.resetAfter ? [2, GH] : [GH], what);
  }
  return new KerasRecurrent(cfg, { kernel, recurrentKernel, bias }, I, ctx.backend, ctx.path, what, ctx.keras3);
}

function checkRecurrentInput(v: Value, I: number, what: string): [number, number] {
  const s = v.tensor.shape;
  if (s.length !== 3 || s[2] !== I) throw new RnnError("shape", `${what}: input has shape ${shapeText(s)}, expected [batch, steps, ${I}]`);
  if (s[1] < 1) throw new RnnError("shape", `${what}: input has shape ${shapeText(s)}: needs at least one step`);
  return [s[0], s[1]];
}

/** (B, T, H) with time reversed. */
function reverseTime(seq: Float32Array, B: number, T: number, H: number): Float32Array {
  const out = new Float32Array(seq.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.set(seq.subarray((b * T + T - 1 - t) * H, (b * T + T - t) * H), (b * T + t) * H);
  return out;
}

function buildRecurrent(kind: KerasKind, spec: LayerSpec, ctx: BuildContext, what: string): Op {
  const c = spec.config;
  const returnSequences = opt(c, "return_sequences", false, what, "boolean");
  const returnState = opt(c, "return_state", false, what, "boolean");
  const cell = buildDirection(kind, c, [layerName(spec)], null, opt(c, "go_backwards", false, what, "boolean"), ctx, what);
  const H = cell.cfg.units;
  return {
    run: (inputs) => {
      const v = one(inputs, what);
      const [B, T] = checkRecurrentInput(v, cell.inputSize, what);
      const r = cell.run(v.tensor.data, B, T, v.mask);
      const out: Value = returnSequences
        ? { tensor: { shape: [B, T, H], data: r.sequence }, mask: v.mask }
        : { tensor: { shape: [B, H], data: r.states[0].slice() }, mask: null };
      return returnState ? [out, ...r.states.map((s) => ({ tensor: { shape: [B, H], data: s }, mask: null }))] : [out];
    },
    dispose: () => cell.dispose(),
  };
}

function buildBidirectional(spec: LayerSpec, ctx: BuildContext, what: string): Op {
  const c = spec.config;
  const inner = c.layer as LayerSpec | undefined;
  const kind = inner && typeof inner === "object" ? RECURRENT[inner.class_name] : undefined;
  if (!kind || typeof inner!.config !== "object" || inner!.config === null) {
    throw new RnnError("unexpected", `${what}: wraps ${inner && typeof inner === "object" ? `layer class ${inner.class_name}` : "no layer"}; supported: LSTM, GRU, SimpleRNN`);
  }
  const mergeMode = c.merge_mode === undefined ? "concat" : c.merge_mode;
  if (!["concat", "sum", "mul", "ave"].includes(mergeMode as string)) {
    throw new RnnError("unexpected", `${what}: merge_mode ${JSON.stringify(mergeMode)} is not supported (concat, sum, mul, ave)`);
  }
  const ic = inner!.config;
  const returnSequences = opt(ic, "return_sequences", false, what, "boolean");
  const returnState = opt(ic, "return_state", false, what, "boolean");
  const back = opt(ic, "go_backwards", false, what, "boolean");
  const names = [layerName(spec)];
  const forward = buildDirection(kind, ic, names, "forward_", back, ctx, `${what} (forward)`);
  const backward = buildDirection(kind, ic, names, "backward_", !back, ctx, `${what} (backward)`);
  const H = forward.cfg.units;
  if (backward.inputSize !== forward.inputSize || backward.cfg.units !== H) throw new RnnError("shape", `${what}: the forward and backward weights have different sizes`);
  const merge = (a: Float32Array, b: Float32Array, rows: number): [Float32Array, number] => {
    if (mergeMode === "concat") {
      const out = new Float32Array(rows * 2 * H);
      for (let r = 0; r < rows; r++) {
        out.set(a.subarray(r * H, (r + 1) * H), r * 2 * H);
        out.set(b.subarray(r * H, (r + 1) * H), r * 2 * H + H);
      }
      return [out, 2 * H];
    }
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      out[i] = mergeMode === "sum" ? a[i] + b[i] : mergeMode === "mul" ? a[i] * b[i] : (a[i] + b[i]) / 2;
    }
    return [out, H];
  };
  return {
    run: (inputs) => {
      const v = one(inputs, what);
      const [B, T] = checkRecurrentInput(v, forward.inputSize, what);
      const f: DirectionResult = forward.run(v.tensor.data, B, T, v.mask);
      const b: DirectionResult = backward.run(v.tensor.data, B, T, v.mask);
      let out: Value;
      if (returnSequences) {
        const [data, width] = merge(f.sequence, reverseTime(b.sequence, B, T, H), B * T);
        out = { tensor: { shape: [B, T, width], data }, mask: v.mask };
      } else {
        const [data, width] = merge(f.states[0], b.states[0], B);
        out = { tensor: { shape: [B, width], data }, mask: null };
      }
      if (!returnState) return [out];
      return [out, ...[...f.states, ...b.states].map((s) => ({ tensor: { shape: [B, H], data: s }, mask: null }))];
    },
    dispose: () => { forward.dispose(); backward.dispose(); },
  };
}

function buildEmbedding(spec: LayerSpec, ctx: BuildContext, what: string): Op {
  const c = spec.config;
  const V = positiveInt(c, "input_dim", what), D = positiveInt(c, "output_dim", what);
  const maskZero = opt(c, "mask_zero", false, what, "boolean");
  const table = checkWeightShape(ctx.weights.find([layerName(spec)], "embeddings", null, what), [V, D], what);
  return {
    run: (inputs) => {
      const ids = one(inputs, what).tensor;
      if (maskZero && ids.shape.length !== 2) throw new RnnError("shape", `${what}: mask_zero needs input [batch, steps], got ${shapeText(ids.shape)}`);
      const n = ids.data.length;
      const out = new Float32Array(n * D);
      const mask = maskZero ? new Uint8Array(n) : null;
      for (let i = 0; i < n; i++) {
        const id = ids.data[i];
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new RnnError("shape", `${what}: input[${i}] = ${id} is not an index in [0, ${V})`);
        out.set(table.subarray(id * D, (id + 1) * D), i * D);
        if (mask) mask[i] = id !== 0 ? 1 : 0;
      }
      return [{ tensor: { shape: [...ids.shape, D], data: out }, mask }];
    },
    dispose: () => {},
  };
}

function buildMasking(spec: LayerSpec, what: string): Op {
  const maskValue = opt(spec.config, "mask_value", 0, what, "number");
  return {
    run: (inputs) => {
      const x = one(inputs, what).tensor;
      if (x.shape.length !== 3) throw new RnnError("shape", `${what}: input has shape ${shapeText(x.shape)}, expected [batch, steps, features]`);
      const [B, T, F] = x.shape;
      const mask = new Uint8Array(B * T), data = x.data.slice();
      for (let s = 0; s < B * T; s++) {
        for (let f = 0; f < F; f++) if (x.data[s * F + f] !== maskValue) { mask[s] = 1; break; }
        if (!mask[s]) data.fill(0, s * F, (s + 1) * F);
      }
      return [{ tensor: { shape: [B, T, F], data }, mask }];
    },
    dispose: () => {},
  };
}

/** Builds `spec` into an Op; RnnError('unexpected') naming the layer and its class when it is not one we run. */
export function buildLayer(spec: LayerSpec, ctx: BuildContext): Op {
  if (!spec || typeof spec !== "object" || typeof spec.class_name !== "string" || typeof spec.config !== "object" || spec.config === null) {
    throw new RnnError("format", `a layer of the topology has no class_name and config: ${JSON.stringify(spec)?.slice(0, 200)}`);
  }
  const name = layerName(spec), cls = spec.class_name;
  const what = `layer ${name} (${cls})`;
  if (IDENTITY.has(cls)) return { run: (inputs) => [one(inputs, what)], dispose: () => {} };
  if (cls === "Activation") {
    const activation = spec.config.activation ?? "linear";
    applyActivation(new Float64Array(1), 1, activation, what);
    return {
      run: (inputs) => {
        const v = one(inputs, what), data = Float64Array.from(v.tensor.data);
        applyActivation(data, v.tensor.shape[v.tensor.shape.length - 1] ?? 1, activation, what, ctx.keras3);
        return [{ tensor: { shape: [...v.tensor.shape], data: Float32Array.from(data) }, mask: v.mask }];
      },
      dispose: () => {},
    };
  }
  if (cls === "Masking") return buildMasking(spec, what);
  if (cls === "Embedding") return buildEmbedding(spec, ctx, what);
  if (cls === "Dense") return buildDense(spec, [name], ctx, what);
  if (cls === "TimeDistributed") {
    const inner = spec.config.layer as LayerSpec | undefined;
    if (!inner || inner.class_name !== "Dense" || typeof inner.config !== "object" || inner.config === null) {
      throw new RnnError("unexpected", `${what}: wraps ${inner?.class_name ?? "no layer"}; only TimeDistributed(Dense) is supported`);
    }
    return buildDense(inner, [name, layerName(inner)], ctx, what);
  }
  if (cls in RECURRENT) return buildRecurrent(RECURRENT[cls], spec, ctx, what);
  if (cls === "Bidirectional") return buildBidirectional(spec, ctx, what);
  throw new RnnError("unexpected", `${what}: layer class ${cls} is not supported (supported: ${SUPPORTED.join(", ")})`);
}
