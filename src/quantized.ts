// src/quantized.ts: quantize(), and the inference-only layers and cells it returns (issue 14). A quantized layer has
// the float layer's forward / stream API, options and result shapes (src/layers.ts), over a QuantEngine
// (src/quantized-engine.ts) on the backend its layer chose; training calls throw. A Sequential quantizes to a
// QuantizedSequential: its recurrent layers quantized, its Linear / Embedding / LastStep modules copied in float32.
// docs/quantization.md states the scheme, its error and its speed.
import { RnnError } from "./errors.js";
import { backendRuntime, chooseBackend } from "./backend.js";
import type { Spec } from "./architecture.js";
import { flag, knownKeys, oneOf, optionsObject, nanPolicyOption, describeValue } from "./options.js";
import type { NanPolicy, Tensor } from "./tensor.js";
import {
  RecurrentLayer, checkLayerCall, checkLayerOut, InputScratch, layerResult, type ForwardOptions, type LayerOut, type LayerResult, type LayerState,
} from "./layers.js";
import { StreamState } from "./stream-state.js";
import { RecurrentCell, checkCellStep } from "./cells.js";
import { Runtime } from "./runtime.js";
import { Linear } from "./train/linear.js";
import { Embedding } from "./train/embedding.js";
import { LastStep, Sequential, type Module } from "./train/sequential.js";
import { modelName } from "./weights.js";
import {
  chooseQuantForm, ReferenceQuantEngine, WasmQuantEngine, type QuantChoice, type QuantDtype, type QuantEngine,
  type QuantSource, type QuantWeights,
} from "./quantized-engine.js";

export type { QuantDtype };

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /**
   * `'int8'`: weights quantized to 8 bits per output row (a quarter of float32's bytes where the relaxed dot-add
   * runs, half where int8 values are stored as int16), activations to 8 bits (7 in the relaxed form) per row and call;
   * `'int12'`: 12-bit weights and activations stored as int16 (half of float32's bytes, about a sixteenth of int8's
   * error, the same speed).
   */
  dtype: QuantDtype;
  /**
   * Which integer form runs `'int8'`: `'auto'` (default) picks `'q8'` (int8 x 7-bit, the relaxed SIMD dot-add) on a
   * relaxed-SIMD runtime where it is correct and faster, else `'q16'` (int8 values in int16 lanes, every build);
   * naming one forces it (`'q8'` runs on every build, slower without relaxed SIMD). Ignored for `'int12'`.
   */
  form?: "auto" | "q16" | "q8";
  /** Where it runs: default the layer's own backend. */
  backend?: "wasm" | "reference";
  /** The wasm runtime: default the one `init()` loaded (pass the layer's if it was made on another). */
  runtime?: Runtime;
  /** NaN/Infinity in inputs and states: 'error' (default) throws, 'propagate' computes on. */
  nanPolicy?: NanPolicy;
}

/** What a quantized layer or cell is made of: its engine and the choices behind it. */
interface QuantizedParts {
  spec: Spec;
  engine: QuantEngine;
  dtype: QuantDtype;
  backend: "wasm" | "reference";
  nanPolicy: NanPolicy;
}

/** Options of a quantized model's engine, checked: what quantize() and loadQuantized() share. */
export interface EngineOptions {
  form: "auto" | "q16" | "q8";
  backend: "wasm" | "reference";
  runtime: Runtime | undefined;
  nanPolicy: NanPolicy;
}

/** Checks `form`, `backend`, `runtime` and `nanPolicy` of an options object (backend's default: `defaultBackend`). */
export function engineOptions(o: Record<string, unknown>, defaultBackend: "wasm" | "reference"): EngineOptions {
  const form = oneOf("form", o.form, ["auto", "q16", "q8"] as const, "auto");
  const backend = oneOf("backend", o.backend, ["wasm", "reference"] as const, defaultBackend);
  if (o.runtime !== undefined && !(o.runtime instanceof Runtime)) {
    throw new RnnError("unexpected", `runtime must be a Runtime from init() or createRuntime(), got ${describeValue(o.runtime)}`);
  }
  return { form, backend, runtime: o.runtime as Runtime | undefined, nanPolicy: nanPolicyOption(o.nanPolicy) };
}

/** The engine of `spec` from float parameters (quantized on the way) or from a file's quantized weights. */
export function buildQuantized(spec: Spec, source: QuantSource, dtype: QuantDtype, o: EngineOptions, what: string): QuantizedParts {
  const runtime = backendRuntime(o.backend, o.runtime);
  const choice: QuantChoice = chooseQuantForm(dtype, runtime, o.form);
  const engine = chooseBackend<QuantEngine>(runtime, {
    wasm: (rt) => new WasmQuantEngine(rt, spec, source, choice, `${what} (${dtype})`),
    reference: () => new ReferenceQuantEngine(spec, source, choice),
  });
  return { spec, engine, dtype, backend: o.backend, nanPolicy: o.nanPolicy };
}

