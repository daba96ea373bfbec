// src/layers.ts: the sequence layers LSTM, GRU and RNN, with PyTorch's shapes and semantics:
//   input  [T, B, I]  ([B, T, I] with batchFirst; [T, I] unbatched)
//   output [T, B, D*P]  hN [D*L, B, P]  cN [D*L, B, H]  (P = projSize or hiddenSize; no B axis unbatched)
// and a streaming mode that keeps the final state between calls, so feeding a sequence in chunks gives
// bitwise what one call over the whole sequence gives.
import { RnnError } from "./errors.js";
import { BACKEND_KEYS, RecurrentBase, type BackendOptions } from "./recurrent-base.js";
import { flag, knownKeys, optionsObject } from "./options.js";
import { ARCHITECTURE_KEYS, directions, makeSpec, outputSize, type ArchitectureOptions, type Kind, type Spec } from "./architecture.js";
import { checkTensor, checkTensorData, type NanPolicy, type Tensor } from "./tensor.js";
import { StreamState } from "./stream-state.js";
import type { EngineOut, EngineResult } from "./engine.js";
import type { WeightValue } from "./weights.js";

/** A layer's options: its architecture (PyTorch's constructor arguments, in camelCase) and where it runs. */
export interface LayerOptions extends ArchitectureOptions, BackendOptions {}
/** Options of {@link LSTM}: every {@link LayerOptions} but the RNN's `nonlinearity` and the GRU's `resetAfter`. */
export type LSTMOptions = Omit<LayerOptions, "nonlinearity" | "resetAfter">;
/** Options of {@link GRU}: every {@link LayerOptions} but the RNN's `nonlinearity` and the LSTM's `projSize`. */
export type GRUOptions = Omit<LayerOptions, "nonlinearity" | "projSize">;
/** Options of {@link RNN}: every {@link LayerOptions} but the GRU's `resetAfter` and the LSTM's `projSize`. */
export type RNNOptions = Omit<LayerOptions, "resetAfter" | "projSize">;

/** Initial state: h0 [D*L, B, P] and, for an LSTM, c0 [D*L, B, H] (no B axis for unbatched input). Missing means zeros. */
export interface LayerState {
  /** Initial h of every layer and direction, [D*L, B, P] (layer-major, forward direction first, as PyTorch). */
  h0?: Tensor;
  /** LSTM only: initial cell state, [D*L, B, H]. */
  c0?: Tensor;
}

/** Options of `forward`: the initial state, training, and per-row lengths. */
export interface ForwardOptions extends LayerState {
  /** Keep what backward() needs (gate activations, states). Default false. */
  train?: boolean;
  /**
   * Variable-length batch (as PyTorch's packed sequences): row b's sequence is its first lengths[b] steps
   * (1..T). Steps past it leave the state unchanged and get no gradient, outputs there are 0, hN holds each
   * row's last real step, and the reverse direction starts at each row's own last step.
   */
  lengths?: ArrayLike<number>;
  /**
   * Tensors to write the results into instead of fresh ones (as ONNX Runtime's preallocated outputs, PyTorch's
   * `out=`), returned as the result (the same objects): `output`, `hN` and, for an LSTM only, `cN`, each shaped
   * exactly as this call's result (batch-first, unbatched, bidirectional alike). Reusing one `out` across calls of
   * the same shape runs forward without allocating anything on the wasm backend when the input is time-major (a
   * batch-first input is transposed into a scratch array the layer keeps). Every element is written, padding steps
   * with 0. Checked before anything is written: shapes, Float32Array data, and no overlap between the three arrays
   * or with the input, h0 or c0 (those are read while results are written); a refused call changes nothing. Allowed
   * with `train: true` (backward() reads its own tape, not `out`). The next call with the same `out` overwrites it.
   */
  out?: {
    /** Shaped as the result's `output`: `[T, B, D*P]` (batch-first `[B, T, D*P]`, unbatched `[T, D*P]`). */
    output: Tensor;
    /** Shaped as the result's `hN`: `[D*L, B, P]` (unbatched `[D*L, P]`). */
    hN: Tensor;
    /** LSTM only (and required there): shaped as the result's `cN`, `[D*L, B, H]`. */
    cN?: Tensor;
  };
}

