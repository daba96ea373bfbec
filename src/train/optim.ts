// src/train/optim.ts: SGD, Adam and AdamW with torch.optim's update rules and defaults (assembly/optim.ts
// states them). Each keeps its moments in buffers of the same layout as the parameters: wasm blocks in the
// model's runtime, or arrays for the reference backend (train/buffer-ops.ts, chosen once per parameter buffer),
// and updates every buffer in one whole-buffer pass.
import { RnnError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { Blocks } from "../blocks.js";
import { describeValue, flag, knownKeys, optionsObject } from "../options.js";
import { bufferOps, type AdamBuffer, type SgdBuffer } from "./buffer-ops.js";
import { buffersOf, type ParamBuffer, type Trainable } from "./params.js";

/**
 * What an optimizer updates: a model (a layer, a cell, a `Linear`, an `Embedding`, a `Sequential`), an array of
 * them, or their parameter buffers.
 * @inline
 */
type Models = Trainable | Trainable[] | ParamBuffer[];

/** A hyperparameter: a finite number (undefined gives `fallback`) for which `ok` holds; `rule` says what ok means. */
function hyper(name: string, v: unknown, fallback: number, ok: (v: number) => boolean, rule: string): number {
  const value = v === undefined ? fallback : v;
  if (typeof value !== "number" || !Number.isFinite(value) || !ok(value)) {
    throw new RnnError("unexpected", `invalid ${name}: ${describeValue(value)} (${rule})`);
  }
  return value;
}

/**
 * What {@link SGD}, {@link Adam} and {@link AdamW} share: `step()`, `zeroGrad()` and `dispose()`. Each keeps its
 * state (momentum, moments) in buffers of the parameters' layout, in the model's wasm memory for a wasm model.
 */
export abstract class Optimizer {
  protected readonly buffers: ParamBuffer[];
  private readonly models: Models;
  private readonly blocks = new Map<Runtime, Blocks>();
  private disposed = false;
  /** Steps taken. */
  stepCount = 0;

  protected constructor(models: Models) {
    this.models = models;
    this.buffers = buffersOf(models);
  }

  /** The moments' blocks in `rt`, owned by this optimizer (freed by dispose, or when it is collected). */
  protected blocksIn = (rt: Runtime): Blocks => {
    let b = this.blocks.get(rt);
    if (!b) this.blocks.set(rt, (b = new Blocks(rt, this, `an ${this.constructor.name} optimizer`)));
    return b;
  };

  /** Applies one update from the current gradients. */
  step(): void {
    if (this.disposed) throw new RnnError("disposed", "this optimizer was disposed");
    for (const b of this.buffers) b.wasm(); // throws if any model was disposed, before anything changes
    this.stepCount++;
    this.update();
  }

  /** Zeroes the gradients of the models this optimizer updates. */
  zeroGrad(): void {
    const list = Array.isArray(this.models) ? this.models : [this.models];
    for (const m of list) {
      if ("zeroGrad" in m) m.zeroGrad();
      else (m as ParamBuffer).grads().fill(0);
    }
  }

  /** One update of every buffer, stepCount being the step's number (1 for the first). */
  protected abstract update(): void;

  /** Frees the moment buffers (wasm memory). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.blocks.values()) b.freeAll();
    this.blocks.clear();
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
  private states: SgdBuffer[] | null;

  /**
   * An SGD optimizer over the parameters of `models`.
   *
   * @param models what to update: a model, an array of models, or their parameter buffers
   * @param options learning rate, momentum, ...; see {@link SGDOptions}
   * @throws RnnError `unexpected` for a negative rate, momentum or decay, or Nesterov without momentum
   */
  constructor(models: Models, options: SGDOptions = {}) {
    super(models);
    const o = optionsObject("SGD options", options);
    knownKeys("SGD options", o, ["lr", "momentum", "dampening", "weightDecay", "nesterov"]);
    const nonNegative = (v: number) => v >= 0;
    this.lr = hyper("lr", o.lr, 1e-3, nonNegative, "a number >= 0");
    this.momentum = hyper("momentum", o.momentum, 0, nonNegative, "a number >= 0");
    this.dampening = hyper("dampening", o.dampening, 0, () => true, "a number");
    this.weightDecay = hyper("weightDecay", o.weightDecay, 0, nonNegative, "a number >= 0");
    this.nesterov = flag("nesterov", o.nesterov, false);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RnnError("unexpected", "Nesterov momentum requires a momentum and zero dampening");
    }
    // made now when there are momentum buffers to allocate; without, at the first step (making one then touches
    // no buffer, so an SGD can be made over models that are disposed before it steps, which then throws)
    this.states = this.momentum !== 0 ? this.newStates() : null;
  }

  private newStates(): SgdBuffer[] {
    return this.buffers.map((b) => bufferOps(b).sgd(this.momentum !== 0, this.blocksIn));
  }

  protected update(): void {
    this.states ??= this.newStates();
    for (const s of this.states) s.step(this, this.stepCount === 1);
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
  private readonly states: AdamBuffer[];

  /**
   * An Adam optimizer over the parameters of `models` (its moments start at zero).
   *
   * @param models what to update: a model, an array of models, or their parameter buffers
   * @param options learning rate, betas, ...; see {@link AdamOptions}
   * @param defaultWeightDecay the weight decay when `o` gives none (AdamW passes 1e-2)
   * @throws RnnError `unexpected` for a negative rate, eps or decay, or betas outside [0, 1)
   */
  constructor(models: Models, options: AdamOptions = {}, defaultWeightDecay = 0) {
    super(models);
    const what = `${this.constructor.name} options`;
    const o = optionsObject(what, options);
    knownKeys(what, o, ["lr", "betas", "eps", "weightDecay", "amsgrad"]);
    const nonNegative = (v: number) => v >= 0;
    this.lr = hyper("lr", o.lr, 1e-3, nonNegative, "a number >= 0");
    if (o.betas !== undefined && (!Array.isArray(o.betas) || o.betas.length !== 2)) {
      throw new RnnError("unexpected", `invalid betas: ${describeValue(o.betas)} (two numbers in [0, 1))`);
    }
    const beta = (v: number) => v >= 0 && v < 1;
    this.betas = [hyper("betas[0]", o.betas?.[0], 0.9, beta, "in [0, 1)"), hyper("betas[1]", o.betas?.[1], 0.999, beta, "in [0, 1)")];
    this.eps = hyper("eps", o.eps, 1e-8, nonNegative, "a number >= 0");
    this.weightDecay = hyper("weightDecay", o.weightDecay, defaultWeightDecay, nonNegative, "a number >= 0");
    this.amsgrad = flag("amsgrad", o.amsgrad, false);
    this.states = this.buffers.map((b) => bufferOps(b).adam(this.amsgrad, this.blocksIn));
  }

  protected update(): void {
    const [beta1, beta2] = this.betas;
    const bc1 = 1 - beta1 ** this.stepCount;
    const bc2 = 1 - beta2 ** this.stepCount;
    const h = { lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled };
    for (const s of this.states) s.step(h, bc1, bc2);
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
