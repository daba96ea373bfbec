// src/tfjs/activations.ts: the activation functions a Keras / TensorFlow.js config names, as tfjs-layers 4.22 and
// Keras 2 define them: hard_sigmoid is clip(0.2x + 0.5, 0, 1), except in a file whose keras_version is 3 or later,
// where it is Keras 3's clip(x/6 + 0.5, 0, 1). Element-wise ones are number -> number; softmax and log_softmax run
// over the last axis.
import { RnnError } from "../errors.js";

/** An element-wise activation. */
export type Elementwise = (x: number) => number;

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
const sigmoid: Elementwise = (x) => 1 / (1 + Math.exp(-x));

/** Element-wise activations by normalised name (lower case, no underscores). */
const ELEMENTWISE: Record<string, Elementwise> = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  sigmoid,
  hardsigmoid: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1)),
  softplus: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
  softsign: (x) => x / (1 + Math.abs(x)),
  swish: (x) => x * sigmoid(x),
  mish: (x) => x * Math.tanh(x > 30 ? x : Math.log1p(Math.exp(x))),
};

/** `hard_sigmoid` -> `hardsigmoid`; null (Keras' None) -> linear. */
export function activationKey(name: unknown): string {
  if (name === null || name === undefined) return "linear";
  if (typeof name !== "string") throw new RnnError("format", `activation ${JSON.stringify(name)} is not a name`);
  return name.toLowerCase().replaceAll("_", "");
}

/** Keras 3's hard_sigmoid: relu6(x + 3) / 6. */
const hardSigmoidKeras3: Elementwise = (x) => Math.min(Math.max(x / 6 + 0.5, 0), 1);

/** The element-wise activation `name` (`keras3`: the file's keras_version is 3 or later), or RnnError('unexpected') naming it and `what` uses it. */
export function elementwise(name: unknown, what: string, keras3 = false): Elementwise {
  const key = activationKey(name);
  const fn = keras3 && key === "hardsigmoid" ? hardSigmoidKeras3 : ELEMENTWISE[key];
  if (!fn) throw new RnnError("unexpected", `${what}: activation ${JSON.stringify(name)} is not supported here (supported: ${Object.keys(ELEMENTWISE).join(", ")})`);
  return fn;
}

/** Applies activation `name` in place to rows of `n` values (softmax and log_softmax over each row). */
export function applyActivation(data: Float32Array | Float64Array, n: number, name: unknown, what: string, keras3 = false): void {
  const key = activationKey(name);
  if (key === "linear") return;
  if (key === "softmax" || key === "logsoftmax") {
    for (let r = 0; r < data.length; r += n) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, data[r + j]);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(data[r + j] - max);
      for (let j = 0; j < n; j++) data[r + j] = key === "softmax" ? Math.exp(data[r + j] - max) / sum : data[r + j] - max - Math.log(sum);
    }
    return;
  }
  const fn = elementwise(name, what, keras3);
  for (let i = 0; i < data.length; i++) data[i] = fn(data[i]);
}