/** Tensors a forward writes its results into (its `out` option), shaped as that call's {@link LayerResult}. */
export type LayerOut = NonNullable<ForwardOptions["out"]>;

/** Upstream gradients for backward(), shaped as forward's results; an omitted one counts as zero. */
export interface LayerGradientsIn {
  /** dL/d`output`, shaped as `output` (batch-first when the layer is). */
  output?: Tensor;
  /** dL/d`hN`, [D*L, B, P]. */
  hN?: Tensor;
  /** LSTM only: dL/d`cN`, [D*L, B, H]. */
  cN?: Tensor;
}

/** Gradients with respect to forward's inputs, shaped as they were. */
export interface LayerGradients {
  /** dL/d`input`, shaped as the input. */
  dInput: Tensor;
  /** dL/d`h0`, [D*L, B, P] (also when the forward started from zeros). */
  dh0: Tensor;
  /** LSTM only. */
  dc0?: Tensor;
}

/** What `forward` and `stream` return: PyTorch's `output, h_n` (and `c_n`). */
export interface LayerResult {
  /** `[T, B, D*P]` (batch-first: `[B, T, D*P]`): the last layer's h at every step, both directions concatenated. */
  output: Tensor;
  /** `[D*L, B, P]`: the final h of every layer and direction (the reverse direction's final is at t = 0). */
  hN: Tensor;
  /** LSTM only, `[D*L, B, H]`: the final cell state. */
  cN?: Tensor;
}

/** (A, C, F) -> (C, A, F): between batch-first and time-major. */
export function swapLeadingAxes(src: Float32Array, A: number, C: number, F: number): Float32Array {
  return swapLeadingAxesInto(new Float32Array(src.length), src, A, C, F);
}

/** swapLeadingAxes into `dst` (as long as `src`, not overlapping it); returns `dst`. */
export function swapLeadingAxesInto(dst: Float32Array, src: Float32Array, A: number, C: number, F: number): Float32Array {
  for (let a = 0; a < A; a++) {
    for (let c = 0; c < C; c++) dst.set(src.subarray((a * C + c) * F, (a * C + c + 1) * F), (c * A + a) * F);
  }
  return dst;
}

/** Shapes of the last training forward, so backward() can check and shape its gradients. */
interface TrainCall {
  T: number;
  B: number;
  batched: boolean;
}

/** `lengths` checked against a [T, B] input: one whole number in [1, T] per batch row (float and quantized layers). */
export function checkLengths(lengths: ArrayLike<number>, T: number, B: number, batched: boolean): Int32Array {
  if (!batched) throw new RnnError("unexpected", "lengths needs a batched input [T, B, inputSize] (or [B, T, inputSize])");
  if (lengths === null || typeof lengths !== "object" || typeof lengths.length !== "number") {
    throw new RnnError("dtype", "lengths must be an array or Int32Array of B sequence lengths");
  }
  if (lengths.length !== B) throw new RnnError("shape", `lengths has ${lengths.length} entries, expected one per batch row (${B})`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 1 || n > T) throw new RnnError("shape", `lengths[${b}] = ${n} is not a length in [1, ${T}]`);
    out[b] = n;
  }
  return out;
}

/** A layer call's input and initial state, checked and time-major: what the float and quantized forward() take. */
export interface LayerCall {
  /** The input, [T, B, inputSize] time-major (transposed from batch-first). */
  timeMajor: Float32Array;
  T: number;
  B: number;
  batched: boolean;
  h0: Float32Array | null;
  c0: Float32Array | null;
  lengths: Int32Array | null;
}

/**
 * Checks a forward call's input (`[T, B, I]`, `[B, T, I]` batch-first, or unbatched `[T, I]`), h0 / c0 and lengths
 * against `spec`, for the float layers (below) and the quantized ones (quantized.ts).
 *
 * @throws RnnError 'shape' / 'dtype' / 'nonfinite' naming the tensor; 'unexpected' for c0 given to a GRU/RNN
 */
