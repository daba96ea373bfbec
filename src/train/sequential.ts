// src/train/sequential.ts: chain modules into a model, as torch.nn.Sequential, so a training loop is a few
// lines: forward(x, { train: true }), a loss, backward(grad), an optimizer step. Recurrent layers pass their
// `output` sequence on; LastStep picks each sequence's last step for sequence-to-one models.
import { RnnError } from "../errors.js";
import { RecurrentLayer } from "../layers.js";
import { describeValue, flag, knownKeys, optionsObject, trainOption } from "../options.js";
import { checkTensor, type Tensor } from "../tensor.js";
import type { ParamBuffer, Trainable } from "./params.js";

/** What Sequential needs of a module. Linear, Embedding and LastStep are modules; recurrent layers are adapted. */
export interface Module {
  /** x → y; with `train`, keeps what backward() needs. */
  forward(x: Tensor, options?: {
    /** Keep what backward() needs. */
    train?: boolean;
  }): Tensor;
  /** dL/d(input), or null for a module whose input has no gradient (Embedding). */
  backward(dy: Tensor): Tensor | null;
  /** Parameters and gradients as flat buffers (modules without parameters leave it out). */
  parameterBuffers?(): ParamBuffer[];
  /** Sets the gradients to zero. */
  zeroGrad?(): void;
  /** Frees what the module holds. */
  dispose?(): void;
}

/**
 * [T, B, F] -> [B, F] (or [B, T, F] with batchFirst; [T, F] -> [F] unbatched): the last timestep of a
 * sequence. Inside a Sequential, batchFirst follows the recurrent layer before it unless set here.
 */
export class LastStep implements Module {
  /** Whether its input is [B, T, F]; undefined until set here or by the Sequential it is in. */
  batchFirst: boolean | undefined;
  private saved: number[] | null = null;

  /**
   * A LastStep for time-major input, or batch-first with `batchFirst`.
   *
   * @param options `batchFirst`: the input is [B, T, F] (default: as the recurrent layer before it in a Sequential, else false)
   */
  constructor(options: {
    /** The input is [B, T, F]. */
    batchFirst?: boolean;
  } = {}) {
    const o = optionsObject("LastStep options", options);
    knownKeys("LastStep options", o, ["batchFirst"]);
    this.batchFirst = o.batchFirst === undefined ? undefined : flag("batchFirst", o.batchFirst, false);
  }

  /** [T, B, F] → [B, F]: each sequence's last step (a copy). With `train`, keeps the shape for backward(). */
  forward(x: Tensor, options: {
    /** Keep what backward() needs. */
    train?: boolean;
  } = {}): Tensor {
    const t = checkTensor("input", x, (x as Tensor)?.shape?.length === 2 ? [null, null] : [null, null, null], "propagate");
    const bf = this.batchFirst ?? false;
    const [T, B, F] = t.shape.length === 2 ? [t.shape[0], 1, t.shape[1]] : bf ? [t.shape[1], t.shape[0], t.shape[2]] : t.shape;
    if (T < 1) throw new RnnError("shape", "LastStep needs at least one timestep");
    const out = new Float32Array(B * F);
    for (let b = 0; b < B; b++) {
      const src = bf ? (b * T + T - 1) * F : ((T - 1) * B + b) * F;
      out.set(t.data.subarray(src, src + F), b * F);
    }
    this.saved = trainOption("LastStep.forward", options) ? [...t.shape] : null;
    return { shape: t.shape.length === 2 ? [F] : [B, F], data: out };
  }

  backward(dy: Tensor): Tensor {
    const shape = this.saved;
    if (!shape) throw new RnnError("state", "backward() needs a forward(x, { train: true }) first");
    this.saved = null;
    const bf = this.batchFirst ?? false;
    const [T, B, F] = shape.length === 2 ? [shape[0], 1, shape[1]] : bf ? [shape[1], shape[0], shape[2]] : shape;
    const g = checkTensor("output gradient", dy, shape.length === 2 ? [F] : [B, F]);
    const dx = new Float32Array(T * B * F);
    for (let b = 0; b < B; b++) {
      const dst = bf ? (b * T + T - 1) * F : ((T - 1) * B + b) * F;
      dx.set(g.data.subarray(b * F, (b + 1) * F), dst);
    }
    return { shape: [...shape], data: dx };
  }
}

