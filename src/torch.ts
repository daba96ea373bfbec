// src/torch.ts: build a layer or cell from a PyTorch state_dict, inferring the architecture from the names and
// shapes (weight_ih_l{k}[_reverse], weight_hh_*, bias_ih_*, bias_hh_*, weight_hr_*; cells: weight_ih, ...).
// Every tensor is checked against the inferred architecture before any memory is allocated, so a bad file
// leaves nothing behind.
import { RnnError } from "./errors.js";
import type { BackendOptions } from "./recurrent-base.js";
import { cellFor, type RecurrentCell } from "./cells.js";
import { layerFor, type RecurrentLayer } from "./layers.js";
import { describeValue, knownKeys, nanPolicyOption, oneOf, optionsObject } from "./options.js";
import { BACKEND_KEYS } from "./recurrent-base.js";
import { KINDS, makeSpec, type ArchitectureOptions, type Kind, type Nonlinearity, type Spec } from "./architecture.js";
import { checkTensor, type Tensor } from "./tensor.js";
import { checkedByFromTorch, checkWeights } from "./weights.js";
import { quantize, type QuantDtype, type QuantizedCell, type QuantizedLayer, type QuantizeOptions } from "./quantized.js";

export interface FromTorchOptions extends BackendOptions {
  /** Force the kind; by default it follows from weight_hh's rows per hidden unit (4 LSTM, 3 GRU, 1 RNN). */
  kind?: Kind;
  /** Key prefix of the recurrent module in a larger state_dict, e.g. 'encoder.lstm.'. Inferred when unique. */
  prefix?: string;
  /** RNN only: 'tanh' (default) or 'relu'; PyTorch does not store it in the state_dict. */
  nonlinearity?: Nonlinearity;
  /** GRU only: true (default, PyTorch) or false for the reset-before form. */
  resetAfter?: boolean;
  /** Layers only: input and output as [B, T, F]. */
  batchFirst?: boolean;
}

/** Options of `fromTorch` for a quantized model: {@link FromTorchOptions} and the dtype. */
export interface FromTorchQuantizedOptions extends FromTorchOptions {
  /** 'int8' or 'int12': the model is returned quantized ({@link quantize}), the float one built on the way and freed. */
  dtype: QuantDtype;
  /** The integer form, as {@link QuantizeOptions}'s `form` ('auto', default, 'q16' or 'q8'). */
  form?: "auto" | "q16" | "q8";
}

const FROM_TORCH_KEYS = ["kind", "prefix", "nonlinearity", "resetAfter", "batchFirst", "dtype", "form", ...BACKEND_KEYS];

const PARAM_NAME = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(?:_l(\d+)(_reverse)?)?$/;

/** Whether `name`, without its module prefix, is a recurrent parameter's name: `weight_ih_l0`, `bias_hh_l1_reverse`, `weight_ih`, ... */
export function isRecurrentParamName(name: string): boolean {
  return PARAM_NAME.test(name);
}

/** The prefixes under which a recurrent module's weight_ih_l0 (or a cell's weight_ih) appears, in first-seen order. */
export function recurrentPrefixes(names: string[]): string[] {
  const found = new Set<string>();
  for (const n of names) {
    const m = /^(.*?)weight_ih(_l0)?$/.exec(n);
    if (m) found.add(m[1]);
  }
  return [...found];
}

/** What a PyTorch state_dict describes, read and checked as `fromTorch` reads it, before anything is built. */
export interface TorchStateDict {
  /** The architecture inferred from the names and shapes, every default filled in (`cell` for names without `_l{k}`). */
  spec: Spec;
  /** The recurrent module's key prefix, such as `'encoder.lstm.'`; `''` when the names are bare. */
  prefix: string;
  /** The module's parameters by name without the prefix, in PyTorch's state_dict order, shapes checked. */
  params: Record<string, Float32Array>;
}