export function checkLayerCall(spec: Spec, input: Tensor, state: { h0?: Tensor; c0?: Tensor; lengths?: ArrayLike<number> }, nanPolicy: NanPolicy,
  scratch?: InputScratch): LayerCall {
  const s = spec;
  const P = outputSize(s), H = s.hiddenSize, LD = s.numLayers * directions(s);
  const rank = (input as Tensor)?.shape?.length;
  if (rank !== 2 && rank !== 3) {
    const form = `${s.batchFirst ? "[B, T, inputSize]" : "[T, B, inputSize]"} = [*, *, ${s.inputSize}] or unbatched [T, inputSize] = [*, ${s.inputSize}]`;
    const { shape } = checkTensorData("input", input, form);
    throw new RnnError("shape", `input has shape [${shape.join(", ")}] (rank ${rank}); it must be ${form}`);
  }
  const batched = rank === 3;
  const x = checkTensor("input", input, batched ? [null, null, s.inputSize] : [null, s.inputSize], nanPolicy);
  const T = batched && s.batchFirst ? x.shape[1] : x.shape[0];
  const B = batched ? (s.batchFirst ? x.shape[0] : x.shape[1]) : 1;
  if (T < 1 || B < 1) throw new RnnError("shape", `input has shape [${x.shape.join(", ")}]: need at least one timestep and one batch row`);
  const stateShape = (n: number) => (batched ? [LD, B, n] : [LD, n]);
  const h0 = state.h0 === undefined ? null : checkTensor("h0", state.h0, stateShape(P), nanPolicy).data;
  let c0: Float32Array | null = null;
  if (state.c0 !== undefined) {
    if (s.kind !== "lstm") throw new RnnError("unexpected", `c0 is only for an LSTM; a ${s.kind.toUpperCase()} has no cell state`);
    c0 = checkTensor("c0", state.c0, stateShape(H), nanPolicy).data;
  }
  const timeMajor = !(batched && s.batchFirst) ? x.data
    : scratch ? swapLeadingAxesInto(scratch.get(x.data.length), x.data, B, T, s.inputSize) : swapLeadingAxes(x.data, B, T, s.inputSize);
  const lengths = state.lengths === undefined ? null : checkLengths(state.lengths, T, B, batched);
  return { timeMajor, T, B, batched, h0, c0, lengths };
}

/**
 * A layer's reusable array for a batch-first input transposed to time-major, used with `out`: nothing in it outlives
 * the call (the engines copy the input into wasm, and a reference tape is dropped by the next forward).
 */
export class InputScratch {
  private data: Float32Array | null = null;

  /** An array of n floats (its values are whatever the last call left). */
  get(n: number): Float32Array {
    if (!this.data || this.data.length !== n) this.data = new Float32Array(n);
    return this.data;
  }
}

/** The shapes of a call's results: output, hN and (an LSTM's) cN, batch-first or unbatched as the call is. */
function resultShapes(spec: Spec, call: LayerCall): { output: number[]; hN: number[]; cN: number[] | null } {
  const { T, B, batched } = call;
  const D = directions(spec), P = outputSize(spec), LD = spec.numLayers * D;
  const stateShape = (n: number) => (batched ? [LD, B, n] : [LD, n]);
  return {
    output: batched ? (spec.batchFirst ? [B, T, D * P] : [T, B, D * P]) : [T, D * P],
    hN: stateShape(P),
    cN: spec.kind === "lstm" ? stateShape(spec.hiddenSize) : null,
  };
}