/** Checks the options and makes the engine of a quantized copy of `source`. */
function quantizedEngine(source: RecurrentLayer | RecurrentCell, options: QuantizeOptions, what: string): QuantizedParts {
  if (pendingParts) return pendingParts;
  const o = optionsObject("quantize options", options);
  knownKeys("quantize", o, ["dtype", "form", "backend", "runtime", "nanPolicy"]);
  if (o.dtype === undefined) throw new RnnError("missing", "quantize needs { dtype: 'int8' } or { dtype: 'int12' }");
  const dtype = oneOf("dtype", o.dtype, ["int8", "int12"] as const, "int8");
  const checked = engineOptions(o, source.backend);
  const params = Object.fromEntries(Object.entries(source.toTorch()).map(([k, t]) => [k, t.data]));
  return buildQuantized(source.spec, params, dtype, checked, what);
}

/** Parts handed to the constructors by quantizedFrom (a file's model), in place of a float model to quantize. */
let pendingParts: QuantizedParts | null = null;

/**
 * A QuantizedLayer or QuantizedCell over `parts` (src/quantized-file.ts: a model loaded from a file).
 *
 * @internal
 */
export function quantizedFrom(parts: QuantizedParts): QuantizedLayer | QuantizedCell {
  pendingParts = parts;
  try {
    return parts.spec.cell ? new QuantizedCell(null as never, null as never) : new QuantizedLayer(null as never, null as never);
  } finally {
    pendingParts = null;
  }
}

/** The error of a training call on a quantized layer or cell. */
function inferenceOnly(call: string): RnnError {
  return new RnnError("state", `${call} is not available: a quantized layer or cell runs inference only ` +
    "(train the float32 model, then quantize() it)");
}

/** The training calls every quantized model refuses (layers, cells and Sequentials). */
abstract class InferenceOnly {
  /** Throws RnnError 'disposed' once the model is disposed. */
  protected abstract live(): unknown;

  /** Not available: a quantized model runs inference only (throws RnnError 'state'). */
  backward(): never {
    this.live();
    throw inferenceOnly("backward()");
  }

  /** Not available: a quantized model has no float parameters for an optimizer (throws RnnError 'state'). */
  parameterBuffers(): never {
    this.live();
    throw inferenceOnly("parameterBuffers()");
  }

  /** Not available (throws RnnError 'state'). */
  zeroGrad(): never {
    this.live();
    throw inferenceOnly("zeroGrad()");
  }
}

/** What quantized layers and cells share: the engine, its lifetime, and the refusal of training calls. */
abstract class QuantizedBase extends InferenceOnly {
  /** The architecture, as the float layer's. */
  readonly spec: Spec;
  /** The storage asked for. */
  readonly dtype: QuantDtype;
  /** 'wasm' or 'reference'. */
  readonly backend: "wasm" | "reference";
  /** The integer form it runs: 'q16' (int8 or int12 values in int16 lanes) or 'q8' (int8 x 7-bit, relaxed dot-add). */
  readonly form: "q16" | "q8";
  protected readonly nanPolicy: NanPolicy;
  private engine: QuantEngine | null;

  protected constructor(source: RecurrentLayer | RecurrentCell, options: QuantizeOptions, what: string) {
    super();
    const e = quantizedEngine(source, options, what);
    this.spec = e.spec;
    this.dtype = e.dtype;
    this.backend = e.backend;
    this.form = e.engine.choice.form;
    this.nanPolicy = e.nanPolicy;
    this.engine = e.engine;
  }

  protected live(): QuantEngine {
    if (!this.engine) throw new RnnError("disposed", `this quantized ${modelName(this.spec)} was disposed; quantize the float one again`);
    return this.engine;
  }

  /** Bytes of wasm memory its quantized weights and biases hold (0 on the reference backend). */
  get weightBytes(): number {
    return this.live().weightBytes;
  }

  /**
   * The quantized weights as held (integers, row scales, biases), for saveQuantized.
   *
   * @internal
   */
  quantizedWeights(): QuantWeights {
    return this.live().weights();
  }

  /** Not available (throws RnnError 'state'). */
  grads(): never {
    this.live();
    throw inferenceOnly("grads()");
  }

