// src/train/optim.ts: SGD, Adam and AdamW with torch.optim's update rules and defaults (assembly/optim.ts
// states them). Each keeps its moments in buffers of the same layout as the parameters: wasm blocks in the
// model's runtime, or arrays for the reference backend, and updates every buffer in one whole-buffer pass.
import { RnnError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import * as ref from "../reference/optim.js";
import { buffersOf, type ParamBuffer, type Trainable } from "./params.js";

/**
 * What an optimizer updates: a model (a layer, a cell, a `Linear`, an `Embedding`, a `Sequential`), an array of
 * them, or their parameter buffers.
 * @inline
 */
type Models = Trainable | Trainable[] | ParamBuffer[];

/** A moment buffer: a zeroed wasm block next to a wasm parameter buffer, or an array. */
class Moment {
  private readonly runtime: Runtime | null;
  readonly ptr: number;
  readonly array: Float32Array | null;

  constructor(b: ParamBuffer) {
    const w = b.wasm();
    this.runtime = w ? w.runtime : null;
    if (w) {
      this.ptr = w.runtime.alloc(b.size * 4);
      w.runtime.f32(this.ptr, b.size).fill(0);
      this.array = null;
    } else {
      this.ptr = 0;
      this.array = new Float32Array(b.size);
    }
  }

  dispose(): void {
    if (this.runtime && this.ptr) this.runtime.free(this.ptr);
  }
}

function check(name: string, v: number, ok: boolean): number {
  if (!ok) throw new RnnError("unexpected", `invalid ${name}: ${v}`);
  return v;
}

/**
 * What {@link SGD}, {@link Adam} and {@link AdamW} share: `step()`, `zeroGrad()` and `dispose()`. Each keeps its
 * state (momentum, moments) in buffers of the parameters' layout, in the model's wasm memory for a wasm model.
 */
export abstract class Optimizer {
  protected readonly buffers: ParamBuffer[];
  private readonly models: Models;
  private disposed = false;
  /** Steps taken. */
  stepCount = 0;

  protected constructor(models: Models) {
    this.models = models;
    this.buffers = buffersOf(models);
  }

  /** Applies one update from the current gradients. */
  step(): void {
    if (this.disposed) throw new RnnError("disposed", "this optimizer was disposed");
    for (const b of this.buffers) b.wasm(); // throws if any model was disposed, before anything changes
    this.stepCount++;
    this.buffers.forEach((b, i) => this.update(b, i));
  }

  /** Zeroes the gradients of the models this optimizer updates. */
  zeroGrad(): void {
    const list = Array.isArray(this.models) ? this.models : [this.models];
    for (const m of list) {
      if ("zeroGrad" in m) m.zeroGrad();
      else (m as ParamBuffer).grads().fill(0);
    }
  }

  protected abstract update(b: ParamBuffer, i: number): void;
  protected abstract moments(): Moment[];

  /** Frees the moment buffers (wasm memory). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.moments()) m.dispose();
  }

  /** `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Options of {@link SGD}, as torch.optim.SGD's (in camelCase). */
export interface SGDOptions {
  /** Learning rate. Default 1e-3 (PyTorch 2.x). */
  lr?: number;
  /** Momentum factor. Default 0 (none). */
  momentum?: number;
  /** Dampening for momentum. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs a momentum and zero dampening). Default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD.
 *
 * @example
 * ```ts
 * const optimizer = new SGD(lstm, { lr: 0.5, momentum: 0.9 });
 * optimizer.zeroGrad();
 * lstm.backward({ output: mseLoss(lstm.forward(x, { train: true }).output, target).grad });
 * optimizer.step();
 * ```
 */
export class SGD extends Optimizer {
  /** Learning rate. */
  readonly lr: number;
  /** Momentum factor (0: none). */
  readonly momentum: number;
  /** Dampening for momentum. */
  readonly dampening: number;
  /** L2 penalty added to the gradient. */
  readonly weightDecay: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  private readonly bufs: Moment[];

  /**
   * An SGD optimizer over the parameters of `models`.
   *
   * @param models what to update: a model, an array of models, or their parameter buffers
   * @param o learning rate, momentum, ...; see {@link SGDOptions}
   * @throws RnnError `unexpected` for a negative rate, momentum or decay, or Nesterov without momentum
   */
  constructor(models: Models, o: SGDOptions = {}) {
    super(models);
    this.lr = check("lr", o.lr ?? 1e-3, (o.lr ?? 1e-3) >= 0);
    this.momentum = check("momentum", o.momentum ?? 0, (o.momentum ?? 0) >= 0);
    this.dampening = o.dampening ?? 0;
    this.weightDecay = check("weightDecay", o.weightDecay ?? 0, (o.weightDecay ?? 0) >= 0);
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RnnError("unexpected", "Nesterov momentum requires a momentum and zero dampening");
    }
    this.bufs = this.momentum !== 0 ? this.buffers.map((b) => new Moment(b)) : [];
  }

  protected moments(): Moment[] {
    return this.bufs;
  }

  protected update(b: ParamBuffer, i: number): void {
    const w = b.wasm();
    const buf = this.bufs[i];
    const first = this.stepCount === 1;
    if (w) {
      w.runtime.kernels.sgdStep(w.params, w.grads, buf?.ptr ?? 0, b.size, this.lr, this.momentum, this.dampening,
        this.weightDecay, this.nesterov ? 1 : 0, first ? 1 : 0);
    } else {
      ref.sgdStep(b.params(), b.grads(), buf?.array ?? null, b.size, this.lr, this.momentum, this.dampening,
        this.weightDecay, this.nesterov, first);
    }
  }
}

/** Options of {@link Adam} and {@link AdamW}, as torch.optim.Adam's (in camelCase). */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moment estimates. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator for stability. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad?: boolean;
}

/**
 * Adam, as torch.optim.Adam (weight decay added to the gradient).
 *
 * @example
 * ```ts
 * const optimizer = new Adam(model, { lr: 0.01 }); // model: a layer, a Sequential, or an array of modules
 * optimizer.zeroGrad();
 * model.backward(mseLoss(model.forward(x, { train: true }), y).grad);
 * optimizer.step();
 * ```
 */
export class Adam extends Optimizer {
  /** Learning rate. */
  readonly lr: number;
  /** Decay rates of the moment estimates. */
  readonly betas: [number, number];
  /** Added to the denominator for stability. */
  readonly eps: number;
  /** Weight decay (L2 for Adam, decoupled for AdamW). */
  readonly weightDecay: number;
  /** Whether AMSGrad is on. */
  readonly amsgrad: boolean;
  protected readonly decoupled: boolean = false;
  private readonly m: Moment[];
  private readonly v: Moment[];
  private readonly vmax: Moment[];

  /**
   * An Adam optimizer over the parameters of `models` (its moments start at zero).
   *
   * @param models what to update: a model, an array of models, or their parameter buffers
   * @param o learning rate, betas, ...; see {@link AdamOptions}
   * @param defaultWeightDecay the weight decay when `o` gives none (AdamW passes 1e-2)
   * @throws RnnError `unexpected` for a negative rate, eps or decay, or betas outside [0, 1)
   */
  constructor(models: Models, o: AdamOptions = {}, defaultWeightDecay = 0) {
    super(models);
    this.lr = check("lr", o.lr ?? 1e-3, (o.lr ?? 1e-3) >= 0);
    this.betas = o.betas ?? [0.9, 0.999];
    check("betas[0]", this.betas[0], this.betas[0] >= 0 && this.betas[0] < 1);
    check("betas[1]", this.betas[1], this.betas[1] >= 0 && this.betas[1] < 1);
    this.eps = check("eps", o.eps ?? 1e-8, (o.eps ?? 1e-8) >= 0);
    this.weightDecay = check("weightDecay", o.weightDecay ?? defaultWeightDecay, (o.weightDecay ?? defaultWeightDecay) >= 0);
    this.amsgrad = o.amsgrad ?? false;
    this.m = this.buffers.map((b) => new Moment(b));
    this.v = this.buffers.map((b) => new Moment(b));
    this.vmax = this.amsgrad ? this.buffers.map((b) => new Moment(b)) : [];
  }

  protected moments(): Moment[] {
    return [...this.m, ...this.v, ...this.vmax];
  }

  protected update(b: ParamBuffer, i: number): void {
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** this.stepCount;
    const bc2 = 1 - b2 ** this.stepCount;
    const w = b.wasm();
    if (w) {
      w.runtime.kernels.adamStep(w.params, w.grads, this.m[i].ptr, this.v[i].ptr, this.vmax[i]?.ptr ?? 0, b.size,
        this.lr, b1, b2, this.eps, this.weightDecay, bc1, bc2, this.decoupled ? 1 : 0);
    } else {
      ref.adamStep(b.params(), b.grads(), this.m[i].array!, this.v[i].array!, this.vmax[i]?.array ?? null, b.size,
        this.lr, b1, b2, this.eps, this.weightDecay, bc1, bc2, this.decoupled);
    }
  }
}

/** AdamW, as torch.optim.AdamW: weight decay applied to the parameters, decoupled from the gradient. */
export class AdamW extends Adam {
  protected readonly decoupled: boolean = true;

  /**
   * An AdamW optimizer over the parameters of `models`.
   *
   * @param models what to update: a model, an array of models, or their parameter buffers
   * @param o learning rate, betas, ...; see {@link AdamOptions} (weightDecay defaults to 1e-2 here)
   */
  constructor(models: Models, o: AdamOptions = {}) {
    super(models, o, 1e-2);
  }
}
