// src/param-buffer.ts: how optimizers and clipping see a model (a Trainable): flat buffers of parameters, each with a
// gradient buffer of the same size and layout. A wasm model is one buffer (its parameter block, src/blocks.ts); a
// reference model is one buffer per tensor. Buffers check that their owner is alive on every access, so an
// optimizer kept past a model's dispose() throws instead of writing into freed memory.
import type { Runtime } from "./runtime.js";

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

/** A buffer over a wasm block pair of `size` floats each, valid while `alive()` holds. */
export function wasmBuffer(runtime: Runtime, paramsPtr: number, gradsPtr: number, size: number, alive: () => void): ParamBuffer {
  return {
    size,
    params: () => (alive(), runtime.f32(paramsPtr, size)),
    grads: () => (alive(), runtime.f32(gradsPtr, size)),
    wasm: () => (alive(), { runtime, params: paramsPtr, grads: gradsPtr }),
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