  /** Frees its wasm memory. Safe to call twice; any later call throws RnnError 'disposed'. */
  dispose(): void {
    if (!this.engine) return;
    this.engine.dispose();
    this.engine = null;
  }

  /** `dispose()`, for `using q = quantize(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Options of a quantized layer's `forward`: the initial state and per-row lengths, as {@link RecurrentLayer.forward}'s. */
export interface QuantizedForwardOptions extends LayerState {
  /** Variable-length batch: row b's sequence is its first lengths[b] steps (as the float layer's). */
  lengths?: ArrayLike<number>;
  /** Must be false or absent: `true` throws RnnError 'state' (a quantized layer runs inference only). */
  train?: boolean;
  /**
   * Tensors to write the results into and return, as the float layer's forward option `out`: shaped
   * exactly as this call's results, checked before anything is written; reused across calls, forward allocates
   * nothing on the wasm backend (with a time-major input).
   */
  out?: ForwardOptions["out"];
}

/**
 * An LSTM, GRU or RNN layer with quantized weights, made by {@link quantize}: `forward` and `stream` as the float
 * layer's (same options and result shapes), inference only.
 *
 * @example
 * ```ts
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 64, seed: 1 });
 * const q = quantize(lstm, { dtype: "int8" });
 * const { output, hN, cN } = q.forward(tensor([20, 1, 8])); // [20, 1, 64], [1, 1, 64], [1, 1, 64]
 * q.dispose();
 * ```
 */
export class QuantizedLayer extends QuantizedBase {
  private readonly streamState = new StreamState();
  private readonly inputScratch = new InputScratch();

  /**
   * A quantized copy of `layer` (which stays as it is); {@link quantize} calls it.
   *
   * @param layer the float layer whose current weights are quantized
   * @param options the dtype and where it runs; see {@link QuantizeOptions}
   */
  constructor(layer: RecurrentLayer, options: QuantizeOptions) {
    super(layer, options, pendingParts ? "" : `a quantized ${modelName(layer.spec)}`);
  }

  /**
   * Runs the layer over a whole sequence from `options.h0` / `c0` (zeros when omitted): results shaped as the float
   * layer's `forward`. `train: true` throws RnnError 'state'.
   *
   * @param input `[T, B, inputSize]` (`[B, T, inputSize]` batch-first) or unbatched `[T, inputSize]`
   * @param options initial states, lengths, and `out` (tensors to write the results into)
   */
  forward(input: Tensor, options: QuantizedForwardOptions = {}): LayerResult {
    const engine = this.live();
    const state = optionsObject("forward options", options);
    knownKeys("forward", state, ["h0", "c0", "train", "lengths", "out"]);
    if (flag("train", state.train, false)) throw inferenceOnly("forward(input, { train: true })");
    const s = this.spec;
    const out = state.out;
    const call = checkLayerCall(s, input, state, this.nanPolicy, out === undefined ? undefined : this.inputScratch);
    const into = out === undefined ? undefined : checkLayerOut(s, call, out, { input: input.data, h0: call.h0, c0: call.c0 });
    return layerResult(s, call, engine.forward(call.timeMajor, call.T, call.B, call.h0, call.c0, call.lengths, into), out, into);
  }

  /**
   * Streaming, as the float layer's: runs `input` from the state the previous call ended in and keeps the new one.
   *
   * @param input one step or a chunk, shaped as for forward
   * @param streamOptions `out`, as forward's (the results written into its tensors); `train: true` throws RnnError 'state'
   */
  stream(input: Tensor, streamOptions: { train?: boolean; out?: LayerOut } = {}): LayerResult {
    this.live();
    const options = optionsObject("stream options", streamOptions);
    knownKeys("stream", options, ["train", "out"]);
    if (flag("train", options.train, false)) throw inferenceOnly("stream(input, { train: true })");
    const call = options.out !== undefined ? { out: options.out as LayerOut } : {};
    return this.streamState.step(this.spec.bidirectional, (s) => this.forward(input, s ? { h0: s.h0, c0: s.c0, ...call } : call));
  }

  /**
   * Forgets the streaming state, or sets it to `initial` (checked on the next stream() call).
   *
   * @param initial `h0` (and `c0`) to continue from
   */
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
 * An LSTMCell, GRUCell or RNNCell with quantized weights, made by {@link quantize}: one step `forward` as the float
 * cell's, inference only.
 */
export class QuantizedCell extends QuantizedBase {
  /**
   * A quantized copy of `cell`; {@link quantize} calls it.
   *
   * @param cell the float cell whose current weights are quantized
   * @param options the dtype and where it runs; see {@link QuantizeOptions}
   */
  constructor(cell: RecurrentCell, options: QuantizeOptions) {
    super(cell, options, pendingParts ? "" : `a quantized ${modelName(cell.spec)}Cell`);
  }

