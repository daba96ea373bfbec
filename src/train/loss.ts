// src/train/loss.ts: losses with their gradients, as torch.nn.functional: each returns the loss value and
// dL/d(prediction), ready for backward().
//   mse:           mean or sum of (pred - target)²;          grad = 2 (pred - target) [/ n]
//   cross-entropy: -log softmax(logits)[target] per row;     grad = softmax - onehot   [/ rows]
import { RnnError } from "../errors.js";
import { checkTensor, numel, type Tensor } from "../tensor.js";
import type { IndexTensor } from "./embedding.js";

/** How a loss combines its terms, as PyTorch's `reduction`: their mean (default) or their sum. */
export type Reduction = "mean" | "sum";

/** A loss value and its gradient, ready for `backward()`. */
export interface LossResult {
  /** The loss. */
  loss: number;
  /** dL/d(prediction), shaped as the prediction. */
  grad: Tensor;
}

function reductionOf(r: unknown): Reduction {
  if (r === undefined) return "mean";
  if (r !== "mean" && r !== "sum") throw new RnnError("unexpected", `reduction must be 'mean' or 'sum', got '${String(r)}'`);
  return r;
}

/**
 * Mean squared error between `pred` and `target` of the same shape (torch.nn.functional.mse_loss).
 *
 * @param pred the prediction
 * @param target the values it should have, shaped as `pred`
 * @param reduction 'mean' (default) or 'sum' over every element
 * @returns the loss and dL/d`pred`
 * @example
 * ```ts
 * const { loss, grad } = mseLoss(prediction, target);
 * model.backward(grad);
 * ```
 */
export function mseLoss(pred: Tensor, target: Tensor, reduction?: Reduction): LossResult {
  const red = reductionOf(reduction);
  const p = checkTensor("prediction", pred, (pred as Tensor)?.shape ?? [], "propagate");
  const t = checkTensor("target", target, p.shape);
  const n = p.data.length;
  const scale = red === "mean" ? 1 / Math.max(n, 1) : 1;
  const grad = new Float32Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = p.data[i] - t.data[i];
    loss += d * d;
    grad[i] = 2 * d * scale;
  }
  return { loss: loss * scale, grad: { shape: [...p.shape], data: grad } };
}

/**
 * Cross-entropy of `logits` [N, C] (or [C]) against class indices `target` [N] (or a single index), computed
 * from log-softmax for stability (torch.nn.functional.cross_entropy with class-index targets).
 *
 * @param logits unnormalised scores, [N, C] or [C]
 * @param target N class indices in [0, C): an array or an {@link IndexTensor}
 * @param reduction 'mean' (default) or 'sum' over the rows
 * @returns the loss and dL/d`logits`
 * @example
 * ```ts
 * const { loss, grad } = crossEntropyLoss(tensor([2, 3], Float32Array.of(2, 0, 0, 0, 0, 2)), [0, 2]); // loss ≈ 0.240
 * ```
 */
export function crossEntropyLoss(logits: Tensor, target: IndexTensor | number[], reduction?: Reduction): LossResult {
  const red = reductionOf(reduction);
  const z = checkTensor("logits", logits, (logits as Tensor)?.shape?.length === 1 ? [null] : [null, null], "propagate");
  const C = z.shape[z.shape.length - 1];
  const N = z.shape.length === 1 ? 1 : z.shape[0];
  const labels = Array.isArray(target) ? target : target?.data;
  if (!labels || labels.length !== N) throw new RnnError("shape", `target must hold ${N} class indices (one per row of logits [${z.shape}]), got ${labels?.length ?? "none"}`);
  const grad = new Float32Array(numel(z.shape));
  const scale = red === "mean" ? 1 / N : 1;
  let loss = 0;
  for (let r = 0; r < N; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new RnnError("shape", `target[${r}] = ${y} is not a class index in [0, ${C})`);
    const row = z.data.subarray(r * C, (r + 1) * C);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    // everything relative to the max, so huge logits keep log(sum) instead of rounding it away
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const lse = Math.log(sum);
    loss += lse - (row[y] - max);
    for (let c = 0; c < C; c++) grad[r * C + c] = (Math.exp(row[c] - max - lse) - (c === y ? 1 : 0)) * scale;
  }
  return { loss: loss * scale, grad: { shape: [...z.shape], data: grad } };
}
