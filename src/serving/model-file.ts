// src/serving/model-file.ts: a served model's state_dict -> the recurrent layer and an optional nn.Linear head.
//   - one recurrent module (nn.LSTM, nn.GRU, nn.RNN: any numLayers, bidirectional, projSize) under any key prefix,
//     found as fromTorch finds it; or a cell (nn.LSTMCell, ...: names without _l0), built as the one-layer layer it
//     is when stepped over a sequence (its tensors renamed to the _l0 names);
//   - optionally a head: headPrefix + "weight" [O, D*P] and headPrefix + "bias" [O], applied at every step.
// Any other tensor is refused: a server would ignore it and answer something other than the model that was saved.
// A quantized model file (saveQuantized's format, src/quantized-file.ts) gives a QuantizedLayer instead, built from its
// integers as loadQuantized builds it (a cell's file as the one-layer layer); its architecture is the metadata's, and
// a float32 head may sit beside its tensors under headPrefix.
import { RnnError } from "../errors.js";
import { fromTorch, recurrentPrefixes } from "../torch.js";
import { describeValue, knownKeys, optionsObject } from "../options.js";
import { BACKEND_KEYS, type BackendOptions } from "../recurrent-base.js";
import { Linear } from "../train/linear.js";
import type { RecurrentLayer } from "../layers.js";
import type { Kind, Nonlinearity, Spec } from "../architecture.js";
import type { Tensor } from "../tensor.js";
import type { SafetensorsFile } from "../io/safetensors.js";
import { readQuantized } from "../quantized-file.js";
import { buildQuantized, engineOptions, quantizedFrom, type QuantizedLayer } from "../quantized.js";

/** How to read a model file: what a state_dict does not record, and where the model runs. */
export interface ServedModelOptions extends BackendOptions {
  /** The recurrent module's key prefix, such as `'encoder.lstm.'`; default: found as {@link fromTorch} finds it. */
  prefix?: string;
  /** Where an optional nn.Linear head is: `headPrefix + "weight"` [O, D*P] and `headPrefix + "bias"` [O]. Default `"head."`. */
  headPrefix?: string;
  /** Force the kind; by default it follows from weight_hh's rows, as in {@link fromTorch}. */
  kind?: Kind;
  /** RNN only: `'tanh'` (default) or `'relu'` (PyTorch does not store it). */
  nonlinearity?: Nonlinearity;
  /** GRU only: true (default, PyTorch's form) or false for the reset-before form. */
  resetAfter?: boolean;
  /**
   * A quantized model file only: which integer form runs an int8 model, `'auto'` (default), `'q16'` or `'q8'`, as
   * `loadQuantized`'s option.
   */
  form?: "auto" | "q16" | "q8";
}

export const SERVED_MODEL_KEYS = ["prefix", "headPrefix", "kind", "nonlinearity", "resetAfter", "form", ...BACKEND_KEYS];

const CELL_NAMES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];

/** The pieces of a served model, as the file gave them. */
export interface ModelParts {
  layer: RecurrentLayer | QuantizedLayer;
  head: Linear | null;
}

/** The options object and the head's prefix, checked. */
function checkedOptions(options: ServedModelOptions): { o: ServedModelOptions; headPrefix: string } {
  const o = optionsObject("ServedModel options", options) as ServedModelOptions;
  knownKeys("ServedModel", o, SERVED_MODEL_KEYS);
  const headPrefix = o.headPrefix ?? "head.";
  if (typeof headPrefix !== "string") throw new RnnError("unexpected", `headPrefix must be a string, got ${describeValue(headPrefix)}`);
  if (o.prefix !== undefined && typeof o.prefix !== "string") throw new RnnError("unexpected", `prefix must be a string, got ${describeValue(o.prefix)}`);
  return { o, headPrefix };
}

/**
 * Builds the layer and the head from a state_dict (call after init() for the wasm backend). Every refusal is an
 * RnnError naming the tensor or option and what to change; nothing stays allocated after one.
 */
export function readServedModel(tensors: Record<string, Tensor>, options: ServedModelOptions = {}): ModelParts {
  const { o, headPrefix } = checkedOptions(options);
  if (tensors === null || typeof tensors !== "object") throw new RnnError("missing", "a served model needs a record of tensors by state_dict name");
  if (o.form !== undefined) throw new RnnError("unexpected", "form is an option for quantized model files (saveQuantized's); this is a float32 state_dict");
  const backend: BackendOptions = { backend: o.backend, runtime: o.runtime, nanPolicy: o.nanPolicy };

  const headNames = [headPrefix + "weight", headPrefix + "bias"];
  const rest: Record<string, Tensor> = {};
  for (const name of Object.keys(tensors)) if (!headNames.includes(name)) rest[name] = tensors[name];
  const prefix = o.prefix ?? onlyPrefix(Object.keys(rest));

  // A cell is one layer stepped over time: its tensors are a one-layer layer's under the _l0 names.
  if (prefix !== undefined && Object.hasOwn(rest, prefix + "weight_ih")) {
    for (const name of CELL_NAMES) {
      if (!Object.hasOwn(rest, prefix + name)) continue;
      rest[`${prefix}${name}_l0`] = rest[prefix + name];
      delete rest[prefix + name];
    }
  }
  if (prefix !== undefined) {
    const stray = Object.keys(rest).find((name) => !name.startsWith(prefix));
    if (stray !== undefined) {
      throw new RnnError("unexpected",
        `the model holds '${stray}', which is neither the recurrent module's (prefix '${prefix}') nor the head's ` +
        `(${headNames.map((n) => `'${n}'`).join(", ")}), so serving would ignore it; save only the recurrent module ` +
        `and its Linear head, or set headPrefix (or prefix) to where they are`);
    }
  }

  const layer = fromTorch(rest, { ...backend, prefix, kind: o.kind, nonlinearity: o.nonlinearity, resetAfter: o.resetAfter }) as RecurrentLayer;
  try {
    return { layer, head: readHead(tensors, headPrefix, layer.spec, backend) };
  } catch (e) {
    layer.dispose();
    throw e;
  }
}

