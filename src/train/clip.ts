// src/train/clip.ts: gradient clipping with torch.nn.utils semantics, over whole gradient buffers, each on the
// backend its model chose (train/buffer-ops.ts).
//   clipGradNorm: total = ||all gradients||_p; every gradient *= min(1, maxNorm / (total + 1e-6)); returns total
//   clipGradValue: every gradient clamped to [-clip, clip]
import { RnnError } from "../errors.js";
import { describeValue, flag } from "../options.js";
import { bufferOps } from "./buffer-ops.js";
import { buffersOf, type ParamBuffer, type Trainable } from "./params.js";

/**
 * What clipping acts on: a model (a layer, a cell, a `Linear`, an `Embedding`, a `Sequential`), an array of
 * them, or their parameter buffers.
 * @inline
 */
type Models = Trainable | Trainable[] | ParamBuffer[];

/**
 * The total p-norm of all gradients, ||gradients||_p over all buffers (p = Infinity for the largest magnitude),
 * without changing them.
 *
 * @param models the models whose gradients to measure
 * @param normType p: a positive number or Infinity; default 2
 * @returns the norm (NaN when a gradient is NaN)
 */
export function gradNorm(models: Models, normType = 2): number {
  if (!(normType === Infinity || (Number.isFinite(normType) && normType > 0))) {
    throw new RnnError("unexpected", `normType must be a positive number or Infinity, got ${describeValue(normType)}`);
  }
  let acc = 0;
  for (const b of buffersOf(models)) {
    const ops = bufferOps(b);
    if (normType === Infinity) {
      acc = Math.max(acc, ops.maxAbs());
      if (Number.isNaN(acc)) return NaN;
    } else if (normType === 2) {
      acc += ops.sumSquares();
    } else { // any other p: a loop over the values, the same on both backends
      const g = b.grads();
      for (let i = 0; i < g.length; i++) acc += Math.abs(g[i]) ** normType;
    }
  }
  return normType === Infinity ? acc : acc ** (1 / normType);
}

/**
 * Scales all gradients so their total p-norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_) and
 * returns the norm before clipping. With `errorIfNonfinite`, a NaN or infinite norm throws instead.
 *
 * @param models the models whose gradients to clip, together
 * @param maxNorm the largest total norm to leave
 * @param normType p: a positive number or Infinity; default 2
 * @param errorIfNonfinite throw `code 'nonfinite'` rather than scale by a NaN or infinite norm; default false
 * @returns the total norm before clipping
 * @example
 * ```ts
 * lstm.backward({ output: grad });
 * const norm = clipGradNorm(lstm, 1.0); // between backward() and optimizer.step()
 * optimizer.step();
 * ```
 */
export function clipGradNorm(models: Models, maxNorm: number, normType = 2, errorIfNonfinite = false): number {
  if (typeof maxNorm !== "number" || !(maxNorm >= 0)) throw new RnnError("unexpected", `maxNorm must be a number >= 0, got ${describeValue(maxNorm)}`);
  flag("errorIfNonfinite", errorIfNonfinite, false);
  const total = gradNorm(models, normType);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new RnnError("nonfinite", `the total ${normType}-norm of the gradients is ${total}; clipping would fill them with NaN`);
  }
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  if (coef < 1 || Number.isNaN(coef)) {
    for (const b of buffersOf(models)) bufferOps(b).scaleGrads(coef);
  }
  return total;
}

/**
 * Clamps every gradient to [-clipValue, clipValue] (torch.nn.utils.clip_grad_value_).
 *
 * @param models the models whose gradients to clamp
 * @param clipValue the largest magnitude to leave (>= 0)
 */
export function clipGradValue(models: Models, clipValue: number): void {
  if (typeof clipValue !== "number" || !(clipValue >= 0)) throw new RnnError("unexpected", `clipValue must be a number >= 0, got ${describeValue(clipValue)}`);
  for (const b of buffersOf(models)) bufferOps(b).clampGrads(clipValue);
}
