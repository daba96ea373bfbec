// src/train/buffer-ops.ts: the whole-buffer operations optimizers and clipping run on one parameter buffer, on the
// backend that buffer lives on (chosen once per buffer, src/backend.ts): WasmBufferOps calls assembly/optim.ts's
// kernels on the buffer's blocks, ReferenceBufferOps src/reference/optim.ts's mirror on its arrays; the two compute
// the same bits. An optimizer's moments are buffers of the parameters' layout that the backend makes and keeps
// (wasm: blocks the optimizer owns), so an update is one pass over the buffer.
import type { Blocks } from "../blocks.js";
import { bytesOf } from "../layout.js";
import type { ParamBuffer } from "../param-buffer.js";
import * as ref from "../reference/optim.js";
import type { Runtime } from "../runtime.js";
import { chooseBackend } from "../backend.js";

/** SGD's hyperparameters (assembly/optim.ts states the rule). */
export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Adam's and AdamW's (bc1, bc2: the bias corrections 1 - beta^step, computed in float64). */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/** One buffer's SGD update, with its momentum buffer when it has one. */
export interface SgdBuffer {
  step(h: SgdHyper, first: boolean): void;
}

/** One buffer's Adam update, with its moments m, v (and vmax for AMSGrad). */
export interface AdamBuffer {
  step(h: AdamHyper, bc1: number, bc2: number): void;
}

/** Where an optimizer keeps its moments in a runtime: blocks it owns (freed by its dispose). */
export type MomentBlocks = (rt: Runtime) => Blocks;

export interface BufferOps {
  /** Σ g² over the gradients, summed in float64. */
  sumSquares(): number;
  /** max |g| over the gradients (NaN if any is NaN). */
  maxAbs(): number;
  /** g *= s. */
  scaleGrads(s: number): void;
  /** g = clamp(g, -c, c). */
  clampGrads(c: number): void;
  /** SGD on this buffer; with `momentum`, a zeroed momentum buffer of the parameters' layout. */
  sgd(momentum: boolean, blocks: MomentBlocks): SgdBuffer;
  /** Adam on this buffer, with zeroed moments m, v (and vmax with `amsgrad`) of the parameters' layout. */
  adam(amsgrad: boolean, blocks: MomentBlocks): AdamBuffer;
}

/** The operations of buffer `b`, on the backend its model chose (asking the buffer, which checks it is alive). */
export function bufferOps(b: ParamBuffer): BufferOps {
  const w = b.wasm();
  return chooseBackend<BufferOps>(w && w.runtime, {
    wasm: (rt) => new WasmBufferOps(rt, w!.params, w!.grads, b.size),
    reference: () => new ReferenceBufferOps(b),
  });
}

class WasmBufferOps implements BufferOps {
  constructor(private readonly rt: Runtime, private readonly paramsPtr: number, private readonly gradsPtr: number,
    private readonly n: number) {}

  sumSquares(): number {
    return this.rt.kernels.sumSquares(this.gradsPtr, this.n);
  }

  maxAbs(): number {
    return this.rt.kernels.maxAbs(this.gradsPtr, this.n);
  }

  scaleGrads(s: number): void {
    this.rt.kernels.scaleInPlace(this.gradsPtr, this.n, s);
  }

  clampGrads(c: number): void {
    this.rt.kernels.clampInPlace(this.gradsPtr, this.n, c);
  }

  /** A zeroed moment block of n floats, owned by the optimizer's blocks. */
  private moment(blocks: MomentBlocks): number {
    const ptr = blocks(this.rt).alloc(bytesOf(this.n), "a moment buffer");
    this.rt.f32(ptr, this.n).fill(0);
    return ptr;
  }

  sgd(momentum: boolean, blocks: MomentBlocks): SgdBuffer {
    const { rt, paramsPtr, gradsPtr, n } = this;
    const bufPtr = momentum ? this.moment(blocks) : 0;
    return {
      step: (h, first) => rt.kernels.sgdStep(paramsPtr, gradsPtr, bufPtr, n, h.lr, h.momentum, h.dampening,
        h.weightDecay, h.nesterov ? 1 : 0, first ? 1 : 0),
    };
  }

  adam(amsgrad: boolean, blocks: MomentBlocks): AdamBuffer {
    const { rt, paramsPtr, gradsPtr, n } = this;
    const mPtr = this.moment(blocks);
    const vPtr = this.moment(blocks);
    const vmaxPtr = amsgrad ? this.moment(blocks) : 0;
    return {
      step: (h, bc1, bc2) => rt.kernels.adamStep(paramsPtr, gradsPtr, mPtr, vPtr, vmaxPtr, n, h.lr, h.beta1, h.beta2,
        h.eps, h.weightDecay, bc1, bc2, h.decoupled ? 1 : 0),
    };
  }
}

/** The arrays are the buffer's own, asked for at each use (so a disposed model's buffer throws there). */
class ReferenceBufferOps implements BufferOps {
  constructor(private readonly b: ParamBuffer) {}

  sumSquares(): number {
    return ref.sumSquares(this.b.grads(), this.b.size);
  }

  maxAbs(): number {
    return ref.maxAbs(this.b.grads(), this.b.size);
  }

  scaleGrads(s: number): void {
    ref.scaleInPlace(this.b.grads(), this.b.size, s);
  }

  clampGrads(c: number): void {
    ref.clampInPlace(this.b.grads(), this.b.size, c);
  }

  sgd(momentum: boolean): SgdBuffer {
    const { b } = this;
    const buf = momentum ? new Float32Array(b.size) : null;
    return {
      step: (h, first) => ref.sgdStep(b.params(), b.grads(), buf, b.size, h.lr, h.momentum, h.dampening,
        h.weightDecay, h.nesterov, first),
    };
  }

  adam(amsgrad: boolean): AdamBuffer {
    const { b } = this;
    const m = new Float32Array(b.size);
    const v = new Float32Array(b.size);
    const vmax = amsgrad ? new Float32Array(b.size) : null;
    return {
      step: (h, bc1, bc2) => ref.adamStep(b.params(), b.grads(), m, v, vmax, b.size, h.lr, h.beta1, h.beta2, h.eps,
        h.weightDecay, bc1, bc2, h.decoupled),
    };
  }
}