/**
 * Builds the quantized layer (and a float32 head under headPrefix, if the file has one) from a quantized model file,
 * read and checked as loadQuantized reads it. The file records the architecture: `kind`, `nonlinearity` and
 * `resetAfter` may be given only with the file's values, and `prefix` not at all (the format has none). A cell's
 * file is served as the one-layer layer it is, and a batch-first layer's as time-major (ServedModel stacks
 * requests time-major; batchFirst changes the layout only, not the numbers).
 */
export function readQuantizedServedModel(file: SafetensorsFile, options: ServedModelOptions = {}): ModelParts {
  const { o, headPrefix } = checkedOptions(options);
  const headNames = [headPrefix + "weight", headPrefix + "bias"];
  const tensors: Record<string, Tensor> = {};
  for (const name of Object.keys(file.tensors)) if (!headNames.includes(name)) tensors[name] = file.tensors[name];
  const checked = engineOptions({ form: o.form, backend: o.backend, runtime: o.runtime, nanPolicy: o.nanPolicy }, "wasm");
  const read = readQuantized({ tensors, integers: file.integers, metadata: file.metadata }, checked.nanPolicy);
  checkRecorded(read.spec, o);
  const spec: Spec = { ...read.spec, cell: false, batchFirst: false };
  const what = `a quantized ${read.spec.kind.toUpperCase()}${read.spec.cell ? "Cell" : ""} to serve`;
  const layer = quantizedFrom(buildQuantized(spec, read.weights, read.dtype, checked, what)) as QuantizedLayer;
  try {
    return { layer, head: readHead(file.tensors, headPrefix, spec, { backend: o.backend, runtime: o.runtime, nanPolicy: o.nanPolicy }) };
  } catch (e) {
    layer.dispose();
    throw e;
  }
}

/** Refuses options that contradict what a quantized file records (or that it has no place for: a prefix). */
function checkRecorded(spec: Spec, o: ServedModelOptions): void {
  const recorded = (option: string, given: unknown, value: unknown) => {
    if (given === undefined || given === value) return;
    if (value === undefined) throw new RnnError("unexpected", `${option} is not an option of the ${spec.kind.toUpperCase()} the quantized model file holds; leave it out`);
    throw new RnnError("unexpected", `the quantized model file records ${option} ${JSON.stringify(value)}; the option ${option}: ${JSON.stringify(given)} contradicts it (leave it out: the file says)`);
  };
  if (o.prefix !== undefined && o.prefix !== "") {
    throw new RnnError("unexpected", `a quantized model file has no key prefix (its tensors are named weight_ih_l0, ...); leave out prefix '${o.prefix}'`);
  }
  recorded("kind", o.kind, spec.kind);
  if (o.nonlinearity !== undefined) recorded("nonlinearity", o.nonlinearity, spec.kind === "rnn" ? spec.nonlinearity : undefined);
  if (o.resetAfter !== undefined) recorded("resetAfter", o.resetAfter, spec.kind === "gru" ? spec.resetAfter : undefined);
}

/** The one prefix before a weight_ih_l0 (or a cell's weight_ih); undefined when there is none (fromTorch then names what is missing). */
function onlyPrefix(names: string[]): string | undefined {
  const found = recurrentPrefixes(names);
  if (found.length > 1) {
    throw new RnnError("unexpected", `the model holds several recurrent modules (${found.map((p) => `'${p}'`).join(", ")}); set prefix to the one to serve`);
  }
  return found[0];
}

/** The head under headPrefix, checked against the layer's output width, or null when the file has none. */
function readHead(tensors: Record<string, Tensor>, headPrefix: string, s: Spec, backend: BackendOptions): Linear | null {
  const [weightName, biasName] = [headPrefix + "weight", headPrefix + "bias"];
  const D = s.bidirectional ? 2 : 1, P = s.projSize || s.hiddenSize;
  if (!Object.hasOwn(tensors, weightName)) {
    if (Object.hasOwn(tensors, biasName)) throw new RnnError("missing", `the model holds ${biasName} but no ${weightName}: a Linear head needs its weight`);
    return null;
  }
  const w = tensors[weightName];
  if (!Array.isArray(w?.shape) || w.shape.length !== 2 || w.shape[1] !== D * P) {
    throw new RnnError("shape",
      `${weightName} has shape [${Array.isArray(w?.shape) ? w.shape.join(", ") : "?"}]; a head over this ${s.kind.toUpperCase()}'s output takes ` +
      `[outFeatures, ${D * P}] (${D === 2 ? `2 directions × ${P}` : `${P} features`} per step)`);
  }
  return Linear.fromTorch(tensors, { ...backend, prefix: headPrefix });
}
