// src/onnx/glue.ts: the operators exporters write around the recurrent nodes (PyTorch's torch.onnx.export: shape
// arithmetic for the initial states, layout changes between layers, the Linear head; TensorFlow's tf2onnx the same
// kinds), in plain TypeScript. Small tensors or one pass over the data each: the recurrent nodes are where the time
// goes. Semantics as the ONNX spec states them, opset 7 on; where an opset changed an operator (Squeeze/Unsqueeze
// axes from attribute to input in 13, Slice to inputs in 10, Softmax's axis in 13) both forms are read.
// Broadcasting is numpy's (multidirectional) for the elementwise operators and MatMul's batch axes.
import { RnnError } from "../errors.js";
import { numel } from "../tensor.js";
import { Attributes, need, type Kernel, type NodeContext } from "./node.js";
import { DT, type NodeMsg } from "./proto.js";
import { FLOAT_TYPES, INT_TYPES, floatValue, intValue, shapeText, type Value } from "./values.js";

type Run = (inputs: (Value | null)[]) => (Value | null)[];

/** A kernel with no state to free. */
function kernel(run: Run): Kernel {
  return { run, dispose() {} };
}

function makeLike(kind: Value["kind"], shape: number[], data: ArrayLike<number>): Value {
  return kind === "float" ? floatValue(shape, Float32Array.from(data)) : intValue(shape, Float64Array.from(data));
}

/** Most values one tensor of a glue operator may hold (a hostile shape must not take the process down). */
const MAX_VALUES = 2 ** 28;

function emptyLike(kind: Value["kind"], shape: number[]): Value {
  const n = numel(shape);
  if (!(n <= MAX_VALUES)) throw new RnnError("memory", `a tensor of shape ${shapeText(shape)} would hold ${n} values, more than rnn-wasm/onnx allocates for one (${MAX_VALUES})`);
  return kind === "float" ? floatValue(shape, new Float32Array(n)) : intValue(shape, new Float64Array(n));
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** An axis in [-rank, rank) made non-negative; RnnError naming the node otherwise. */
function axisOf(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new RnnError("shape", `${what}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Integer values of an int input (a shape, axes, indices). */
function ints(v: Value, name: string, what: string): number[] {
  if (v.kind !== "int") throw new RnnError("dtype", `${what}: ${name} must be an integer tensor`);
  return Array.from(v.data);
}

/** numpy broadcasting of two shapes; RnnError naming the node when they do not broadcast. */
function broadcastShape(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k] ?? 1, db = b[b.length - rank + k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new RnnError("shape", `${what}: shapes ${shapeText(a)} and ${shapeText(b)} do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each flat index of `out`, the flat index into a tensor of `shape` broadcast to it. */
function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const n = numel(out);
  const idx = new Int32Array(n);
  const rank = out.length;
  const src = strides(shape);
  const offset = rank - shape.length;
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let k = offset; k < rank; k++) if (shape[k - offset] !== 1) j += coord[k] * src[k - offset];
    idx[i] = j;
    for (let k = rank - 1; k >= 0; k--) {
      if (++coord[k] < out[k]) break;
      coord[k] = 0;
    }
  }
  return idx;
}

/** Elementwise with broadcasting; `mixed`: B may be of another type than A (Pow), the result has A's. */
function binary(f: (a: number, b: number) => number, intF: (a: number, b: number) => number = f, mixed = false): (node: NodeMsg, ctx: NodeContext) => Kernel {
  return (node, ctx) => {
    new Attributes(node, ctx.what, []);
    return kernel((inputs) => {
      const a = need(inputs, 0, "A", ctx.what), b = need(inputs, 1, "B", ctx.what);
      if (a.kind !== b.kind && !mixed) throw new RnnError("dtype", `${ctx.what}: A and B must have the same element type (one is float, the other integer)`);
      const shape = broadcastShape(a.shape, b.shape, ctx.what);
      const out = emptyLike(a.kind, shape);
      const g = a.kind === "float" ? f : b.kind === "float" ? (x: number, y: number) => Math.trunc(f(x, y)) : intF;
      const same = (s: number[]) => s.length === shape.length && s.every((d, k) => d === shape[k]);
      if (same(a.shape) && same(b.shape)) {
        for (let i = 0; i < out.data.length; i++) out.data[i] = g(a.data[i], b.data[i]);
      } else {
        const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
        for (let i = 0; i < out.data.length; i++) out.data[i] = g(a.data[ia[i]], b.data[ib[i]]);
      }
      return [out];
    });
  };
}

