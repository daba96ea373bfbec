// src/cells.ts: one-step cells LSTMCell, GRUCell and RNNCell, as torch.nn.LSTMCell etc.:
//   input [B, I] (or [I] unbatched), h [B, H], c [B, H]  ->  { h, c } after one step.
// Parameter names have no layer suffix: weight_ih, weight_hh, bias_ih, bias_hh. A cell runs the same kernels as
// a one-layer, one-step layer, forward and backward.
import { RnnError } from "./errors.js";
import { BACKEND_KEYS, RecurrentBase, type BackendOptions } from "./recurrent-base.js";
import { flag, knownKeys, optionsObject } from "./options.js";
import { CELL_KEYS, makeSpec, type Kind, type Nonlinearity, type Spec } from "./architecture.js";
import { checkTensor, checkTensorData, type NanPolicy, type Tensor } from "./tensor.js";
import type { WeightValue } from "./weights.js";

/** A cell's options (torch.nn.LSTMCell's arguments, in camelCase) and where it runs. */
export interface CellOptions extends BackendOptions {
  /** Features of the input. */
  inputSize: number;
  /** Units of h (and of the LSTM cell state). */
  hiddenSize: number;
  /** Use b_ih and b_hh. Default true. */
  bias?: boolean;
}
/** Options of {@link RNNCell}. */
export interface RNNCellOptions extends CellOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
}
/** Options of {@link GRUCell}. */
export interface GRUCellOptions extends CellOptions {
  /** Apply the reset gate after the recurrent matmul (PyTorch, default true) or before it (the original GRU). */
  resetAfter?: boolean;
}

/** A cell's state: h [B, H] and, for an LSTMCell, c [B, H]. Missing means zeros. */
export interface CellState {
  /** Hidden state, [B, H] ([H] unbatched). */
  h?: Tensor;
  /** LSTMCell only: cell state, [B, H]. */
  c?: Tensor;
}

/** Options of a cell's `forward`: the state to start from, and whether to keep what `backward` needs. */
export interface CellForwardOptions extends CellState {
  /** Keep what backward() needs. Default false. */
  train?: boolean;
}

/** Gradients of the loss with respect to a cell's step: those of its input and of the state it started from. */
export interface CellGradients {
  /** dL/d`input`, shaped as the input. */
  dInput: Tensor;
  /** dL/d of the `h` the step started from. */
  dh: Tensor;
  /** LSTMCell only. */
  dc?: Tensor;
}

/** A cell step's input and state, checked: what the float and the quantized cells' forward() both take. */
export interface CellStep {
  x: Float32Array;
  B: number;
  /** The state's shape: [B, H], or [H] for an unbatched input. */
  shape: number[];
  h: Float32Array | null;
  c: Float32Array | null;
}

/**
 * Checks one step's input ([B, inputSize] or unbatched [inputSize]) and the given h / c against `spec`, for the float
 * cells (below) and the quantized ones (quantized.ts).
 *
 * @throws RnnError 'shape' / 'dtype' / 'nonfinite' naming the tensor; 'unexpected' for c given to a GRU/RNN cell
 */
export function checkCellStep(spec: Spec, input: Tensor, given: { h?: Tensor; c?: Tensor }, nanPolicy: NanPolicy): CellStep {
  const H = spec.hiddenSize;
  const rank = (input as Tensor)?.shape?.length;
  if (rank !== 1 && rank !== 2) {
    const form = `[B, inputSize] = [*, ${spec.inputSize}] or unbatched [inputSize] = [${spec.inputSize}]`;
    const { shape } = checkTensorData("input", input, form);
    throw new RnnError("shape", `input has shape [${shape.join(", ")}] (rank ${rank}); it must be ${form}`);
  }
  const batched = rank === 2;
  const x = checkTensor("input", input, batched ? [null, spec.inputSize] : [spec.inputSize], nanPolicy);
  const B = batched ? x.shape[0] : 1;
  if (B < 1) throw new RnnError("shape", "input has no batch rows");
  const shape = batched ? [B, H] : [H];
  const h = given.h === undefined ? null : checkTensor("h", given.h, shape, nanPolicy).data;
  let c: Float32Array | null = null;
  if (given.c !== undefined) {
    if (spec.kind !== "lstm") throw new RnnError("unexpected", `c is only for an LSTMCell; a ${spec.kind.toUpperCase()}Cell has no cell state`);
    c = checkTensor("c", given.c, shape, nanPolicy).data;
  }
  return { x: x.data, B, shape, h, c };
}

/**
 * What {@link LSTMCell}, {@link GRUCell} and {@link RNNCell} share: one step `forward`, its `backward`,
 * `toTorch`, `grads`, `dispose`. `fromTorch` returns one for a state_dict whose names have no `_l0`.
 */
export class RecurrentCell extends RecurrentBase {
  private trainShape: number[] | null = null; // h's shape in the last training forward
  /**
   * A cell of the given kind (the subclasses fix it).
   *
   * @param kind which recurrence to run
   * @param options sizes, bias and backend; see {@link CellOptions}
   * @param params weights by PyTorch name (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`); default random from `options.seed`
   */
  constructor(kind: Kind, options: CellOptions & { nonlinearity?: Nonlinearity; resetAfter?: boolean }, params?: Record<string, WeightValue>) {
    const what = `${kind.toUpperCase()}Cell options`;
    const o = optionsObject(what, options);
    knownKeys(what, o, [...CELL_KEYS, ...BACKEND_KEYS]);
    const { backend, runtime, seed, nanPolicy, ...arch } = o as CellOptions;
    super(makeSpec(kind, arch, true), { backend, runtime, seed, nanPolicy }, params);
  }

