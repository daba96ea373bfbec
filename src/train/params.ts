// src/train/params.ts: how optimizers and clipping see a model: as flat buffers of parameters, each with a
// gradient buffer of the same size and layout. A wasm model is one buffer (its parameter block); a reference
// model is one buffer per tensor. Buffers check that their owner is alive on every access, so an optimizer
// kept past a model's dispose() throws instead of writing into freed memory.
import { RnnError } from "../errors.js";
import type { Runtime } from "../runtime.js";

/**
 * A flat buffer of parameters with a gradient buffer of the same size and layout: how optimizers and clipping see
 * a model. A wasm model is one buffer (its parameter block); a reference model is one buffer per tensor.
 */
export interface ParamBuffer {
  /** Floats in the buffer (padding included for wasm blocks; padding stays zero). */
  readonly size: number;
  /** The parameters: a fresh view for wasm memory, so do not keep it across an allocation. */
  params(): Float32Array;
  /** The gradients, same layout. */
  grads(): Float32Array;
  /** For wasm buffers: the runtime and byte addresses, so whole-buffer kernels can run on them. */
  wasm(): {
    /** The runtime whose memory holds the buffers. */
    runtime: Runtime;
    /** Byte address of the parameters. */
    params: number;
    /** Byte address of the gradients. */
    grads: number;
  } | null;
}

/** Anything with parameters: layers, cells, Linear, Embedding, Sequential. */
export interface Trainable {
  /** Parameters and gradients as flat buffers. */
  parameterBuffers(): ParamBuffer[];
  /** Sets every gradient to zero. */
  zeroGrad(): void;
}

export function buffersOf(models: Trainable | Trainable[] | ParamBuffer[]): ParamBuffer[] {
  const list: unknown[] = Array.isArray(models) ? models : [models];
  return list.flatMap((m, i) => {
    const where = Array.isArray(models) ? `models[${i}]` : "the model";
    if (m !== null && typeof m === "object") {
      if (typeof (m as Trainable).parameterBuffers === "function") return (m as Trainable).parameterBuffers();
      const b = m as ParamBuffer;
      if (typeof b.size === "number" && typeof b.params === "function" && typeof b.grads === "function" && typeof b.wasm === "function") return [b];
    }
    throw new RnnError("unexpected", `${where} is not a model (a layer, cell, Linear, Embedding or Sequential) nor a parameter buffer`);
  });
}

/** A buffer over a wasm block pair, valid while `alive()` holds. */
export function wasmBuffer(runtime: Runtime, params: number, grads: number, size: number, alive: () => void): ParamBuffer {
  return {
    size,
    params: () => (alive(), runtime.f32(params, size)),
    grads: () => (alive(), runtime.f32(grads, size)),
    wasm: () => (alive(), { runtime, params, grads }),
  };
}

/** A buffer over two arrays, valid while `alive()` holds. */
export function arrayBuffer(params: Float32Array, grads: Float32Array, alive: () => void): ParamBuffer {
  return {
    size: params.length,
    params: () => (alive(), params),
    grads: () => (alive(), grads),
    wasm: () => (alive(), null),
  };
}