function unary(f: (x: number) => number, known: string[] = [], make?: (a: Attributes) => (x: number) => number): (node: NodeMsg, ctx: NodeContext) => Kernel {
  return (node, ctx) => {
    const attrs = new Attributes(node, ctx.what, known);
    const g = make ? make(attrs) : f;
    return kernel((inputs) => {
      const x = need(inputs, 0, "X", ctx.what, "float");
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = g(x.data[i]);
      return [floatValue([...x.shape], out)];
    });
  };
}

/** Y = X transposed by perm (default: axes reversed). */
function transpose(x: Value, perm: number[], what: string): Value {
  const rank = x.shape.length;
  if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, k) => p !== k)) throw new RnnError("shape", `${what}: perm [${perm}] is not a permutation of the ${rank} axes`);
  const shape = perm.map((p) => x.shape[p]);
  const src = strides(x.shape);
  const out = emptyLike(x.kind, shape);
  const n = out.data.length;
  const coord = new Array<number>(rank).fill(0);
  const step = perm.map((p) => src[p]);
  let j = 0;
  for (let i = 0; i < n; i++) {
    out.data[i] = x.data[j];
    for (let k = rank - 1; k >= 0; k--) {
      j += step[k];
      if (++coord[k] < shape[k]) break;
      j -= step[k] * shape[k];
      coord[k] = 0;
    }
  }
  return out;
}

/** C = A·B with numpy's matmul rules (1-D operands promoted and their axis removed; batch axes broadcast). */
function matmul(a: Value, b: Value, what: string): Value {
  if (a.kind !== "float" || b.kind !== "float") throw new RnnError("dtype", `${what}: MatMul of integer tensors is not supported`);
  if (a.shape.length === 0 || b.shape.length === 0) throw new RnnError("shape", `${what}: MatMul operands must have rank >= 1`);
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape, bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = as[as.length - 2], K = as[as.length - 1], K2 = bs[bs.length - 2], N = bs[bs.length - 1];
  if (K !== K2) throw new RnnError("shape", `${what}: MatMul of ${shapeText(a.shape)} and ${shapeText(b.shape)}: inner sizes ${K} and ${K2} differ`);
  const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2), what);
  const ia = broadcastIndex(as.slice(0, -2), batch), ib = broadcastIndex(bs.slice(0, -2), batch);
  const nb = numel(batch);
  const out = emptyLike("float", [nb, M, N]).data as Float32Array;
  const row = new Float64Array(N);
  for (let p = 0; p < nb; p++) {
    const A = ia[p] * M * K, B = ib[p] * K * N;
    for (let m = 0; m < M; m++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const av = a.data[A + m * K + k];
        if (av === 0) continue;
        for (let n = 0; n < N; n++) row[n] += av * b.data[B + k * N + n];
      }
      out.set(row, (p * M + m) * N);
    }
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  return floatValue(shape, out);
}

