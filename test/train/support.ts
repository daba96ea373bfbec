// test/train/support.ts: what the training tests share beyond test/helpers/ (runtimes, seeded data, comparisons):
// the parameter buffers' padding, found without knowing the layout, and the error check of the API tests.
import type { ParamBuffer, Tensor } from "../../src/index.js";
import { expect } from "vitest";

/** The API tests' check that a call throws an RnnError with a code and message parts. */
export { expectRnnError } from "../api/helpers.js";

/** Flattens a record of tensors (toTorch() or grads()) in key order. */
export function flatValues(r: Record<string, Tensor>): number[] {
  return Object.keys(r).sort().flatMap((k) => Array.from(r[k].data));
}

/**
 * Which floats of each of a wasm model's parameter buffers are real parameters (1) and which are padding (0),
 * without knowing the layout: `ones` must build a twin of the model with every parameter set to 1, and since
 * padding is zero by construction, the twin's nonzero floats are exactly the real ones.
 */
export function realLanes(ones: () => { parameterBuffers(): ParamBuffer[]; dispose(): void }): Uint8Array[] {
  const twin = ones();
  try {
    return twin.parameterBuffers().map((b) => Uint8Array.from(b.params(), (v) => (v === 0 ? 0 : 1)));
  } finally {
    twin.dispose();
  }
}

/** The tensors of a state dict with every value replaced by 1. */
export function onesLike(r: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.data.length).fill(1) }]));
}

/** The padding floats of a buffer's parameters or gradients, given realLanes' mask. */
export function paddingOf(b: ParamBuffer, mask: Uint8Array, which: "params" | "grads"): number[] {
  const data = which === "params" ? b.params() : b.grads();
  expect(data.length, "mask and buffer sizes").toBe(mask.length);
  return Array.from(data).filter((_, i) => mask[i] === 0);
}
