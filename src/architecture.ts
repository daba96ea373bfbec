// src/architecture.ts: a recurrent layer's architecture (the options a user passes, with defaults filled in) and the
// PyTorch parameter names and shapes it implies. Everything else derives sizes from here or from layout.ts.
import { RnnError } from "./errors.js";
import { describeValue, flag, oneOf, optionsObject } from "./options.js";

/** The three recurrent families: long short-term memory, gated recurrent unit, Elman RNN. */
export type Kind = "lstm" | "gru" | "rnn";
/** The activation of an Elman RNN (`RNN`, `RNNCell`), as PyTorch's `nonlinearity`. */
export type Nonlinearity = "tanh" | "relu";

/** Architecture options shared by `LSTM`, `GRU` and `RNN` (names and defaults as PyTorch's constructors). */
export interface ArchitectureOptions {
  /** Features per timestep of the input. */
  inputSize: number;
  /** Units of the cell state (and of h, unless `projSize` is set). */
  hiddenSize: number;
  /** Stacked layers; layer k > 0 reads layer k-1's output. Default 1. */
  numLayers?: number;
  /** Run a second direction from the end of the sequence and concatenate. Default false. */
  bidirectional?: boolean;
  /** Input and output as [B, T, F] instead of [T, B, F]. Default false. States stay [D*L, B, H]. */
  batchFirst?: boolean;
  /** Use b_ih and b_hh. Default true. */
  bias?: boolean;
  /** LSTM only: project h to this size with weight_hr (PyTorch `proj_size`). Default 0 (none). */
  projSize?: number;
  /** RNN only: 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
  /** GRU only: apply the reset gate after the recurrent matmul (PyTorch, default true) or before it. */
  resetAfter?: boolean;
}

/** ArchitectureOptions with every default filled in; `cell` marks a one-step cell (names without `_l0`). */
export interface Spec {
  /** LSTM, GRU or RNN. */
  kind: Kind;
  /** True for a one-step cell (`LSTMCell`, ...), false for a sequence layer. */
  cell: boolean;
  /** Features per timestep of the input. */
  inputSize: number;
  /** Units of the cell state (and of h, unless `projSize` is set). */
  hiddenSize: number;
  /** Stacked layers (1 for a cell). */
  numLayers: number;
  /** Whether a second direction runs from the end of the sequence (false for a cell). */
  bidirectional: boolean;
  /** Whether input and output are [B, T, F] (false for a cell). */
  batchFirst: boolean;
  /** Whether the layer has `bias_ih` and `bias_hh`. */
  bias: boolean;
  /** LSTM only: the size h is projected to; 0 for none. */
  projSize: number;
  /** RNN only: the activation ('tanh' for the other kinds, where it is unused). */
  nonlinearity: Nonlinearity;
  /** GRU only: whether the reset gate applies after the recurrent matmul (true for the other kinds, where it is unused). */
  resetAfter: boolean;
}

/** Gates stacked along the rows of weight_ih / weight_hh. */
export function gateCount(kind: Kind): number {
  return kind === "lstm" ? 4 : kind === "gru" ? 3 : 1;
}

export function directions(spec: Spec): number {
  return spec.bidirectional ? 2 : 1;
}

/** Size of h (and of each direction's output): projSize when set, else hiddenSize. */
export function outputSize(spec: Spec): number {
  return spec.projSize > 0 ? spec.projSize : spec.hiddenSize;
}

/** Input features of layer `layer`: inputSize for the first, directions * outputSize after. */
export function layerInputSize(spec: Spec, layer: number): number {
  return layer === 0 ? spec.inputSize : directions(spec) * outputSize(spec);
}

/**
 * Most stacked layers a model may have. PyTorch sets no bound; stacks deeper than a few dozen layers do not train,
 * and without one a 272-byte file naming `weight_ih_l99999999999` would have us list 10^11 layers.
 */
export const MAX_LAYERS = 4096;