/**
 * Reads the recurrent module of a PyTorch state_dict without building a layer (and so without allocating wasm
 * memory): finds its prefix, infers the architecture, and checks every tensor's name and shape against it, as
 * `fromTorch` does (this is the first half of `fromTorch`). The values are checked for NaN and Infinity only
 * under `options.nanPolicy` 'error' (the default).
 */
export function readTorchStateDict(tensors: Record<string, Tensor>, options: FromTorchOptions = {}): TorchStateDict {
  const o = optionsObject("fromTorch options", options) as FromTorchOptions;
  knownKeys("fromTorch", o, FROM_TORCH_KEYS);
  const nanPolicy = nanPolicyOption(o.nanPolicy);
  const forcedKind = o.kind === undefined ? undefined : oneOf("kind", o.kind, KINDS, "lstm");
  if (tensors === null || typeof tensors !== "object") throw new RnnError("missing", "fromTorch needs a record of tensors by state_dict name");
  const prefix = modulePrefix(Object.keys(tensors), o.prefix);
  const own = moduleTensors(tensors, prefix);
  const spec = inferSpec(own, prefix, o, forcedKind);
  return { spec, prefix, params: checkWeights(spec, own, nanPolicy, prefix) };
}

/** The prefix given, or the one recurrent module's found among the names (several are an error: the caller chooses). */
function modulePrefix(names: string[], given: unknown): string {
  if (given !== undefined && typeof given !== "string") throw new RnnError("unexpected", `prefix must be a string, got ${describeValue(given)}`);
  if (given !== undefined) return given;
  const prefixes = recurrentPrefixes(names);
  if (prefixes.length === 0) {
    // a quantized model file's weights are integers, which loadSafetensors keeps apart: only its scales and biases are here
    const quantized = names.some((n) => /weight_ih(_l0)?\.scale$/.test(n)) ? " (this looks like a quantized model file: load it with loadQuantized)" : "";
    throw new RnnError("missing", `no weight_ih_l0 (or weight_ih) tensor among: ${names.slice(0, 12).join(", ") || "(none)"}${quantized}`);
  }
  if (prefixes.length > 1) throw new RnnError("unexpected", `several recurrent modules in this state_dict (${prefixes.map((p) => `'${p}'`).join(", ")}); pass prefix to choose one`);
  return prefixes[0];
}

/** The tensors under `prefix`, by their names without it; any that is not a recurrent parameter is refused. */
function moduleTensors(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const own: Record<string, Tensor> = {};
  for (const name of Object.keys(tensors)) if (name.startsWith(prefix)) own[name.slice(prefix.length)] = tensors[name];
  for (const n of Object.keys(own)) {
    if (!isRecurrentParamName(n)) throw new RnnError("unexpected", `unexpected tensor '${prefix}${n}'${inPrefix(prefix)}: not a recurrent layer parameter`);
  }
  return own;
}

const inPrefix = (prefix: string) => (prefix ? ` (prefix '${prefix}')` : "");

/**
 * The architecture the module's names and shapes describe: sizes from weight_ih and weight_hh (weight_hr with a
 * projection), the kind from weight_hh's rows unless forced, layers and directions from the names, and what a
 * state_dict does not record from the options. Shapes only: the values are checked later, under nanPolicy.
 */