/** Whether two arrays share any byte of memory (empty arrays share none). */
function overlaps(a: Float32Array, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Checks forward's `out` against the call (after checkLayerCall, before anything runs): its keys, each tensor's
 * data and exact shape, and that no two of its arrays, nor any of them and the arrays the call reads (`reads`:
 * the input, h0, c0), share memory. Returns the arrays for the engine.
 *
 * @throws RnnError 'unexpected' for an unknown key, cN given to a GRU/RNN, or overlapping arrays; 'missing' for an
 *   absent tensor; 'dtype' / 'shape' naming the tensor and the shape expected
 */
export function checkLayerOut(spec: Spec, call: LayerCall, out: unknown, reads: Record<string, Float32Array | null>): EngineOut {
  if (out === null || typeof out !== "object" || Array.isArray(out)) {
    throw new RnnError("unexpected", `out must be an object { output, hN${spec.kind === "lstm" ? ", cN" : ""} } of tensors, got ${out === null ? "null" : Array.isArray(out) ? "an array" : typeof out}`);
  }
  const o = out as Partial<LayerOut>;
  knownKeys("out", o, ["output", "hN", "cN"]);
  if (o.cN !== undefined && spec.kind !== "lstm") {
    throw new RnnError("unexpected", `out.cN is only for an LSTM; a ${spec.kind.toUpperCase()} has no cell state`);
  }
  const shapes = resultShapes(spec, call);
  const want: [string, unknown, number[]][] = [["output", o.output, shapes.output], ["hN", o.hN, shapes.hN]];
  if (shapes.cN) want.push(["cN", o.cN, shapes.cN]);
  const arrays: [string, Float32Array][] = [];
  for (const [name, t, shape] of want) {
    if (t === undefined) throw new RnnError("missing", `out.${name} is missing: out needs ${want.map(([n]) => n).join(", ")} for ${spec.kind === "lstm" ? "an LSTM" : `a ${spec.kind.toUpperCase()}`}`);
    // its values are whatever a previous call left: not scanned for NaN
    arrays.push([`out.${name}`, checkTensor(`out.${name}`, t, shape, "propagate").data]);
  }
  for (let i = 0; i < arrays.length; i++) {
    for (let j = i + 1; j < arrays.length; j++) {
      if (overlaps(arrays[i][1], arrays[j][1])) {
        throw new RnnError("unexpected", `${arrays[i][0]} and ${arrays[j][0]} share memory; each result needs an array of its own`);
      }
    }
    for (const [name, read] of Object.entries(reads)) {
      if (read && overlaps(arrays[i][1], read)) {
        throw new RnnError("unexpected", `${arrays[i][0]} shares memory with ${name}, which forward reads while it writes the results; give out arrays of their own`);
      }
    }
  }
  return { output: arrays[0][1], hN: arrays[1][1], cN: shapes.cN ? arrays[2][1] : null, batchFirst: call.batched && spec.batchFirst };
}

/**
 * An engine's results as forward() returns them. Without `out`: the time-major output and final states shaped for
 * the call (batch-first, unbatched). With `out`: out's own tensors, after copying the results into them where the
 * engine returned arrays of its own (the reference backends) rather than `into`.
 */
export function layerResult(spec: Spec, call: LayerCall, r: EngineResult, out?: LayerOut, into?: EngineOut): LayerResult {
  if (out && into) {
    if (r !== into) {
      const { T, B } = call;
      const F = directions(spec) * outputSize(spec);
      if (into.batchFirst) swapLeadingAxesInto(into.output, r.output, T, B, F);
      else into.output.set(r.output);
      into.hN.set(r.hN);
      if (into.cN) into.cN.set(r.cN!);
    }
    const result: LayerResult = { output: out.output, hN: out.hN };
    if (into.cN) result.cN = out.cN;
    return result;
  }
  const { T, B, batched } = call;
  const D = directions(spec), P = outputSize(spec), H = spec.hiddenSize, LD = spec.numLayers * D;
  const stateShape = (n: number) => (batched ? [LD, B, n] : [LD, n]);
  const output = batched && spec.batchFirst ? swapLeadingAxes(r.output, T, B, D * P) : r.output;
  const result: LayerResult = {
    output: { shape: batched ? (spec.batchFirst ? [B, T, D * P] : [T, B, D * P]) : [T, D * P], data: output },
    hN: { shape: stateShape(P), data: r.hN },
  };
  if (r.cN) result.cN = { shape: stateShape(H), data: r.cN };
  return result;
}


/**
 * What {@link LSTM}, {@link GRU} and {@link RNN} share: `forward`, `backward`, `stream` and the state it keeps,
 * `toTorch`, `grads`, `dispose`. `fromTorch` returns one; `spec.kind` says which.
 */
export class RecurrentLayer extends RecurrentBase {
  private readonly streamState = new StreamState();
  private trainCall: TrainCall | null = null;
  private readonly inputScratch = new InputScratch();

  /**
   * A layer of the given kind (the subclasses fix it).
   *
   * @param kind which recurrence to run
   * @param options architecture and backend; see {@link LayerOptions}
   * @param params weights by PyTorch state_dict name (`weight_ih_l0`, ...), flat Float32Arrays in PyTorch's layout or tensors as `toTorch()` returns them, checked as {@link fromTorch} checks them; default random
   *   from `options.seed`
   */
  constructor(kind: Kind, options: LayerOptions, params?: Record<string, WeightValue>) {
    const what = `${kind.toUpperCase()} options`;
    const o = optionsObject(what, options);
    knownKeys(what, o, [...ARCHITECTURE_KEYS, ...BACKEND_KEYS]);
    const { backend, runtime, seed, nanPolicy, ...arch } = o as LayerOptions;
    super(makeSpec(kind, arch), { backend, runtime, seed, nanPolicy }, params);
  }

  /**
   * Runs the layer over a whole sequence from `state` (zeros when omitted) and returns every step's output
   * and the final state. Shapes as PyTorch's nn.LSTM / nn.GRU / nn.RNN. With `options.out`, the results are
   * written into the tensors given and those are returned: reused across calls, nothing is allocated per call
   * (see {@link ForwardOptions.out}).
   *
   * @param input `[T, B, inputSize]` (`[B, T, inputSize]` batch-first) or unbatched `[T, inputSize]`
   * @param options initial state `h0` / `c0`, `train`, `lengths`, and `out` (tensors to write the results into)
   */
  forward(input: Tensor, options: ForwardOptions = {}): LayerResult {
    const engine = this.live();
    const state = optionsObject("forward options", options);
    knownKeys("forward", state, ["h0", "c0", "train", "lengths", "out"]);
    const s = this.spec;
    const out = state.out;
    const train = flag("train", state.train, false);
    // the scratch only for inference: a reference tape keeps the time-major input, which a later refused call
    // must not overwrite
    const call = checkLayerCall(s, input, state, this.nanPolicy, out === undefined || train ? undefined : this.inputScratch);
    const { T, B, batched } = call;
    const into = out === undefined ? undefined : checkLayerOut(s, call, out, { input: input.data, h0: call.h0, c0: call.c0 });
    this.trainCall = null;
    const r = engine.forward(call.timeMajor, T, B, call.h0, call.c0, train, call.lengths, into);
    if (train) this.trainCall = { T, B, batched };
    return layerResult(s, call, r, out, into);
  }

  /**
   * Backpropagation through time for the last `forward(input, { train: true })`: takes the gradients of the
   * loss with respect to its results (omitted ones are zero), returns those with respect to its inputs, and
   * ADDS the parameter gradients into grads() (zeroGrad() clears them). Runs once per training forward.
   */
  backward(gradients: LayerGradientsIn = {}): LayerGradients {
    const engine = this.live();
    const upstream = optionsObject("backward's gradients", gradients);
    knownKeys("backward", upstream, ["output", "hN", "cN"]);
    const call = this.trainCall;
    if (!call) throw new RnnError("state", "backward() needs a forward(input, { train: true }) first, and runs once per such forward");
    const s = this.spec;
    const { T, B, batched } = call;
    const D = directions(s), P = outputSize(s), H = s.hiddenSize, LD = s.numLayers * D;
    const seqShape = (f: number) => (batched ? (s.batchFirst ? [B, T, f] : [T, B, f]) : [T, f]);
    const stateShape = (n: number) => (batched ? [LD, B, n] : [LD, n]);
    const dOut = upstream.output === undefined ? null : checkTensor("output gradient", upstream.output, seqShape(D * P), this.nanPolicy).data;
    const dhN = upstream.hN === undefined ? null : checkTensor("hN gradient", upstream.hN, stateShape(P), this.nanPolicy).data;
    let dcN: Float32Array | null = null;
    if (upstream.cN !== undefined) {
      if (s.kind !== "lstm") throw new RnnError("unexpected", `a cN gradient is only for an LSTM; a ${s.kind.toUpperCase()} has no cell state`);
      dcN = checkTensor("cN gradient", upstream.cN, stateShape(H), this.nanPolicy).data;
    }
    this.trainCall = null;
    const timeMajor = dOut && batched && s.batchFirst ? swapLeadingAxes(dOut, B, T, D * P) : dOut;
    const g = engine.backward(timeMajor, dhN, dcN);
    const dx = batched && s.batchFirst ? swapLeadingAxes(g.dx, T, B, s.inputSize) : g.dx;
    const out: LayerGradients = {
      dInput: { shape: seqShape(s.inputSize), data: dx },
      dh0: { shape: stateShape(P), data: g.dh0 },
    };
    if (g.dc0) out.dc0 = { shape: stateShape(H), data: g.dc0 };
    return out;
  }

  /**
   * Streaming: runs `input` (one step or a chunk, shaped as for forward) from the state the previous call
   * ended in, and keeps the new final state. The first call, and the first after resetState(), starts
   * from zeros or from the state given to resetState(). `out` is forward's: the results are written into its
   * tensors (the kept state is a copy of its hN and cN, so writing into them later changes nothing here); a call
   * refused for its `out` keeps the state it had.
   */
  stream(input: Tensor, streamOptions: { train?: boolean; out?: LayerOut } = {}): LayerResult {
    this.live();
    const options = optionsObject("stream options", streamOptions);
    knownKeys("stream", options, ["train", "out"]);
    const call = { train: options.train, ...(options.out !== undefined ? { out: options.out as LayerOut } : {}) };
    return this.streamState.step(this.spec.bidirectional, (s) => this.forward(input, s ? { h0: s.h0, c0: s.c0, ...call } : call));
  }

  /** Forgets the streaming state, or sets it to `state` (checked on the next stream() call). */
  resetState(initial?: LayerState): void {
    this.live();
    this.streamState.reset(initial);
  }

  /** The state stream() will continue from, or null at the start. */
  get state(): LayerState | null {
    this.live();
    return this.streamState.snapshot();
  }
}

/**
 * Long short-term memory layer, as torch.nn.LSTM (gate order i, f, g, o; optional projSize).
 *
 * @example
 * ```ts
 * await init();
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 1 });
 * const { output, hN, cN } = lstm.forward(tensor([5, 3, 8])); // [5, 3, 16], [2, 3, 16], [2, 3, 16]
 * lstm.dispose();
 * ```
 */
export class LSTM extends RecurrentLayer {
  /**
   * An LSTM with the given architecture: weights from `params`, or random (uniform in ±1/√hiddenSize, as PyTorch draws them).
   *
   * @param options as torch.nn.LSTM's arguments in camelCase, plus where it runs; see {@link LSTMOptions}
   * @param params weights by PyTorch state_dict name; default random from `options.seed` (usually {@link fromTorch} builds the layer instead)
   */
  constructor(options: LSTMOptions, params?: Record<string, WeightValue>) {
    super("lstm", options, params);
  }
}

/**
 * Gated recurrent unit layer, as torch.nn.GRU (gate order r, z, n); `resetAfter: false` for the original form.
 *
 * @example
 * ```ts
 * const gru = new GRU({ inputSize: 4, hiddenSize: 8, bidirectional: true, batchFirst: true, backend: "reference" });
 * const { output, hN } = gru.forward(tensor([2, 10, 4])); // output [2, 10, 16], hN [2, 2, 8]
 * ```
 */
export class GRU extends RecurrentLayer {
  /**
   * A GRU with the given architecture: weights from `params`, or random (uniform in ±1/√hiddenSize).
   *
   * @param options as torch.nn.GRU's arguments in camelCase, plus where it runs; see {@link GRUOptions}
   * @param params weights by PyTorch state_dict name; default random from `options.seed`
   */
  constructor(options: GRUOptions, params?: Record<string, WeightValue>) {
    super("gru", options, params);
  }
}

/**
 * Elman RNN layer with tanh or relu, as torch.nn.RNN.
 *
 * @example
 * ```ts
 * const rnn = new RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: "relu", backend: "reference" });
 * const { output, hN } = rnn.forward(tensor([7, 3])); // unbatched: output [7, 5], hN [1, 5]
 * ```
 */
export class RNN extends RecurrentLayer {
  /**
   * An Elman RNN with the given architecture: weights from `params`, or random (uniform in ±1/√hiddenSize).
   *
   * @param options as torch.nn.RNN's arguments in camelCase, plus where it runs; see {@link RNNOptions}
   * @param params weights by PyTorch state_dict name; default random from `options.seed`
   */
  constructor(options: RNNOptions, params?: Record<string, WeightValue>) {
    super("rnn", options, params);
  }
}

export function layerFor(kind: Kind, options: LayerOptions, params?: Record<string, WeightValue>): RecurrentLayer {
  return kind === "lstm" ? new LSTM(options, params) : kind === "gru" ? new GRU(options, params) : new RNN(options, params);
}

export type { Spec };