/** Y = alpha * A' B' + beta * C, A' = transA ? Aᵀ : A (M,K), B' = transB ? Bᵀ : B (K,N), C broadcast to (M,N). */
function gemm(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["alpha", "beta", "transA", "transB", "broadcast"]);
  const alpha = attrs.float("alpha", 1), beta = attrs.float("beta", 1);
  const tA = attrs.int("transA", 0) !== 0, tB = attrs.int("transB", 0) !== 0;
  return kernel((inputs) => {
    let a = need(inputs, 0, "A", ctx.what, "float"), b = need(inputs, 1, "B", ctx.what, "float");
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new RnnError("shape", `${ctx.what}: Gemm takes 2-D A and B, got ${shapeText(a.shape)} and ${shapeText(b.shape)}`);
    if (tA) a = transpose(a, [1, 0], ctx.what);
    if (tB) b = transpose(b, [1, 0], ctx.what);
    const y = matmul(a, b, ctx.what);
    const c = inputs[2] ?? null;
    for (let i = 0; i < y.data.length; i++) y.data[i] *= alpha;
    if (c && beta !== 0) {
      const shape = broadcastShape(c.shape, y.shape, ctx.what);
      if (shape.length !== 2 || shape[0] !== y.shape[0] || shape[1] !== y.shape[1]) throw new RnnError("shape", `${ctx.what}: C ${shapeText(c.shape)} does not broadcast to ${shapeText(y.shape)}`);
      const ic = broadcastIndex(c.shape, y.shape);
      for (let i = 0; i < y.data.length; i++) y.data[i] += beta * c.data[ic[i]];
    }
    return [y];
  });
}

function constantValue(attrs: Attributes, what: string): Value {
  const t = attrs.tensor("value");
  if (t) return t;
  if (attrs.has("value_float")) return floatValue([], Float32Array.of(attrs.float("value_float", 0)));
  if (attrs.has("value_floats")) { const f = attrs.floats("value_floats")!; return floatValue([f.length], Float32Array.from(f)); }
  if (attrs.has("value_int")) return intValue([], Float64Array.of(attrs.int("value_int", 0)));
  if (attrs.has("value_ints")) { const v = attrs.ints("value_ints")!; return intValue([v.length], Float64Array.from(v)); }
  throw new RnnError("missing", `${what}: Constant needs a value (value, value_float(s) or value_int(s); sparse and string values are not read)`);
}

function constant(node: NodeMsg, ctx: NodeContext): Kernel {
  const v = constantValue(new Attributes(node, ctx.what, ["value", "value_float", "value_floats", "value_int", "value_ints"]), ctx.what);
  return kernel(() => [v]);
}

function constantOfShape(node: NodeMsg, ctx: NodeContext): Kernel {
  const fill = new Attributes(node, ctx.what, ["value"]).tensor("value") ?? floatValue([1], Float32Array.of(0));
  if (fill.data.length !== 1) throw new RnnError("shape", `${ctx.what}: value must hold one element`);
  return kernel((inputs) => {
    const shape = ints(need(inputs, 0, "input", ctx.what), "input", ctx.what);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RnnError("shape", `${ctx.what}: shape [${shape}] must hold non-negative integers`);
    const out = emptyLike(fill.kind, shape);
    out.data.fill(fill.data[0]);
    return [out];
  });
}

function shapeOp(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["start", "end"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what);
    const r = x.shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x.shape.slice(clamp(attrs.int("start", 0)), attrs.has("end") ? clamp(attrs.int("end", r)) : r);
    return [intValue([dims.length], Float64Array.from(dims))];
  });
}

function gather(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axis"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what), ind = need(inputs, 1, "indices", ctx.what);
    const axis = axisOf(attrs.int("axis", 0), x.shape.length, ctx.what);
    const idx = ints(ind, "indices", ctx.what);
    const size = x.shape[axis];
    const outer = numel(x.shape.slice(0, axis)), inner = numel(x.shape.slice(axis + 1));
    const out = emptyLike(x.kind, [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)]);
    idx.forEach((i, q) => {
      if (!Number.isInteger(i) || i < -size || i >= size) throw new RnnError("shape", `${ctx.what}: index ${i} is out of range for axis ${axis} of size ${size}`);
      const j = i < 0 ? i + size : i;
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < inner; k++) out.data[(o * idx.length + q) * inner + k] = x.data[(o * size + j) * inner + k];
      }
    });
    return [out];
  });
}

/** Axes from the attribute (opset < 13) or the second input (13 on); null when neither is given. */
function axesOf(attrs: Attributes, inputs: (Value | null)[], what: string): number[] | null {
  const fromInput = inputs[1] ?? null;
  if (fromInput) return ints(fromInput, "axes", what);
  return attrs.ints("axes");
}