  /**
   * One step from `state` (zeros when omitted): the new h (and c for an LSTM cell), as the float cell's forward.
   *
   * @param input [B, inputSize], or [inputSize] unbatched
   * @param state `h`, `c` to start from; `train: true` throws RnnError 'state'
   */
  forward(input: Tensor, state: {
    /** Hidden state, [B, H] ([H] unbatched). */
    h?: Tensor;
    /** LSTM cell only: cell state, [B, H]. */
    c?: Tensor;
    /** Must be false or absent. */
    train?: boolean;
  } = {}): {
    /** The new hidden state, [B, H]. */
    h: Tensor;
    /** LSTM cell only: the new cell state, [B, H]. */
    c?: Tensor;
  } {
    const engine = this.live();
    const given = optionsObject("forward options", state);
    knownKeys("forward", given, ["h", "c", "train"]);
    if (flag("train", given.train, false)) throw inferenceOnly("forward(input, { train: true })");
    const { x, B, shape, h, c } = checkCellStep(this.spec, input, given, this.nanPolicy);
    const r = engine.forward(x, 1, B, h, c, null);
    const out: { h: Tensor; c?: Tensor } = { h: { shape, data: r.hN } };
    if (r.cN) out.c = { shape: [...shape], data: r.cN };
    return out;
  }
}

/** A module of a QuantizedSequential: a quantized recurrent layer, or a float32 module. */
export type QuantizedPart = QuantizedLayer | Module;

/**
 * A {@link Sequential} with its recurrent layers quantized, made by {@link quantize}: `forward` (and `stream`) as the
 * float model's, inference only. Its modules are copies: each recurrent layer quantized ({@link QuantizedLayer}),
 * `Linear`, `Embedding` and `LastStep` copied in float32 (a head is one small product per sequence or step, beside
 * the recurrent matrices every step reads: quantizing it would save little and add its error to every output); a
 * module of your own is used as it is, shared with the float model, which keeps it (dispose() here leaves it alone).
 *
 * @example
 * ```ts
 * const model = new Sequential([new LSTM({ inputSize: 1, hiddenSize: 32 }), new LastStep(), new Linear({ inFeatures: 32, outFeatures: 4 })]);
 * // ... train it ...
 * const q = quantize(model, { dtype: "int8" }); // the LSTM int8, the head float32
 * const logits = q.forward(x); // [B, 4], as model.forward(x)
 * ```
 */
export class QuantizedSequential extends InferenceOnly {
  /** The modules, in the order they run: quantized layers and float32 copies (or your own modules, shared). */
  readonly modules: readonly QuantizedPart[];
  /** The storage of its recurrent layers' weights. */
  readonly dtype: QuantDtype;
  private readonly owned: ReadonlySet<QuantizedPart>;
  private disposed = false;

  /**
   * A quantized copy of `model` (which stays as it is); {@link quantize} calls it.
   *
   * @param model a Sequential with at least one recurrent layer
   * @param options as for a layer ({@link QuantizeOptions}); `backend`, `runtime` and `nanPolicy` also apply to the
   *   float32 copies (default: a Linear's own backend; an Embedding's, which it does not record, that of the model's
   *   first recurrent layer)
   */
  constructor(model: Sequential, options: QuantizeOptions) {
    super();
    const o = optionsObject("quantize options", options);
    if (!model.modules.some((m) => m instanceof RecurrentLayer)) {
      throw new RnnError("unexpected", "quantize: this Sequential has no recurrent layer (LSTM, GRU or RNN) to quantize");
    }
    const firstLayer = model.modules.find((m): m is RecurrentLayer => m instanceof RecurrentLayer)!;
    const floatOptions = (backend: "wasm" | "reference") => ({
      backend: (o.backend as "wasm" | "reference" | undefined) ?? backend,
      ...(o.runtime !== undefined ? { runtime: o.runtime as Runtime } : {}),
      ...(o.nanPolicy !== undefined ? { nanPolicy: o.nanPolicy as NanPolicy } : {}),
    });
    const made: QuantizedPart[] = [];
    const owned = new Set<QuantizedPart>();
    try {
      model.modules.forEach((m) => {
        let part: QuantizedPart;
        if (m instanceof RecurrentLayer) part = new QuantizedLayer(m, options);
        else if (m instanceof Linear) part = Linear.fromTorch(m.toTorch(), floatOptions(m.backend));
        else if (m instanceof Embedding) {
          part = new Embedding({ numEmbeddings: m.numEmbeddings, embeddingDim: m.embeddingDim, ...floatOptions(firstLayer.backend) }, m.toTorch().weight.data);
        } else if (m instanceof LastStep) part = new LastStep(m.batchFirst === undefined ? {} : { batchFirst: m.batchFirst });
        else {
          made.push(m);
          return;
        }
        made.push(part);
        owned.add(part);
      });
    } catch (e) {
      for (const part of owned) part.dispose?.();
      throw e;
    }
    this.modules = made;
    this.owned = owned;
    this.dtype = (made.find((m) => m instanceof QuantizedLayer) as QuantizedLayer).dtype;
  }