function inferSpec(own: Record<string, Tensor>, prefix: string, o: FromTorchOptions, forcedKind: Kind | undefined): Spec {
  const wih = own["weight_ih_l0"] ?? own["weight_ih"];
  if (!wih) throw new RnnError("missing", `missing tensor '${prefix}weight_ih_l0'${inPrefix(prefix)}`);
  const cell = own["weight_ih"] !== undefined;
  const sfx = cell ? "" : "_l0";
  const whh = own["weight_hh" + sfx];
  if (!whh) throw new RnnError("missing", `missing tensor '${prefix}weight_hh${sfx}'${inPrefix(prefix)}`);
  const matrix = (name: string, t: Tensor) => checkTensor(`${prefix}${name}`, t, [null, null], "propagate");
  matrix(`weight_ih${sfx}`, wih);
  matrix(`weight_hh${sfx}`, whh);
  const whr = own["weight_hr_l0"];
  if (whr) matrix("weight_hr_l0", whr);
  // weight_hh is (G*H, P): P = H without projection, weight_hr (P, H) gives H with one.
  const hiddenSize = whr ? whr.shape[1] : whh.shape[1];
  const kind = forcedKind ?? kindFromRows(whh, hiddenSize, `${prefix}weight_hh${sfx}`);
  const { numLayers, bidirectional } = cell ? { numLayers: 1, bidirectional: false } : stackOf(Object.keys(own), prefix);
  return makeSpec(kind, {
    inputSize: wih.shape[1],
    hiddenSize,
    bias: own["bias_ih" + sfx] !== undefined || own["bias_hh" + sfx] !== undefined,
    ...(kind === "lstm" && whr ? { projSize: whr.shape[0] } : {}),
    ...(kind === "rnn" && o.nonlinearity !== undefined ? { nonlinearity: o.nonlinearity } : {}),
    ...(kind === "gru" && o.resetAfter !== undefined ? { resetAfter: o.resetAfter } : {}),
    ...(cell ? {} : { numLayers, bidirectional, batchFirst: o.batchFirst ?? false }),
  }, cell);
}

/** LSTM, GRU or RNN from weight_hh's rows: 4, 3 or 1 gates of hiddenSize rows each. */
function kindFromRows(whh: Tensor, hiddenSize: number, name: string): Kind {
  const G = hiddenSize > 0 ? whh.shape[0] / hiddenSize : 0;
  const kind = G === 4 ? "lstm" : G === 3 ? "gru" : G === 1 ? "rnn" : undefined;
  if (!kind) throw new RnnError("shape", `${name} has shape [${whh.shape}]: its rows are not 4, 3 or 1 times the hidden size ${hiddenSize}`);
  return kind;
}

/**
 * The layers and directions that a layer's parameter names describe, in time linear in the names: the highest
 * `_l{k}` gives the layer count only if every layer below it is there, so a file naming `weight_ih_l99999999999`
 * beside a few tensors is refused by its first missing layer, not by building 10^11 of them.
 */
function stackOf(names: string[], prefix: string): { numLayers: number; bidirectional: boolean } {
  let numLayers = 0;
  let bidirectional = false;
  const present = new Set<number>();
  for (const n of names) {
    const m = PARAM_NAME.exec(n)!;
    if (m[2] === undefined) throw new RnnError("unexpected", `'${prefix}${n}' mixes cell names (no _l{k}) with layer names (weight_ih_l0)`);
    const layer = Number(m[2]);
    present.add(layer);
    numLayers = Math.max(numLayers, layer + 1);
    if (m[3]) bidirectional = true;
  }
  // Fewer layers than names: checkWeights then names the first missing tensor with its shape. More cannot all be
  // there, so the first layer without any tensor is named here, found in at most names.length steps.
  if (numLayers > names.length) {
    let missing = 0;
    while (present.has(missing)) missing++;
    throw new RnnError("missing", `missing tensor '${prefix}weight_ih_l${missing}': the state_dict names layer ${numLayers - 1}, so layers 0 to ${numLayers - 1} must all be present`);
  }
  return { numLayers, bidirectional };
}

