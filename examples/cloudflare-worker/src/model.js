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
// Sizes used below, as PyTorch names them: I inputSize, H hiddenSize, P projSize or H, L numLayers,
// D 2 when bidirectional else 1. The layer's output is [T, D*P]; h_n is [D*L, P], c_n (LSTM) [D*L, H].
import { fromTorch, Linear, loadSafetensors } from "rnn-wasm";
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
  let tensors;
  try {
    tensors = loadSafetensors(bytes).tensors;
  } catch (e) {
    throw new ModelError(`the model file is not a safetensors file the library reads: ${e.message}`);
  }
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
  const spec = layer.spec;
  const D = spec.bidirectional ? 2 : 1, P = spec.projSize || spec.hiddenSize;

  let head = null;
  const [weightName, biasName] = headNames;
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
  return { layer, head, spec, prefix: prefix ?? "", headPrefix: config.headPrefix, cell, sizes, ...limits(spec, head) };
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
    build,
  };
}