/**
 * What a Sequential chains: a {@link Module} (`Linear`, `Embedding`, `LastStep`, or your own) or a recurrent layer.
 * @inline
 */
type Part = Module | RecurrentLayer;

/**
 * Modules run in turn, as torch.nn.Sequential: a recurrent layer passes its `output` on, and `backward` runs them
 * in reverse. `zeroGrad()`, `resetState()` and `dispose()` reach every module; optimizers take a Sequential whole.
 *
 * @example
 * ```ts
 * const model = new Sequential([
 *   new LSTM({ inputSize: 1, hiddenSize: 32 }), // [T, B, 1] -> [T, B, 32]
 *   new LastStep(), //                            -> [B, 32]
 *   new Linear({ inFeatures: 32, outFeatures: 1 }), // -> [B, 1]
 * ]);
 * const prediction = model.forward(x, { train: true });
 * model.backward(mseLoss(prediction, y).grad);
 * ```
 */
export class Sequential implements Trainable {
  /** The modules, in the order they run. */
  readonly modules: Part[];
  private disposed = false;

  /**
   * A model that runs `modules` in turn.
   *
   * @param modules the modules in the order they run (at least one); a `LastStep` after a recurrent layer takes
   *   its `batchFirst`
   */
  constructor(modules: Part[]) {
    if (!Array.isArray(modules) || modules.length === 0) throw new RnnError("missing", "Sequential needs a non-empty array of modules");
    modules.forEach((m, i) => {
      const ok = m instanceof RecurrentLayer || (m !== null && typeof m === "object" && typeof m.forward === "function" && typeof m.backward === "function");
      if (!ok) throw new RnnError("unexpected", `modules[${i}] is not a module (a recurrent layer, Linear, Embedding, LastStep, or an object with forward and backward): ${describeValue(m)}`);
    });
    this.modules = [...modules];
    modules.forEach((m, i) => {
      const prev = modules[i - 1];
      if (m instanceof LastStep && m.batchFirst === undefined && prev instanceof RecurrentLayer) m.batchFirst = prev.spec.batchFirst;
    });
  }

  private live(): void {
    if (this.disposed) throw new RnnError("disposed", "this Sequential was disposed");
  }

  /**
   * Runs every module in turn. `train` keeps what backward() needs; `stream` makes recurrent layers continue
   * from the state their previous call ended in (truncated BPTT: gradients stop at the chunk's start).
   */
  forward(x: Tensor, options: {
    /** Keep what backward() needs. */
    train?: boolean;
    /** Continue each recurrent layer from the state its previous call ended in. */
    stream?: boolean;
  } = {}): Tensor {
    this.live();
    const o = optionsObject("Sequential.forward options", options);
    knownKeys("Sequential.forward", o, ["train", "stream"]);
    const train = flag("train", o.train, false), stream = flag("stream", o.stream, false);
    let y = x;
    for (const m of this.modules) {
      if (m instanceof RecurrentLayer) {
        y = (stream ? m.stream(y, { train }) : m.forward(y, { train })).output;
      } else {
        y = m.forward(y, { train });
      }
    }
    return y;
  }

  /** Backpropagates dL/d(output) through every module; returns dL/d(input) (null after an Embedding). */
  backward(dy: Tensor): Tensor | null {
    this.live();
    let g: Tensor | null = dy;
    for (let i = this.modules.length - 1; i >= 0 && g; i--) {
      const m = this.modules[i];
      g = m instanceof RecurrentLayer ? m.backward({ output: g }).dInput : m.backward(g);
    }
    return g;
  }

  /** Every module's parameter buffers, for optimizers and clipping. */
  parameterBuffers(): ParamBuffer[] {
    this.live();
    return this.modules.flatMap((m) => m.parameterBuffers?.() ?? []);
  }

  /** Sets every module's gradients to zero. */
  zeroGrad(): void {
    this.live();
    for (const m of this.modules) m.zeroGrad?.();
  }

  /** Forgets the streaming state of every recurrent layer. */
  resetState(): void {
    for (const m of this.modules) if (m instanceof RecurrentLayer) m.resetState();
  }

  /** Disposes every module. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.modules) m.dispose?.();
  }

  /** `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
