// src/blocks.ts: the wasm blocks one object owns (a layer's parameters, gradients and workspace; a Linear's; an
// Embedding's table; an optimizer's moments), and what frees them. dispose() frees them at once; an owner that is
// garbage-collected without dispose() has them freed by a FinalizationRegistry, so a program that forgets to
// dispose its layers does not grow its wasm memory without end. The registry's held value is the Blocks object,
// which never refers back to its owner (that would keep the owner reachable and the callback would never run).
import { RnnError } from "./errors.js";
import { bytesOf } from "./layout.js";
import { wasmBuffer, type ParamBuffer } from "./param-buffer.js";
import type { Runtime } from "./runtime.js";

/** Blocks freed by the registry since the process started: a count for tests and for RNN_WASM_DEBUG_LEAKS. */
let collected = 0;

const registry = typeof FinalizationRegistry !== "undefined"
  ? new FinalizationRegistry<Blocks>((blocks) => {
    collected++;
    if (typeof process !== "undefined" && process.env?.RNN_WASM_DEBUG_LEAKS) {
      console.warn(`rnn-wasm: ${blocks.what} was garbage-collected without dispose(); its ${blocks.bytes} bytes of wasm memory were freed then`);
    }
    blocks.freeAll();
  })
  : null;

/** Owners whose blocks the FinalizationRegistry has freed (they were dropped without dispose()). */
export function collectedOwners(): number {
  return collected;
}

/**
 * The blocks of one owner in one runtime. Every block goes through alloc()/free() here, so freeAll() (dispose,
 * or the registry after a collection) returns all of them.
 */
export class Blocks {
  /** The runtime whose memory holds the blocks. */
  readonly rt: Runtime;
  /** What owns them, for messages: 'an LSTM layer', 'a Linear', ... */
  readonly what: string;
  private readonly live = new Set<number>();

  /**
   * @param rt the runtime to allocate in
   * @param owner the object whose collection frees the blocks; never referenced from here
   * @param what the owner in words, for messages
   */
  constructor(rt: Runtime, owner: object, what: string) {
    this.rt = rt;
    this.what = what;
    registry?.register(owner, this, this);
  }

  /** A 16-byte aligned block of `bytes` bytes; `purpose` names it in the error when it cannot be had. */
  alloc(bytes: number, purpose: string): number {
    const ptr = this.rt.alloc(bytes, `${purpose} of ${this.what}`);
    this.live.add(ptr);
    return ptr;
  }

  /** Frees one block of this owner (0 is ignored). */
  free(ptr: number): void {
    if (ptr === 0) return;
    if (!this.live.delete(ptr)) throw new RnnError("state", `free of a block ${this.what} does not own (${ptr})`);
    this.rt.free(ptr);
  }

  /** Bytes held now. */
  get bytes(): number {
    let n = 0;
    for (const p of this.live) n += this.rt.blockBytes(p);
    return n;
  }

  /** Frees every block; the owner is then disposed, and the registry no longer watches it. */
  freeAll(): void {
    for (const p of this.live) this.rt.free(p);
    this.live.clear();
    registry?.unregister(this);
  }
}

/**
 * A scratch block that grows when a call needs more than it has and is reused otherwise, so steady-state calls
 * allocate nothing.
 */
export class Workspace {
  private ptr = 0;
  private floats = 0;

  constructor(private readonly blocks: Blocks, private readonly purpose: string) {}

  /**
   * Byte address of at least `floats` floats (contents undefined); the old block is freed before a larger is
   * taken. `purpose` says what the call needs it for, in the error when it cannot be had.
   */
  get(floats: number, purpose?: () => string): number {
    if (floats > this.floats) {
      this.blocks.free(this.ptr);
      this.ptr = 0;
      this.floats = 0;
      this.ptr = this.blocks.alloc(bytesOf(floats), purpose ? purpose() : this.purpose);
      this.floats = floats;
    }
    return this.ptr;
  }

  /**
   * The current block's address when it holds `floats`, else 0: a call checks this first and builds the message for
   * get() only when the block must grow, so a steady-state call allocates nothing, not even that closure.
   */
  fits(floats: number): number {
    return floats <= this.floats ? this.ptr : 0;
  }

  /** Byte address of the current block (0 before the first get). */
  get address(): number {
    return this.ptr;
  }
}

/**
 * An owner's parameter block and its gradient block, `floats` floats each in one layout (layout.ts): the recurrent
 * engine's packed parameters, a Linear's, an Embedding's table. The gradients are allocated, zeroed, when first
 * needed (a layer that only runs inference never holds them); optimizers see the pair as one ParamBuffer.
 */
export class ParamBlocks {
  /** Byte address of the parameters. */
  readonly paramsPtr: number;
  private gradsAt = 0;

  /**
   * @param blocks the owner's blocks, which free both
   * @param floats floats in each block
   * @param names what each block is, in the error when it cannot be had
   */
  constructor(private readonly blocks: Blocks, readonly floats: number, private readonly names: { params: string; grads: string }) {
    this.paramsPtr = blocks.alloc(bytesOf(floats), names.params);
  }

  /** Byte address of the gradients; 0 until ensureGrads() allocates them. */
  get gradsPtr(): number {
    return this.gradsAt;
  }

  /** Allocates the gradients, zeroed, unless they exist; returns their byte address. */
  ensureGrads(): number {
    if (this.gradsAt === 0) {
      this.gradsAt = this.blocks.alloc(bytesOf(this.floats), this.names.grads);
      this.blocks.rt.f32(this.gradsAt, this.floats).fill(0);
    }
    return this.gradsAt;
  }

  /** A fresh view of the parameters (do not keep it across an allocation). */
  params(): Float32Array {
    return this.blocks.rt.f32(this.paramsPtr, this.floats);
  }

  /** A fresh view of the gradients (allocating them when they do not exist yet). */
  grads(): Float32Array {
    return this.blocks.rt.f32(this.ensureGrads(), this.floats);
  }

  /** Sets the gradients to zero (nothing to do before they exist). */
  zeroGrad(): void {
    if (this.gradsAt !== 0) this.grads().fill(0);
  }

  /** The pair as one buffer for optimizers and clipping; `alive` throws once the owner is disposed. */
  buffer(alive: () => void): ParamBuffer {
    return wasmBuffer(this.blocks.rt, this.paramsPtr, this.ensureGrads(), this.floats, alive);
  }
}
