// src/train/embedding.ts: a lookup table, as torch.nn.Embedding: indices [...] -> rows of weight [..., dim].
// Backward adds each upstream row into the gradient row of its index. Pure gathers and scatters, so it runs
// in TypeScript on the table's values wherever its backend keeps them (its engine is a ParamStore: wasm blocks
// the optimizers update in place, or arrays; chosen once in the constructor, src/backend.ts).
import { backendRuntime, chooseBackend } from "../backend.js";
import { RnnError } from "../errors.js";
import { bytesOf } from "../layout.js";
import { ArrayParamStore, WasmParamStore, type ParamStore } from "../param-store.js";
import type { Runtime } from "../runtime.js";
import { mulberry32 } from "../random.js";
import { checkTensor, numel, type Tensor } from "../tensor.js";
import { checkBlockSize } from "../runtime.js";
import { trainOption, describeValue, knownKeys, optionsObject } from "../options.js";
import { checkBackendOptions } from "../recurrent-base.js";
import { checkWeight, type WeightValue } from "../weights.js";
import type { ParamBuffer, Trainable } from "./params.js";

/** Integer indices with a shape: Int32Array, or float data holding whole numbers. */
export interface IndexTensor {
  /** Sizes of the axes, outermost first. */
  shape: number[];
  /** The indices, row-major. */
  data: Int32Array | Float32Array | number[];
}

/** Options of {@link Embedding}: torch.nn.Embedding's arguments in camelCase, and where it runs. */
export interface EmbeddingOptions {
  /** Rows of the table: indices run from 0 to numEmbeddings - 1. */
  numEmbeddings: number;
  /** Features of each row. */
  embeddingDim: number;
  /** Seed for the initial weights: standard normal, as PyTorch's default init. */
  seed?: number;
  /** 'wasm' (default) keeps the table in wasm memory, next to the model the optimizers update; 'reference' in an array. */
  backend?: "wasm" | "reference";
  /** The wasm runtime to use; default: the one `init()` loaded. */
  runtime?: Runtime;
}

/**
 * A lookup table, as torch.nn.Embedding: integer indices `[...]` → rows of `weight`, `[..., embeddingDim]`.
 *
 * @example
 * ```ts
 * const embedding = new Embedding({ numEmbeddings: 5, embeddingDim: 8, seed: 1, backend: "reference" });
 * const x = embedding.forward({ shape: [3, 2], data: Int32Array.of(0, 4, 1, 1, 2, 3) }); // [3, 2, 8]
 * ```
 */
export class Embedding implements Trainable {
  /** Rows of the table. */
  readonly numEmbeddings: number;
  /** Features of each row. */
  readonly embeddingDim: number;
  private readonly table: ParamStore; // weight [numEmbeddings, embeddingDim] and its gradient
  private saved: { idx: Int32Array; shape: number[] } | null = null;
  private disposed = false;

  /**
   * An embedding table: `weight`, or standard normal as PyTorch's default init.
   *
   * @param options sizes, seed and backend; see {@link EmbeddingOptions}
   * @param weight the table [numEmbeddings, embeddingDim], row-major; default standard normal from `o.seed`
   */
  constructor(options: EmbeddingOptions, weight?: WeightValue) {
    const o = optionsObject("Embedding options", options) as EmbeddingOptions;
    knownKeys("Embedding options", o, ["numEmbeddings", "embeddingDim", "seed", "backend", "runtime"]);
    for (const k of ["numEmbeddings", "embeddingDim"] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new RnnError(o[k] === undefined ? "missing" : "shape", `Embedding option ${k} must be a positive integer, got ${describeValue(o[k])}`);
    }
    const b = checkBackendOptions(o);
    this.numEmbeddings = o.numEmbeddings;
    this.embeddingDim = o.embeddingDim;
    const n = this.numEmbeddings * this.embeddingDim;
    const what = `an Embedding(${this.numEmbeddings}, ${this.embeddingDim})`;
    checkBlockSize(bytesOf(n), `the table of ${what}`, "use a smaller table");
    const w = weight === undefined
      ? normal(n, mulberry32(b.seed ?? Math.floor(Math.random() * 2 ** 32)))
      : checkWeight("weight", weight, [this.numEmbeddings, this.embeddingDim], "propagate", what);
    this.table = chooseBackend<ParamStore>(backendRuntime(b.backend, b.runtime), {
      wasm: (rt) => new WasmParamStore(rt, n, what, { params: "the table", grads: "the gradients" }),
      reference: () => new ArrayParamStore(n),
    });
    this.table.params().set(w);
  }

  private live(): void {
    if (this.disposed) throw new RnnError("disposed", "this Embedding was disposed; create a new one");
  }

  /** indices [...] -> [..., embeddingDim]. With `train`, keeps the indices for backward(). */
  forward(indices: IndexTensor, options: { train?: boolean } = {}): Tensor {
    this.live();
    if (!indices || !Array.isArray(indices.shape) || indices.data == null || typeof indices.data.length !== "number") {
      throw new RnnError("dtype", "indices must be { shape, data: Int32Array | number[] }");
    }
    const n = numel(indices.shape);
    if (indices.data.length !== n) throw new RnnError("shape", `indices.data has ${indices.data.length} values but shape [${indices.shape}] needs ${n}`);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = indices.data[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new RnnError("shape", `index ${v} at flat position ${i} is outside [0, ${this.numEmbeddings})`);
      }
      idx[i] = v;
    }
    const D = this.embeddingDim;
    const W = this.table.params();
    const out = new Float32Array(n * D);
    for (let i = 0; i < n; i++) out.set(W.subarray(idx[i] * D, (idx[i] + 1) * D), i * D);
    this.saved = trainOption("Embedding.forward", options) ? { idx, shape: [...indices.shape] } : null;
    return { shape: [...indices.shape, D], data: out };
  }

  /** Adds the upstream rows into the gradient rows of their indices. Indices have no gradient: returns null. */
  backward(dy: Tensor): null {
    this.live();
    const s = this.saved;
    if (!s) throw new RnnError("state", "backward() needs a forward(indices, { train: true }) first, and runs once per such forward");
    const D = this.embeddingDim;
    const g = checkTensor("output gradient", dy, [...s.shape, D]);
    this.saved = null;
    const dW = this.table.grads();
    for (let i = 0; i < s.idx.length; i++) {
      const row = s.idx[i] * D;
      for (let j = 0; j < D; j++) dW[row + j] += g.data[i * D + j];
    }
    return null;
  }

  /** `{ weight [numEmbeddings, embeddingDim] }`, as PyTorch names it (a copy). */
  toTorch(): Record<string, Tensor> {
    this.live();
    return { weight: { shape: [this.numEmbeddings, this.embeddingDim], data: this.table.params().slice() } };
  }

  /** The accumulated gradient under the same name (a copy). */
  grads(): Record<string, Tensor> {
    this.live();
    return { weight: { shape: [this.numEmbeddings, this.embeddingDim], data: this.table.grads().slice() } };
  }

  /** Sets the gradient to zero. */
  zeroGrad(): void {
    this.live();
    this.table.grads().fill(0);
  }

  /** The table and its gradient as a flat buffer, for optimizers and clipping. */
  parameterBuffers(): ParamBuffer[] {
    this.live();
    return this.table.buffers(() => this.live());
  }

  /** Frees the wasm memory. Safe to call twice; any later call throws `code 'disposed'`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.table.dispose();
    this.saved = null;
  }

  /** `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Standard normal values (Box-Muller), as torch.nn.Embedding's default init. */
function normal(n: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - next(), v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
