// src/serving/model-file.ts: a served model's state_dict -> the recurrent layer and an optional nn.Linear head.
//   - one recurrent module (nn.LSTM, nn.GRU, nn.RNN: any numLayers, bidirectional, projSize) under any key prefix,
//     found as fromTorch finds it; or a cell (nn.LSTMCell, ...: names without _l0), built as the one-layer layer it
//     is when stepped over a sequence (its tensors renamed to the _l0 names);
//   - optionally a head: headPrefix + "weight" [O, D*P] and headPrefix + "bias" [O], applied at every step.
// Any other tensor is refused: a server would ignore it and answer something other than the model that was saved.
import { RnnError } from "../errors.js";
import { fromTorch, recurrentPrefixes } from "../torch.js";
import { describeValue, knownKeys, optionsObject } from "../options.js";
import { BACKEND_KEYS, type BackendOptions } from "../recurrent-base.js";
import { Linear } from "../train/linear.js";
import type { RecurrentLayer } from "../layers.js";
import type { Kind, Nonlinearity } from "../architecture.js";
import type { Tensor } from "../tensor.js";

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
}

export const SERVED_MODEL_KEYS = ["prefix", "headPrefix", "kind", "nonlinearity", "resetAfter", ...BACKEND_KEYS];

const CELL_NAMES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];

/** The pieces of a served model, as the file gave them. */
export interface ModelParts {
  layer: RecurrentLayer;
  head: Linear | null;
}

/**
 * Builds the layer and the head from a state_dict (call after init() for the wasm backend). Every refusal is an
 * RnnError naming the tensor or option and what to change; nothing stays allocated after one.
 */
export function readServedModel(tensors: Record<string, Tensor>, options: ServedModelOptions = {}): ModelParts {
  const o = optionsObject("ServedModel options", options) as ServedModelOptions;
  knownKeys("ServedModel", o, SERVED_MODEL_KEYS);
  if (tensors === null || typeof tensors !== "object") throw new RnnError("missing", "a served model needs a record of tensors by state_dict name");
  const headPrefix = o.headPrefix ?? "head.";
  if (typeof headPrefix !== "string") throw new RnnError("unexpected", `headPrefix must be a string, got ${describeValue(headPrefix)}`);
  if (o.prefix !== undefined && typeof o.prefix !== "string") throw new RnnError("unexpected", `prefix must be a string, got ${describeValue(o.prefix)}`);
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
    return { layer, head: readHead(tensors, headPrefix, layer, backend) };
  } catch (e) {
    layer.dispose();
    throw e;
  }
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
function readHead(tensors: Record<string, Tensor>, headPrefix: string, layer: RecurrentLayer, backend: BackendOptions): Linear | null {
  const [weightName, biasName] = [headPrefix + "weight", headPrefix + "bias"];
  const s = layer.spec;
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