function unsqueeze(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axes"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what);
    const axes = axesOf(attrs, inputs, ctx.what);
    if (!axes) throw new RnnError("missing", `${ctx.what}: Unsqueeze needs axes`);
    const rank = x.shape.length + axes.length;
    const set = new Set(axes.map((a) => axisOf(a, rank, ctx.what)));
    if (set.size !== axes.length) throw new RnnError("shape", `${ctx.what}: axes [${axes}] repeat an axis`);
    const shape: number[] = [];
    let k = 0;
    for (let d = 0; d < rank; d++) shape.push(set.has(d) ? 1 : x.shape[k++]);
    return [makeLike(x.kind, shape, x.data)];
  });
}

function squeeze(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axes"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what);
    const axes = axesOf(attrs, inputs, ctx.what);
    const drop = new Set(axes ? axes.map((a) => axisOf(a, x.shape.length, ctx.what)) : x.shape.flatMap((d, k) => (d === 1 ? [k] : [])));
    for (const a of drop) if (x.shape[a] !== 1) throw new RnnError("shape", `${ctx.what}: axis ${a} of ${shapeText(x.shape)} has size ${x.shape[a]}, not 1`);
    return [makeLike(x.kind, x.shape.filter((_, k) => !drop.has(k)), x.data)];
  });
}

function reshape(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["allowzero", "shape"]);
  const allowZero = attrs.int("allowzero", 0) !== 0;
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what);
    const want = inputs[1] ? ints(inputs[1], "shape", ctx.what) : attrs.ints("shape");
    if (!want) throw new RnnError("missing", `${ctx.what}: Reshape needs a shape`);
    const shape = want.map((d, k) => (d === 0 && !allowZero ? x.shape[k] : d));
    const infer = shape.indexOf(-1);
    if (shape.filter((d) => d === -1).length > 1 || shape.some((d) => d === undefined || d < -1 || !Number.isSafeInteger(d))) {
      throw new RnnError("shape", `${ctx.what}: shape [${want}] is not a valid target for ${shapeText(x.shape)}`);
    }
    if (infer >= 0) {
      const known = numel(shape.filter((_, k) => k !== infer));
      shape[infer] = known === 0 ? 0 : x.data.length / known;
    }
    if (!Number.isInteger(shape[infer] ?? 0) || numel(shape) !== x.data.length) {
      throw new RnnError("shape", `${ctx.what}: cannot reshape ${shapeText(x.shape)} (${x.data.length} values) to [${want}]`);
    }
    return [makeLike(x.kind, shape, x.data)];
  });
}

function concat(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axis"]);
  return kernel((inputs) => {
    const xs = inputs.map((_, k) => need(inputs, k, `inputs[${k}]`, ctx.what));
    if (xs.length === 0) throw new RnnError("missing", `${ctx.what}: Concat needs at least one input`);
    const first = xs[0];
    const axis = axisOf(attrs.int("axis", 0), first.shape.length, ctx.what);
    for (const x of xs) {
      if (x.kind !== first.kind || x.shape.length !== first.shape.length || x.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
        throw new RnnError("shape", `${ctx.what}: cannot concatenate ${xs.map((v) => shapeText(v.shape)).join(", ")} along axis ${axis}`);
      }
    }
    const outer = numel(first.shape.slice(0, axis));
    const shape = [...first.shape];
    shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
    const out = emptyLike(first.kind, shape);
    const rowOut = numel(shape.slice(axis));
    let offset = 0;
    for (const x of xs) {
      const row = numel(x.shape.slice(axis));
      for (let o = 0; o < outer; o++) out.data.set(x.data.subarray(o * row, (o + 1) * row), o * rowOut + offset);
      offset += row;
    }
    return [out];
  });
}