/**
 * Builds the LSTM, GRU or RNN layer (names with `_l{k}`), or LSTMCell, GRUCell or RNNCell (names without),
 * that a PyTorch state_dict describes. Tensors outside `prefix` are ignored; unknown tensors inside it,
 * missing ones and wrong shapes are errors that name the tensor and the expected shape.
 *
 * The kind follows from `weight_hh_l0`'s rows (4, 3 or 1 times hiddenSize), `numLayers` from the highest `_l{k}`,
 * `bidirectional` from `_reverse` names, `bias` from the bias tensors, `projSize` from `weight_hr_l0`. What a
 * state_dict does not record (`nonlinearity`, `resetAfter`, `batchFirst`) comes from `options`.
 *
 * With `dtype: 'int8'` or `'int12'` it returns the model quantized, as `quantize(fromTorch(tensors), { dtype })` with
 * the float model freed: a {@link QuantizedLayer} or {@link QuantizedCell}.
 *
 * @param tensors the state_dict: tensors by name, as `loadSafetensors(bytes).tensors` returns them
 * @param options the prefix or kind when they cannot be inferred, what the state_dict does not record, the backend,
 *   and `dtype` for a quantized model
 * @returns the layer or cell, holding copies of the weights (`spec` says which it is); quantized with `dtype`
 * @throws RnnError `missing`, `unexpected` or `shape` naming the tensor, `nonfinite` for NaN weights under nanPolicy 'error'
 * @example
 * ```ts
 * const { tensors } = loadSafetensors(readFileSync("lstm.safetensors")); // save_file(model.state_dict(), ...)
 * const lstm = fromTorch(tensors); // e.g. an LSTM with spec.inputSize 64, spec.hiddenSize 256
 * const encoder = fromTorch(tensors, { prefix: "encoder.lstm." }); // one module of a larger state_dict
 * const int8 = fromTorch(tensors, { dtype: "int8" }); // a QuantizedLayer
 * ```
 */
export function fromTorch(tensors: Record<string, Tensor>, options: FromTorchQuantizedOptions): QuantizedLayer | QuantizedCell;
export function fromTorch(tensors: Record<string, Tensor>, options?: FromTorchOptions): RecurrentLayer | RecurrentCell;
export function fromTorch(tensors: Record<string, Tensor>, options: FromTorchOptions | FromTorchQuantizedOptions = {}): RecurrentLayer | RecurrentCell | QuantizedLayer | QuantizedCell {
  const { spec, params } = readTorchStateDict(tensors, options);
  const q = (options ?? {}) as Partial<FromTorchQuantizedOptions>;
  if (q.dtype !== undefined) {
    const dtype = oneOf("dtype", q.dtype, ["int8", "int12"] as const, "int8");
    const float = build(spec, params, options);
    try {
      const { form, backend, runtime, nanPolicy } = q;
      return quantize(float as RecurrentLayer, { dtype, ...(form !== undefined ? { form } : {}), backend, runtime, nanPolicy });
    } finally {
      float.dispose();
    }
  }
  if (q.form !== undefined) throw new RnnError("unexpected", "form is an option of a quantized model: pass dtype ('int8' or 'int12') with it");
  return build(spec, params, options);
}

/** The float layer or cell of checked parameters. */
function build(spec: Spec, params: Record<string, Float32Array>, options: FromTorchOptions): RecurrentLayer | RecurrentCell {
  const arch = architectureOf(spec);
  const o = options ?? {};
  checkedByFromTorch.set(params, nanPolicyOption(o.nanPolicy)); // checked just now: the constructor need not scan again
  const backend: BackendOptions = { backend: o.backend, runtime: o.runtime, seed: o.seed, nanPolicy: o.nanPolicy };
  return spec.cell ? cellFor(spec.kind, { ...arch, ...backend }, params) : layerFor(spec.kind, { ...arch, ...backend }, params);
}

/** The constructor options that give `spec` back. */
function architectureOf(spec: Spec): ArchitectureOptions {
  return {
    inputSize: spec.inputSize,
    hiddenSize: spec.hiddenSize,
    bias: spec.bias,
    ...(spec.projSize ? { projSize: spec.projSize } : {}),
    ...(spec.kind === "rnn" ? { nonlinearity: spec.nonlinearity } : {}),
    ...(spec.kind === "gru" ? { resetAfter: spec.resetAfter } : {}),
    ...(spec.cell ? {} : { numLayers: spec.numLayers, bidirectional: spec.bidirectional, batchFirst: spec.batchFirst }),
  };
}
