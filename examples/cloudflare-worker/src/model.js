// The model the Worker serves, read from a PyTorch state_dict saved as safetensors:
//   - one recurrent module: nn.LSTM, nn.GRU or nn.RNN with any numLayers, bidirectional or not, projSize (LSTM),
//     under any key prefix ('lstm.', 'encoder.rnn.', or none), found as fromTorch finds it (the names before
//     weight_ih_l0); or a cell (nn.LSTMCell, nn.GRUCell, nn.RNNCell: names without _l0), served as the one-layer
//     model it is when stepped over a sequence;
//   - optionally an nn.Linear head, tensors HEAD_PREFIX + "weight" [out, D*P] and HEAD_PREFIX + "bias" [out],
//     applied to the layer's output at every step.
// Any other tensor is refused: the Worker would ignore it and answer something other than the model.
//
// What a state_dict does not record comes from the Worker's environment (wrangler.toml [vars], all strings):
//   MODEL_PREFIX      the recurrent module's key prefix, when the file holds several   (default: found)
//   HEAD_PREFIX       where the head's weight and bias are                              (default "head.")
//   RNN_NONLINEARITY  nn.RNN's nonlinearity: "tanh" or "relu"                          (default "tanh")
//   GRU_RESET_AFTER   "true" (PyTorch's GRU) or "false" (the reset-before form)        (default "true")
// batch_first is not needed: a request carries one sequence, [T, inputSize] in either layout.
//
// A quantized model file (format "rnn-wasm quantized", written by `rnn-wasm quantize` or saveQuantized: int8 or int12
// weights with the architecture in its metadata) is loaded with loadQuantized instead of fromTorch: the same
// endpoints and answers, from a quarter (int8) or half (int12) of the bytes. Its metadata records the architecture,
// so MODEL_PREFIX must be unset and RNN_NONLINEARITY / GRU_RESET_AFTER, when set, must agree with it. A Linear head
// may sit beside it in the same file (F32 tensors under HEAD_PREFIX).
//
// Sizes used below, as PyTorch names them: I inputSize, H hiddenSize, P projSize or H, L numLayers,
// D 2 when bidirectional else 1. The layer's output is [T, D*P]; h_n is [D*L, P], c_n (LSTM) [D*L, H].
import { fromTorch, isQuantizedFile, Linear, loadQuantized, loadSafetensors } from "rnn-wasm";
import { limits } from "./request.js";

/** A model file or setting the Worker cannot serve; the message is for whoever deploys it. */
export class ModelError extends Error {}

