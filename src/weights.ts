// src/weights.ts: weights given by PyTorch name, checked against an architecture before anything is allocated:
// every expected name present, no other, each a Float32Array of the right length (or a tensor { shape, data } of
// the right shape, as toTorch() returns them), finite under nanPolicy 'error'. Constructors and fromTorch share it,
// so `new LSTM(options, params)` refuses what fromTorch refuses.
import { RnnError } from "./errors.js";
import { describeValue } from "./options.js";
import { paramList, type Spec } from "./architecture.js";
import { checkFinite, checkTensor, numel, type NanPolicy, type Tensor } from "./tensor.js";

/** A weight as a constructor takes it: PyTorch's flat row-major data, or a tensor with its shape. */
export type WeightValue = Float32Array | Tensor;

/** The model in words with its article: `an LSTM`, `a GRUCell`, `an RNN`. */
export function modelName(s: Spec): string {
  const name = `${s.kind.toUpperCase()}${s.cell ? "Cell" : ""}`;
  return `${s.kind === "gru" ? "a" : "an"} ${name}`;
}

/** The architecture in words, for messages: `inputSize 3, hiddenSize 4, numLayers 1, one direction, bias`. */
export function describeSpec(s: Spec): string {
  const parts = [`inputSize ${s.inputSize}`, `hiddenSize ${s.hiddenSize}`];
  if (!s.cell) parts.push(`numLayers ${s.numLayers}`, s.bidirectional ? "bidirectional" : "one direction");
  if (s.projSize) parts.push(`projSize ${s.projSize}`);
  parts.push(s.bias ? "bias" : "no bias");
  return parts.join(", ");
}

/**
 * Weight records fromTorch has just checked (readTorchStateDict) and hands straight to a constructor, with the NaN
 * policy they were checked under: the constructor takes the entry (deleting it) instead of scanning every value again.
 * Only fromTorch sets one, on a record no caller has seen, so nothing can change between the check and its use.
 */
export const checkedByFromTorch = new WeakMap<object, NanPolicy>();

/**
 * One weight of shape `shape`: a Float32Array of that many values, or a tensor of that shape; finite under
 * nanPolicy 'error'. `owner` names the model in messages (`a Linear(3, 2)`). Returns the flat data, not copied.
 */
export function checkWeight(name: string, v: unknown, shape: readonly number[], nanPolicy: NanPolicy, owner: string): Float32Array {
  if (v === undefined) throw new RnnError("missing", `missing tensor '${name}' of shape [${shape.join(", ")}] for ${owner}`);
  if (v instanceof Float32Array) {
    const n = numel(shape);
    if (v.length !== n) throw new RnnError("shape", `'${name}' has ${v.length} values; shape [${shape.join(", ")}] of ${owner} needs ${n}`);
    checkFinite(name, v, nanPolicy);
    return v;
  }
  if (v !== null && typeof v === "object" && "data" in v && "shape" in v) return checkTensor(name, v, shape, nanPolicy).data;
  throw new RnnError("dtype", `'${name}' must be a Float32Array or a tensor { shape, data: Float32Array }, got ${describeValue(v)}`);
}

/**
 * The weights of `spec` from `params` (by name without prefix), checked; `prefix` is put before names in messages
 * (a state_dict's module prefix). Returns the flat data, not copied.
 */
export function checkWeights(spec: Spec, params: unknown, nanPolicy: NanPolicy, prefix = ""): Record<string, Float32Array> {
  const model = `${modelName(spec)} with ${describeSpec(spec)}`;
  if (params === null || typeof params !== "object" || Array.isArray(params) || ArrayBuffer.isView(params)) {
    throw new RnnError("dtype", `weights must be an object of Float32Arrays (or tensors) by PyTorch name, got ${describeValue(params)}`);
  }
  const given = params as Record<string, unknown>;
  const out: Record<string, Float32Array> = {};
  const expected = paramList(spec);
  for (const p of expected) {
    const v = Object.hasOwn(given, p.name) ? given[p.name] : undefined;
    out[p.name] = checkWeight(`${prefix}${p.name}`, v, p.shape, nanPolicy, model);
  }
  const known = new Set(expected.map((p) => p.name));
  for (const n of Object.keys(given)) {
    if (!known.has(n)) throw new RnnError("unexpected", `unexpected tensor '${prefix}${n}' for ${model}`);
  }
  return out;
}
