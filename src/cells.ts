// src/cells.ts: one-step cells LSTMCell, GRUCell and RNNCell, as torch.nn.LSTMCell etc.:
//   input [B, I] (or [I] unbatched), h [B, H], c [B, H]  ->  { h, c } after one step.
// Parameter names have no layer suffix: weight_ih, weight_hh, bias_ih, bias_hh. A cell runs the same kernels as
// a one-layer, one-step layer.
import { RnnError } from "./errors.js";
import { EngineOwner, type BackendOptions } from "./owner.js";
import { makeSpec, type Kind, type Nonlinearity } from "./spec.js";
import { checkTensor, checkTensorData, type Tensor } from "./tensor.js";

export interface CellOptions extends BackendOptions {
  inputSize: number;
  hiddenSize: number;
  /** Use b_ih and b_hh. Default true. */
  bias?: boolean;
}
export interface RNNCellOptions extends CellOptions {
  nonlinearity?: Nonlinearity;
}
export interface GRUCellOptions extends CellOptions {
  resetAfter?: boolean;
}

/** A cell's state: h [B, H] and, for an LSTMCell, c [B, H]. Missing means zeros. */
export interface CellState {
  h?: Tensor;
  c?: Tensor;
}

export class RecurrentCell extends EngineOwner {
  constructor(kind: Kind, options: CellOptions & { nonlinearity?: Nonlinearity; resetAfter?: boolean }, params?: Record<string, Float32Array>) {
    const { backend, runtime, seed, nanPolicy, ...arch } = options ?? ({} as CellOptions);
    super(makeSpec(kind, arch, true), { backend, runtime, seed, nanPolicy }, params);
  }

  /** One step from `state` (zeros when omitted); returns the new h (and c for an LSTMCell). */
  forward(input: Tensor, state: CellState = {}): { h: Tensor; c?: Tensor } {
    const engine = this.live();
    const s = this.spec;
    const H = s.hiddenSize;
    const rank = (input as Tensor)?.shape?.length;
    if (rank !== 1 && rank !== 2) {
      const form = `[B, inputSize] = [*, ${s.inputSize}] or unbatched [inputSize] = [${s.inputSize}]`;
      const { shape } = checkTensorData("input", input, form);
      throw new RnnError("shape", `input has shape [${shape.join(", ")}] (rank ${rank}); it must be ${form}`);
    }
    const batched = rank === 2;
    const x = checkTensor("input", input, batched ? [null, s.inputSize] : [s.inputSize], this.nanPolicy);
    const B = batched ? x.shape[0] : 1;
    if (B < 1) throw new RnnError("shape", "input has no batch rows");
    const shape = batched ? [B, H] : [H];
    const h = state.h === undefined ? null : checkTensor("h", state.h, shape, this.nanPolicy).data;
    let c: Float32Array | null = null;
    if (state.c !== undefined) {
      if (s.kind !== "lstm") throw new RnnError("unexpected", `c is only for an LSTMCell; a ${s.kind.toUpperCase()}Cell has no cell state`);
      c = checkTensor("c", state.c, shape, this.nanPolicy).data;
    }
    const r = engine.forward(x.data, 1, B, h, c, false, null);
    const out: { h: Tensor; c?: Tensor } = { h: { shape, data: r.hN } };
    if (r.cN) out.c = { shape: [...shape], data: r.cN };
    return out;
  }
}

/** One LSTM step, as torch.nn.LSTMCell. */
export class LSTMCell extends RecurrentCell {
  constructor(options: CellOptions, params?: Record<string, Float32Array>) {
    super("lstm", options, params);
  }
}

/** One GRU step, as torch.nn.GRUCell (`resetAfter: false` for the original form). */
export class GRUCell extends RecurrentCell {
  constructor(options: GRUCellOptions, params?: Record<string, Float32Array>) {
    super("gru", options, params);
  }
}

/** One Elman RNN step with tanh or relu, as torch.nn.RNNCell. */
export class RNNCell extends RecurrentCell {
  constructor(options: RNNCellOptions, params?: Record<string, Float32Array>) {
    super("rnn", options, params);
  }
}

export function cellFor(kind: Kind, options: CellOptions & { nonlinearity?: Nonlinearity; resetAfter?: boolean }, params?: Record<string, Float32Array>): RecurrentCell {
  return kind === "lstm" ? new LSTMCell(options, params) : kind === "gru" ? new GRUCell(options, params) : new RNNCell(options, params);
}
