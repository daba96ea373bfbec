// src/param-store.ts: one owner's parameters and their gradients as two flat arrays of one layout, on either
// backend (chosen once: src/backend.ts): WasmParamStore keeps them in wasm blocks of its own (src/blocks.ts), next
// to the models the optimizers update there; ArrayParamStore in Float32Arrays. For a module whose maths is plain
// gathers and scatters on the values (Embedding), this is its whole engine.
import { Blocks, ParamBlocks } from "./blocks.js";
import { arrayBuffer, type ParamBuffer } from "./param-buffer.js";
import type { Runtime } from "./runtime.js";

export interface ParamStore {
  /** The parameters (a fresh view for wasm: do not keep it across an allocation). */
  params(): Float32Array;
  /** The gradients, same layout. */
  grads(): Float32Array;
  /** The pair as a buffer for optimizers and clipping; `alive` throws once the owner is disposed. */
  buffers(alive: () => void): ParamBuffer[];
  /** Frees the wasm memory (nothing for arrays). */
  dispose(): void;
}

/** Parameters and gradients in two wasm blocks, both allocated at once; the gradients start at zero. */
export class WasmParamStore implements ParamStore {
  private readonly blocks: Blocks;
  private readonly pair: ParamBlocks;

  /**
   * @param rt the runtime whose memory holds them
   * @param floats floats in each
   * @param what the owner in words, for messages
   * @param names what each block is, in the error when it cannot be had
   */
  constructor(rt: Runtime, floats: number, what: string, names: { params: string; grads: string }) {
    this.blocks = new Blocks(rt, this, what);
    this.pair = new ParamBlocks(this.blocks, floats, names);
    this.pair.ensureGrads();
  }

  params(): Float32Array {
    return this.pair.params();
  }

  grads(): Float32Array {
    return this.pair.grads();
  }

  buffers(alive: () => void): ParamBuffer[] {
    return [this.pair.buffer(alive)];
  }

  dispose(): void {
    this.blocks.freeAll();
  }
}

/** Parameters and gradients in two Float32Arrays; the parameters start at zero until set. */
export class ArrayParamStore implements ParamStore {
  private readonly p: Float32Array;
  private readonly g: Float32Array;

  constructor(floats: number) {
    this.p = new Float32Array(floats);
    this.g = new Float32Array(floats);
  }

  params(): Float32Array {
    return this.p;
  }

  grads(): Float32Array {
    return this.g;
  }

  buffers(alive: () => void): ParamBuffer[] {
    return [arrayBuffer(this.p, this.g, alive)];
  }

  dispose(): void {}
}