  protected live(): void {
    if (this.disposed) throw new RnnError("disposed", "this quantized Sequential was disposed; quantize the float one again");
  }

  /**
   * Runs every module in turn, as the float model's forward. `stream` makes the quantized layers continue from the
   * state their previous call ended in; `train: true` throws RnnError 'state'.
   *
   * @param x the first module's input
   * @param options `stream`, and `train` (must be false or absent)
   */
  forward(x: Tensor, options: {
    /** Must be false or absent. */
    train?: boolean;
    /** Continue each quantized layer from the state its previous call ended in. */
    stream?: boolean;
  } = {}): Tensor {
    this.live();
    const o = optionsObject("forward options", options);
    knownKeys("forward", o, ["train", "stream"]);
    if (flag("train", o.train, false)) throw inferenceOnly("forward(x, { train: true })");
    const stream = flag("stream", o.stream, false);
    let y = x;
    for (const m of this.modules) {
      y = m instanceof QuantizedLayer ? (stream ? m.stream(y) : m.forward(y)).output : m.forward(y);
    }
    return y;
  }

  /** Bytes of wasm memory the quantized layers' weights and biases hold (the float32 copies not counted). */
  get weightBytes(): number {
    this.live();
    return this.modules.reduce((n, m) => n + (m instanceof QuantizedLayer ? m.weightBytes : 0), 0);
  }

  /** Forgets the streaming state of every quantized layer. */
  resetState(): void {
    this.live();
    for (const m of this.modules) if (m instanceof QuantizedLayer) m.resetState();
  }

  /** Frees the quantized layers and the float32 copies (not your own modules). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.modules) if (this.owned.has(m)) m.dispose?.();
  }

  /** `dispose()`, for `using q = quantize(model, ...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * An inference-only copy of a trained layer or cell with quantized weights: each weight matrix quantized once per
 * output row (symmetric, one float32 scale per row), the input and hidden state quantized per row at each product,
 * integer products, then the float32 gate maths as the float layer's (docs/quantization.md: the scheme, its error
 * against PyTorch's quantize_dynamic, and its speed). The layer given is not changed; dispose each separately.
 *
 * A {@link Sequential} gives a {@link QuantizedSequential}: its recurrent layers quantized, its Linear, Embedding and
 * LastStep modules copied in float32.
 *
 * @param model an {@link LSTM}, {@link GRU} or {@link RNN} (or one from {@link fromTorch}), a cell, or a Sequential
 * @param options `dtype` ('int8' or 'int12') and where it runs; see {@link QuantizeOptions}
 * @returns a {@link QuantizedLayer} for a layer, a {@link QuantizedCell} for a cell, a {@link QuantizedSequential}
 *   for a Sequential
 * @throws RnnError 'missing' without a dtype, 'unexpected' for an unknown option or value or a Sequential without a
 *   recurrent layer, 'disposed' for a disposed model
 *
 * @example
 * ```ts
 * await init();
 * const gru = new GRU({ inputSize: 4, hiddenSize: 128, seed: 1 });
 * const q = quantize(gru, { dtype: "int8" });
 * const { output } = q.forward(tensor([50, 1, 4])); // as gru.forward's, within about 1%
 * ```
 */
export function quantize(model: RecurrentLayer, options: QuantizeOptions): QuantizedLayer;
export function quantize(model: RecurrentCell, options: QuantizeOptions): QuantizedCell;
export function quantize(model: Sequential, options: QuantizeOptions): QuantizedSequential;
export function quantize(model: RecurrentLayer | RecurrentCell | Sequential, options: QuantizeOptions): QuantizedLayer | QuantizedCell | QuantizedSequential {
  if (model instanceof RecurrentLayer) return new QuantizedLayer(model, options);
  if (model instanceof RecurrentCell) return new QuantizedCell(model, options);
  if (model instanceof Sequential) return new QuantizedSequential(model, options);
  throw new RnnError("unexpected", `quantize takes an LSTM, GRU or RNN layer or cell, or a Sequential, got ${describeValue(model)}`);
}