function slice(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["starts", "ends", "axes"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "data", ctx.what);
    const rank = x.shape.length;
    const fromInputs = inputs.length > 1;
    const starts = fromInputs ? ints(need(inputs, 1, "starts", ctx.what), "starts", ctx.what) : attrs.ints("starts");
    const ends = fromInputs ? ints(need(inputs, 2, "ends", ctx.what), "ends", ctx.what) : attrs.ints("ends");
    if (!starts || !ends || starts.length !== ends.length) throw new RnnError("shape", `${ctx.what}: starts and ends must be given, of one length`);
    const axes = (fromInputs ? (inputs[3] ? ints(inputs[3], "axes", ctx.what) : null) : attrs.ints("axes")) ?? starts.map((_, k) => k);
    const steps = fromInputs && inputs[4] ? ints(inputs[4], "steps", ctx.what) : starts.map(() => 1);
    const begin = x.shape.map(() => 0), step = x.shape.map(() => 1), size = [...x.shape];
    axes.forEach((a0, k) => {
      const a = axisOf(a0, rank, ctx.what), dim = x.shape[a], s = steps[k];
      if (!s) throw new RnnError("shape", `${ctx.what}: step 0 on axis ${a}`);
      let st = starts[k] < 0 ? starts[k] + dim : starts[k];
      let en = ends[k] < 0 ? ends[k] + dim : ends[k];
      if (s > 0) {
        st = Math.min(Math.max(st, 0), dim);
        en = Math.min(Math.max(en, 0), dim);
        size[a] = Math.max(0, Math.ceil((en - st) / s));
      } else {
        st = Math.min(Math.max(st, -1), dim - 1);
        en = Math.min(Math.max(en, -1), dim - 1);
        size[a] = Math.max(0, Math.ceil((st - en) / -s));
      }
      begin[a] = st;
      step[a] = s;
    });
    const out = emptyLike(x.kind, size);
    const src = strides(x.shape);
    const coord = new Array<number>(rank).fill(0);
    for (let i = 0; i < out.data.length; i++) {
      let j = 0;
      for (let k = 0; k < rank; k++) j += (begin[k] + coord[k] * step[k]) * src[k];
      out.data[i] = x.data[j];
      for (let k = rank - 1; k >= 0; k--) {
        if (++coord[k] < size[k]) break;
        coord[k] = 0;
      }
    }
    return [out];
  });
}

function cast(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["to", "saturate"]);
  const to = attrs.int("to", 0);
  if (!FLOAT_TYPES.has(to) && !INT_TYPES.has(to)) throw new RnnError("dtype", `${ctx.what}: Cast to type ${to} is not supported (float and integer types are)`);
  return kernel((inputs) => {
    const x = need(inputs, 0, "input", ctx.what);
    if (to === DT.FLOAT16 || to === DT.BFLOAT16) return [floatValue([...x.shape], Float32Array.from(x.data, to === DT.FLOAT16 ? roundHalf : roundBfloat16))];
    if (FLOAT_TYPES.has(to)) return [floatValue([...x.shape], Float32Array.from(x.data))];
    return [intValue([...x.shape], Float64Array.from(x.data, (v) => (to === DT.BOOL ? (v !== 0 ? 1 : 0) : Math.trunc(v))))];
  });
}

function softmax(node: NodeMsg, ctx: NodeContext, log = false): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axis"]);
  const legacy = ctx.opset < 13; // before 13: the input is flattened to 2-D at axis (default 1), softmax over the rest
  return kernel((inputs) => {
    const x = need(inputs, 0, "input", ctx.what, "float");
    const rank = x.shape.length;
    const axis = axisOf(attrs.int("axis", legacy ? 1 : -1), rank, ctx.what);
    const n = legacy ? numel(x.shape.slice(axis)) : x.shape[axis];
    const inner = legacy ? 1 : numel(x.shape.slice(axis + 1));
    const outer = x.data.length / (n * inner || 1);
    const out = new Float32Array(x.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * n + k) * inner + i;
        let max = -Infinity;
        for (let k = 0; k < n; k++) max = Math.max(max, x.data[at(k)]);
        let sum = 0;
        for (let k = 0; k < n; k++) sum += Math.exp(x.data[at(k)] - max);
        for (let k = 0; k < n; k++) out[at(k)] = log ? x.data[at(k)] - max - Math.log(sum) : Math.exp(x.data[at(k)] - max) / sum;
      }
    }
    return [floatValue([...x.shape], out)];
  });
}