function positiveInt(name: string, v: unknown): number {
  if (v === undefined) throw new RnnError("missing", `option ${name} is required (a positive integer)`);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new RnnError("shape", `option ${name} must be a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

/** The options of ArchitectureOptions, for refusing unknown ones; a cell takes CELL_KEYS of them. */
export const ARCHITECTURE_KEYS = ["inputSize", "hiddenSize", "numLayers", "bidirectional", "batchFirst", "bias", "projSize", "nonlinearity", "resetAfter"] as const;
export const CELL_KEYS = ["inputSize", "hiddenSize", "bias", "nonlinearity", "resetAfter"] as const;

/** The three kinds, for checking a `kind` option. */
export const KINDS: readonly Kind[] = ["lstm", "gru", "rnn"];

export function makeSpec(kind: Kind, options: ArchitectureOptions, cell = false): Spec {
  const o = optionsObject(`${kind.toUpperCase()}${cell ? "Cell" : ""} options`, options) as ArchitectureOptions;
  const absent = (["inputSize", "hiddenSize"] as const).filter((k) => o[k] === undefined);
  if (absent.length > 0) throw new RnnError("missing", `${kind.toUpperCase()} needs option${absent.length > 1 ? "s" : ""} ${absent.join(" and ")} (positive integers)`);
  const projSize = o.projSize ?? 0;
  if (projSize !== 0 && kind !== "lstm") throw new RnnError("unexpected", `projSize is an LSTM option, not a ${kind} one`);
  if (projSize !== 0) positiveInt("projSize", projSize);
  if (o.nonlinearity !== undefined && kind !== "rnn") throw new RnnError("unexpected", `nonlinearity is an RNN option, not a ${kind} one`);
  if (o.resetAfter !== undefined && kind !== "gru") throw new RnnError("unexpected", `resetAfter is a GRU option, not a ${kind} one`);
  const numLayers = o.numLayers === undefined ? 1 : positiveInt("numLayers", o.numLayers);
  if (numLayers > MAX_LAYERS) throw new RnnError("shape", `option numLayers is ${numLayers}; at most ${MAX_LAYERS} layers are supported`);
  const spec: Spec = {
    kind,
    cell,
    inputSize: positiveInt("inputSize", o.inputSize),
    hiddenSize: positiveInt("hiddenSize", o.hiddenSize),
    numLayers,
    bidirectional: flag("bidirectional", o.bidirectional, false),
    batchFirst: flag("batchFirst", o.batchFirst, false),
    bias: flag("bias", o.bias, true),
    projSize,
    nonlinearity: oneOf("nonlinearity", o.nonlinearity, ["tanh", "relu"] as const, "tanh"),
    resetAfter: flag("resetAfter", o.resetAfter, true),
  };
  if (projSize >= spec.hiddenSize) {
    throw new RnnError("shape", `projSize (${projSize}) must be smaller than hiddenSize (${spec.hiddenSize}), as in PyTorch`);
  }
  if (cell && (spec.numLayers !== 1 || spec.bidirectional || spec.projSize)) {
    throw new RnnError("unexpected", `a ${kind} cell has one layer, one direction and no projection`);
  }
  return spec;
}

/** What a parameter is, by PyTorch's name for it (without the `_l{k}` / `_reverse` suffix). */
export type ParamRole = "weight_ih" | "weight_hh" | "bias_ih" | "bias_hh" | "weight_hr";

/** One PyTorch parameter: its state_dict name, shape, and where it belongs. */
export interface ParamInfo {
  /** The state_dict name, such as `weight_hh_l1_reverse` (a cell's has no suffix: `weight_hh`). */
  name: string;
  /** What it is: the name without its suffix. */
  role: ParamRole;
  /** Its layer, from 0. */
  layer: number;
  /** Its direction: 0 forward, 1 reverse. */
  dir: number;
  /** Its shape, as PyTorch's tensor has it. */
  shape: number[];
}

export function paramSuffix(spec: Spec, layer: number, dir: number): string {
  return spec.cell ? "" : `_l${layer}${dir === 1 ? "_reverse" : ""}`;
}

/**
 * The parameters of an architecture, with their names and shapes, in PyTorch's state_dict order.
 *
 * @param spec the architecture (a layer's or cell's `spec`)
 * @returns one entry per tensor a state_dict of that architecture holds
 */
export function paramList(spec: Spec): ParamInfo[] {
  const G = gateCount(spec.kind);
  const H = spec.hiddenSize;
  const out: ParamInfo[] = [];
  for (let layer = 0; layer < spec.numLayers; layer++) {
    for (let dir = 0; dir < directions(spec); dir++) {
      const s = paramSuffix(spec, layer, dir);
      const add = (role: ParamRole, shape: number[]) => out.push({ name: role + s, role, layer, dir, shape });
      add("weight_ih", [G * H, layerInputSize(spec, layer)]);
      add("weight_hh", [G * H, outputSize(spec)]);
      if (spec.bias) {
        add("bias_ih", [G * H]);
        add("bias_hh", [G * H]);
      }
      if (spec.projSize > 0) add("weight_hr", [spec.projSize, H]);
    }
  }
  return out;
}

/** Parameters for `numel(shape)` elements drawn as PyTorch does: uniform in [-1/sqrt(H), 1/sqrt(H)]. */
export function initBound(spec: Spec): number {
  return 1 / Math.sqrt(spec.hiddenSize);
}