  /**
   * One step from `state` (zeros when omitted); returns the new h (and c for an LSTMCell).
   *
   * @param input [B, inputSize], or [inputSize] unbatched
   * @param state `h`, `c` to start from, and `train` to keep what backward() needs
   */
  forward(input: Tensor, state: CellForwardOptions = {}): {
    /** The new hidden state, [B, H]. */
    h: Tensor;
    /** LSTMCell only: the new cell state, [B, H]. */
    c?: Tensor;
  } {
    const engine = this.live();
    const given = optionsObject("forward options", state);
    knownKeys("forward", given, ["h", "c", "train"]);
    const train = flag("train", given.train, false);
    const { x, B, shape, h, c } = checkCellStep(this.spec, input, given, this.nanPolicy);
    this.trainShape = null;
    const r = engine.forward(x, 1, B, h, c, train, null);
    if (train) this.trainShape = shape;
    const out: { h: Tensor; c?: Tensor } = { h: { shape, data: r.hN } };
    if (r.cN) out.c = { shape: [...shape], data: r.cN };
    return out;
  }

  /**
   * Backpropagates the last `forward(input, { train: true })`: takes dL/dh (and dL/dc) of the new state, omitted
   * ones being zero; returns dL/d input and dL/d of the old state; ADDS the parameter gradients into grads().
   */
  backward(gradients: {
    /** dL/d of the new `h`, [B, H]. */
    h?: Tensor;
    /** LSTMCell only: dL/d of the new `c`, [B, H]. */
    c?: Tensor;
  } = {}): CellGradients {
    const engine = this.live();
    const upstream = optionsObject("backward's gradients", gradients);
    knownKeys("backward", upstream, ["h", "c"]);
    const shape = this.trainShape;
    if (!shape) throw new RnnError("state", "backward() needs a forward(input, { train: true }) first, and runs once per such forward");
    const s = this.spec;
    const dh = upstream.h === undefined ? null : checkTensor("h gradient", upstream.h, shape, this.nanPolicy).data;
    let dc: Float32Array | null = null;
    if (upstream.c !== undefined) {
      if (s.kind !== "lstm") throw new RnnError("unexpected", `a c gradient is only for an LSTMCell; a ${s.kind.toUpperCase()}Cell has no cell state`);
      dc = checkTensor("c gradient", upstream.c, shape, this.nanPolicy).data;
    }
    this.trainShape = null;
    // the step's output is its new h, which is also the final state: its gradient goes in once, as dhN
    const g = engine.backward(null, dh, dc);
    const inputShape = shape.length === 2 ? [shape[0], s.inputSize] : [s.inputSize];
    const out: CellGradients = { dInput: { shape: inputShape, data: g.dx }, dh: { shape: [...shape], data: g.dh0 } };
    if (g.dc0) out.dc = { shape: [...shape], data: g.dc0 };
    return out;
  }
}

/**
 * One LSTM step, as torch.nn.LSTMCell.
 *
 * @example
 * ```ts
 * const cell = new LSTMCell({ inputSize: 3, hiddenSize: 5, backend: "reference", seed: 1 });
 * let state = {}; // zeros
 * for (const x of steps) state = cell.forward(x, state); // x [B, 3] -> { h: [B, 5], c: [B, 5] }
 * ```
 */
export class LSTMCell extends RecurrentCell {
  /**
   * An LSTMCell: weights from `params`, or random (uniform in ±1/√hiddenSize).
   *
   * @param options sizes, bias and backend; see {@link CellOptions}
   * @param params weights by PyTorch name; default random from `options.seed`
   */
  constructor(options: CellOptions, params?: Record<string, WeightValue>) {
    super("lstm", options, params);
  }
}

/** One GRU step, as torch.nn.GRUCell (`resetAfter: false` for the original form). */
export class GRUCell extends RecurrentCell {
  /**
   * A GRUCell: weights from `params`, or random (uniform in ±1/√hiddenSize).
   *
   * @param options sizes, bias, `resetAfter` and backend; see {@link GRUCellOptions}
   * @param params weights by PyTorch name; default random from `options.seed`
   */
  constructor(options: GRUCellOptions, params?: Record<string, WeightValue>) {
    super("gru", options, params);
  }
}

/** One Elman RNN step with tanh or relu, as torch.nn.RNNCell. */
export class RNNCell extends RecurrentCell {
  /**
   * An RNNCell: weights from `params`, or random (uniform in ±1/√hiddenSize).
   *
   * @param options sizes, bias, `nonlinearity` and backend; see {@link RNNCellOptions}
   * @param params weights by PyTorch name; default random from `options.seed`
   */
  constructor(options: RNNCellOptions, params?: Record<string, WeightValue>) {
    super("rnn", options, params);
  }
}

export function cellFor(kind: Kind, options: CellOptions & { nonlinearity?: Nonlinearity; resetAfter?: boolean }, params?: Record<string, WeightValue>): RecurrentCell {
  return kind === "lstm" ? new LSTMCell(options, params) : kind === "gru" ? new GRUCell(options, params) : new RNNCell(options, params);
}