/** The environment's settings, each checked, with its default. */
export function settings(env = {}) {
  const text = (name, fallback) => {
    const v = env[name] ?? fallback;
    if (v !== undefined && typeof v !== "string") throw new ModelError(`${name} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const choice = (name, fallback, allowed) => {
    const v = text(name, fallback);
    if (!allowed.includes(v)) throw new ModelError(`${name} is ${JSON.stringify(v)}; expected ${allowed.map((a) => `"${a}"`).join(" or ")}`);
    return v;
  };
  return {
    modelPrefix: text("MODEL_PREFIX", undefined),
    headPrefix: text("HEAD_PREFIX", "head."),
    nonlinearity: choice("RNN_NONLINEARITY", "tanh", ["tanh", "relu"]),
    resetAfter: choice("GRU_RESET_AFTER", "true", ["true", "false"]) === "true",
  };
}

const CELL_NAMES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];

/**
 * Builds the recurrent layer and the head from a safetensors file (call after init()). Every refusal is a
 * ModelError naming the tensor or setting, with what to change.
 *
 * @param {Uint8Array} bytes the model file
 * @param {Record<string, unknown>} env the Worker's environment (see settings)
 */
export function loadModel(bytes, env) {
  const config = settings(env);
  let file;
  try {
    file = loadSafetensors(bytes);
  } catch (e) {
    throw new ModelError(`the model file is not a safetensors file the library reads: ${e.message}`);
  }
  if (isQuantizedFile(file.metadata)) return loadQuantizedModel(file, config, env);
  const tensors = file.tensors;
  const headNames = [config.headPrefix + "weight", config.headPrefix + "bias"];
  const rest = Object.fromEntries(Object.entries(tensors).filter(([name]) => !headNames.includes(name)));
  const prefix = config.modelPrefix ?? recurrentPrefix(Object.keys(rest));

  // A cell is one layer stepped over time: its tensors are a one-layer layer's under the _l0 names.
  const cell = prefix !== undefined && Object.hasOwn(rest, prefix + "weight_ih");
  if (cell) {
    for (const name of CELL_NAMES) {
      if (!Object.hasOwn(rest, prefix + name)) continue;
      rest[`${prefix}${name}_l0`] = rest[prefix + name];
      delete rest[prefix + name];
    }
  }
  if (prefix !== undefined) {
    const stray = Object.keys(rest).find((name) => !name.startsWith(prefix));
    if (stray !== undefined) {
      throw new ModelError(
        `the model file holds '${stray}', which is neither the recurrent module's (prefix '${prefix}') nor the head's ` +
        `(${headNames.map((n) => `'${n}'`).join(", ")}): the Worker would ignore it. Save only the recurrent module ` +
        `and its Linear head, or set HEAD_PREFIX (or MODEL_PREFIX) to where they are`,
      );
    }
  }

  let layer;
  try {
    layer = fromTorch(rest, { prefix, nonlinearity: config.nonlinearity, resetAfter: config.resetAfter });
  } catch (e) {
    throw new ModelError(`the model file's recurrent module: ${e.message}`);
  }
  const head = loadHead(tensors, config, layer);
  return served(layer, head, prefix ?? "", config, cell, "float32");
}

/**
 * The Linear head under config.headPrefix, or null when the file has none; disposes `layer` before refusing one.
 *
 * @param {Record<string, {shape: number[], data: Float32Array}>} tensors the file's float tensors
 */
function loadHead(tensors, config, layer) {
  const spec = layer.spec;
  const D = spec.bidirectional ? 2 : 1, P = spec.projSize || spec.hiddenSize;
  const [weightName, biasName] = [config.headPrefix + "weight", config.headPrefix + "bias"];
  let head = null;
  if (Object.hasOwn(tensors, weightName)) {
    const w = tensors[weightName];
    if (w.shape.length !== 2 || w.shape[1] !== D * P) {
      layer.dispose();
      throw new ModelError(
        `${weightName} has shape [${w.shape.join(", ")}]; a head over this ${spec.kind.toUpperCase()}'s output takes ` +
        `[outFeatures, ${D * P}] (${D === 2 ? `2 directions × ${P}` : `${P} features`} per step)`,
      );
    }
    try {
      head = Linear.fromTorch(tensors, { prefix: config.headPrefix });
    } catch (e) {
      layer.dispose();
      throw new ModelError(`the model file's head: ${e.message}`);
    }
  } else if (Object.hasOwn(tensors, biasName)) {
    layer.dispose();
    throw new ModelError(`the model file holds ${biasName} but no ${weightName}: a Linear head needs its weight`);
  }
  return head;
}

/** What the Worker serves: the layer, its head, the sizes of requests and answers, and the limits (request.js). */
function served(layer, head, prefix, config, cell, dtype) {
  const spec = layer.spec;
  const D = spec.bidirectional ? 2 : 1, P = spec.projSize || spec.hiddenSize;
  const sizes = {
    kind: spec.kind,
    inputSize: spec.inputSize,
    /** Numbers per step in a response's "output": the head's outFeatures, or the layer's D*P. */
    outputSize: head ? head.outFeatures : D * P,
    /** Rows of state.h and state.c: one per layer and direction, PyTorch's h_n order (layer-major, forward first). */
    stateRows: D * spec.numLayers,
    hWidth: P,
    /** Numbers per row of state.c; 0 for a GRU or RNN (no cell state). */
    cWidth: spec.kind === "lstm" ? spec.hiddenSize : 0,
  };
  const form = dtype === "float32" ? undefined : layer.form;
  return { layer, head, spec, prefix, headPrefix: config.headPrefix, cell, dtype, form, sizes, ...limits(spec, head) };
}

/**
 * A quantized model file (loadQuantized), with the Linear head beside it if the file has one. A cell's file is served
 * as the one-layer layer it is, as for float32 files: its tensors are renamed to the _l0 names and its metadata says
 * a layer.
 */
function loadQuantizedModel(file, config, env) {
  if (config.modelPrefix !== undefined) {
    throw new ModelError(`MODEL_PREFIX is set ('${config.modelPrefix}'), but a quantized model file has no key prefix (its tensors are weight_ih_l0, ...): unset it`);
  }
  const headNames = [config.headPrefix + "weight", config.headPrefix + "bias"];
  const cell = file.metadata.cell === "true";
  const rename = (name) => (cell ? name.replace(/^(weight_ih|weight_hh|bias_ih|bias_hh)(?=$|\.)/, "$1_l0") : name);
  const renamed = (record) => Object.fromEntries(Object.entries(record).filter(([name]) => !headNames.includes(name)).map(([name, t]) => [rename(name), t]));
  const metadata = cell ? { ...file.metadata, cell: "false", num_layers: "1", bidirectional: "false" } : file.metadata;
  let layer;
  try {
    // form "q16": named, so the isolate's cold start skips Q8's self-check and the timing of Q8 against Q16 ("auto"
    // takes Q8 on a Worker, whose clock cannot time them: up to 1.9x faster on CPUs with AVX-VNNI, with 7-bit
    // activations' larger error); docs/quantization.md#which-form-runs-int8 says when to name "q8" instead
    layer = loadQuantized({ tensors: renamed(file.tensors), integers: renamed(file.integers ?? {}), metadata }, { form: "q16" });
  } catch (e) {
    throw new ModelError(`the model file's quantized model: ${e.message}`);
  }
  const spec = layer.spec;
  const recorded = { RNN_NONLINEARITY: spec.kind === "rnn" ? spec.nonlinearity : undefined, GRU_RESET_AFTER: spec.kind === "gru" ? String(spec.resetAfter) : undefined };
  for (const [name, value] of Object.entries(recorded)) {
    if (env?.[name] !== undefined && value !== undefined && env[name] !== value) {
      layer.dispose();
      throw new ModelError(`${name} is ${JSON.stringify(env[name])}, but the quantized model file records ${JSON.stringify(value)}: unset it`);
    }
  }
  const head = loadHead(file.tensors, config, layer);
  return served(layer, head, "", config, cell, file.metadata.dtype);
}

/** The prefix before the recurrent module's weight_ih_l0 (or a cell's weight_ih), as fromTorch finds it; undefined when there is none. */
function recurrentPrefix(names) {
  const found = [...new Set(names.map((n) => /^(.*?)weight_ih(_l0)?$/.exec(n)?.[1]).filter((p) => p !== undefined))];
  if (found.length > 1) {
    throw new ModelError(`the model file holds several recurrent modules (${found.map((p) => `'${p}'`).join(", ")}); set MODEL_PREFIX to the one to serve`);
  }
  return found[0]; // none: fromTorch names what is missing
}

/** GET /'s description of the model: what a request sends and a response returns, with the sizes. */
export function describe(model, build) {
  const { spec, head, sizes, cell, prefix } = model;
  const stateShape = { h: [sizes.stateRows, sizes.hWidth], ...(sizes.cWidth ? { c: [sizes.stateRows, sizes.cWidth] } : {}) };
  return {
    model: spec.kind,
    cell, // the file holds a cell (LSTMCell, ...), served as the one-layer model it is over a sequence
    prefix,
    inputSize: spec.inputSize,
    hiddenSize: spec.hiddenSize,
    ...(spec.kind === "lstm" ? { projSize: spec.projSize } : {}),
    numLayers: spec.numLayers,
    bidirectional: spec.bidirectional,
    bias: spec.bias,
    ...(spec.kind === "rnn" ? { nonlinearity: spec.nonlinearity } : {}),
    ...(spec.kind === "gru" ? { resetAfter: spec.resetAfter } : {}),
    head: head ? { prefix: model.headPrefix, inFeatures: head.inFeatures, outFeatures: head.outFeatures, bias: head.bias } : null,
    input: ["T", sizes.inputSize],
    output: ["T", sizes.outputSize],
    state: stateShape,
    streaming: spec.bidirectional
      ? "no: the reverse direction starts at the end of the whole sequence, so send each sequence in one request; " +
        "a state sent is the initial state (PyTorch's h0), not a carry from a previous chunk"
      : "yes: send each response's state with the next chunk",
    maxSteps: model.maxSteps,
    maxBodyBytes: model.maxBodyBytes,
    // a quantized model file: its dtype, and the integer form this runtime runs it in (docs/quantization.md)
    ...(model.dtype !== "float32" ? { dtype: model.dtype, form: model.form } : {}),
    build,
  };
}