function flatten(node: NodeMsg, ctx: NodeContext): Kernel {
  const attrs = new Attributes(node, ctx.what, ["axis"]);
  return kernel((inputs) => {
    const x = need(inputs, 0, "input", ctx.what);
    const a0 = attrs.int("axis", 1);
    const axis = a0 === x.shape.length ? a0 : axisOf(a0, x.shape.length, ctx.what);
    return [makeLike(x.kind, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))], x.data)];
  });
}

/** Identity, and Dropout at inference (its optional mask output all true; training mode with a ratio is refused). */
function identity(known: string[]): (node: NodeMsg, ctx: NodeContext) => Kernel {
  return (node, ctx) => {
    new Attributes(node, ctx.what, known);
    return kernel((inputs) => {
      const x = need(inputs, 0, "input", ctx.what);
      const ratio = inputs[1]?.data[0] ?? 0.5, training = (inputs[2]?.data[0] ?? 0) !== 0;
      if (training && ratio !== 0) throw new RnnError("unexpected", `${ctx.what}: Dropout in training mode (a random mask) is not run; rnn-wasm/onnx runs inference graphs`);
      return [x, intValue([...x.shape], new Float64Array(x.data.length).fill(1))];
    });
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to the nearest bfloat16 (ties to even), as a float32. */
function roundBfloat16(x: number): number {
  f32[0] = x;
  if (Number.isNaN(f32[0])) return NaN;
  const bits = u32[0];
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}

/** x rounded to the nearest IEEE half (ties to even; overflow to Infinity, subnormals kept). */
function roundHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  let q = a / ulp;
  const r = Math.round(q);
  q = Math.abs(q - Math.trunc(q) - 0.5) < 1e-12 ? (Math.trunc(q) % 2 === 0 ? Math.trunc(q) : Math.trunc(q) + 1) : r;
  return Math.sign(x) * q * ulp;
}

export const GLUE_OPERATORS: Record<string, (node: NodeMsg, ctx: NodeContext) => Kernel> = {
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => a / b, (a, b) => {
    if (b === 0) throw new RnnError("shape", "integer division by zero in a Div node");
    return Math.trunc(a / b);
  }),
  Pow: binary((a, b) => a ** b, (a, b) => a ** b, true),
  MatMul: (node, ctx) => {
    new Attributes(node, ctx.what, []);
    return kernel((inputs) => [matmul(need(inputs, 0, "A", ctx.what), need(inputs, 1, "B", ctx.what), ctx.what)]);
  },
  Gemm: gemm,
  Transpose: (node, ctx) => {
    const attrs = new Attributes(node, ctx.what, ["perm"]);
    return kernel((inputs) => {
      const x = need(inputs, 0, "data", ctx.what);
      return [transpose(x, attrs.ints("perm") ?? x.shape.map((_, k) => x.shape.length - 1 - k), ctx.what)];
    });
  },
  Reshape: reshape,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Slice: slice,
  Gather: gather,
  Shape: shapeOp,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Cast: cast,
  Identity: identity([]),
  Dropout: identity(["ratio", "seed", "is_test"]),
  Relu: unary((x) => (x > 0 ? x : 0)),
  Sigmoid: unary(sigmoid),
  Tanh: unary(Math.tanh),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Sqrt: unary(Math.sqrt),
  Neg: unary((x) => -x),
  Abs: unary(Math.abs),
  LeakyRelu: unary((x) => x, ["alpha"], (a) => { const al = a.float("alpha", 0.01); return (x) => (x >= 0 ? x : al * x); }),
  Elu: unary((x) => x, ["alpha"], (a) => { const al = a.float("alpha", 1); return (x) => (x >= 0 ? x : al * (Math.exp(x) - 1)); }),
  HardSigmoid: unary((x) => x, ["alpha", "beta"], (a) => { const al = a.float("alpha", 0.2), be = a.float("beta", 0.5); return (x) => Math.min(Math.max(al * x + be, 0), 1); }),
  Softplus: unary((x) => (x > 30 ? x : Math.log1p(Math.exp(x)))),
  Softsign: unary((x) => x / (1 + Math.abs(x))),
  Softmax: (node, ctx) => softmax(node, ctx),
  LogSoftmax: (node, ctx) => softmax(node, ctx, true),
};
