// src/train/linear.ts: y = x Wᵀ + b over the last axis, as torch.nn.Linear, with backward. On the wasm backend
// W lives packed as (in, roundUp4(out)) (layout.ts's pack with G = 1), so forward is one gemm and backward is
// gemmBackwardWeight / biasBackward (dW, db) and a gemm against a transposed copy of W (dx), over all rows.
import { RnnError } from "../errors.js";
import { getRuntime, type Runtime } from "../runtime.js";
import { packedSize, roundUp4, roundUp8, unpack } from "../layout.js";
import { fillUniform, mulberry32 } from "../random.js";
import { biasBackward } from "../reference/math.js";
import { gemm, gemmBackwardInput, gemmBackwardWeight } from "../reference/gemm.js";
import { checkFinite, checkTensor, checkTensorData, numel, type NanPolicy, type Tensor } from "../tensor.js";
import { Blocks, Workspace } from "../blocks.js";
import { checkBlockSize } from "../runtime.js";
import { trainOption, describeValue, flag, knownKeys, nanPolicyOption, optionsObject } from "../options.js";
import { BACKEND_KEYS, checkBackendOptions } from "../recurrent-base.js";
import { checkWeight, type WeightValue } from "../weights.js";
import { arrayBuffer, wasmBuffer, type ParamBuffer, type Trainable } from "./params.js";

/** Options of {@link Linear}: torch.nn.Linear's arguments in camelCase, and where it runs. */
export interface LinearOptions {
  /** Features of the input (its last axis). */
  inFeatures: number;
  /** Features of the output. */
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  /** Seed for the initial weights: uniform in ±1/sqrt(inFeatures), as PyTorch's default init. */
  seed?: number;
  /** 'wasm' (default) runs the kernels; 'reference' runs plain TypeScript. */
  backend?: "wasm" | "reference";
  /** The wasm runtime to use; default: the one `init()` loaded. */
  runtime?: Runtime;
  /** NaN/Infinity in the input or the upstream gradient: 'error' (default) throws naming the tensor, 'propagate' computes on. */
  nanPolicy?: NanPolicy;
}

/**
 * `y = x Wᵀ + b` over the last axis, as torch.nn.Linear: `[..., inFeatures] → [..., outFeatures]`, with its
 * backward. Weights `weight [out, in]` and `bias [out]` under PyTorch's names.
 *
 * @example
 * ```ts
 * const head = new Linear({ inFeatures: 32, outFeatures: 1, seed: 2, backend: "reference" });
 * const y = head.forward(tensor([4, 32])); // [4, 1]
 * ```
 */
export class Linear implements Trainable {
  /** Features of the input. */
  readonly inFeatures: number;
  /** Features of the output. */
  readonly outFeatures: number;
  /** Whether it adds a bias. */
  readonly bias: boolean;
  /** 'wasm' or 'reference'. */
  readonly backend: "wasm" | "reference";
  private readonly nanPolicy: NanPolicy;
  private readonly rt: Runtime | null;
  // wasm: one block [W (in, Np) | b (Np)], its gradients, and a workspace
  private readonly blocks: Blocks | null = null;
  private readonly scratch: Workspace | null = null;
  private paramsPtr = 0;
  private gradsPtr = 0;
  // reference: PyTorch layout
  private W: Float32Array | null = null;
  private b: Float32Array | null = null;
  private dW: Float32Array | null = null;
  private db: Float32Array | null = null;
  private saved: { x: Float32Array; M: number; shape: number[] } | null = null;
  private disposed = false;

  /**
   * A Linear layer: weights from `params`, or random as PyTorch's default init.
   *
   * @param options sizes, bias, seed and backend; see {@link LinearOptions}
   * @param params `weight` [out, in] and `bias` [out], flat in PyTorch's layout; default uniform in ±1/√inFeatures from `o.seed`
   */
  constructor(options: LinearOptions, params?: {
    /** [outFeatures, inFeatures], row-major (or a tensor of that shape). */
    weight: WeightValue;
    /** [outFeatures] (or a tensor of that shape); present exactly when `bias` is true. */
    bias?: WeightValue;
  }) {
    const o = optionsObject("Linear options", options) as LinearOptions;
    knownKeys("Linear options", o, ["inFeatures", "outFeatures", "bias", ...BACKEND_KEYS]);
    for (const k of ["inFeatures", "outFeatures"] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new RnnError(o[k] === undefined ? "missing" : "shape", `Linear option ${k} must be a positive integer, got ${describeValue(o[k])}`);
    }
    const b = checkBackendOptions(o);
    this.inFeatures = o.inFeatures;
    this.outFeatures = o.outFeatures;
    this.bias = flag("bias", o.bias, true);
    this.backend = b.backend;
    this.nanPolicy = b.nanPolicy;
    const n = this.blockFloats();
    checkBlockSize(n * 4, `the parameters of a Linear(${this.inFeatures}, ${this.outFeatures})`, "use a smaller model");
    let weight: Float32Array, bias: Float32Array | undefined;
    if (params === undefined) {
      const next = mulberry32(b.seed ?? Math.floor(Math.random() * 2 ** 32));
      const bound = 1 / Math.sqrt(this.inFeatures);
      weight = fillUniform(new Float32Array(this.outFeatures * this.inFeatures), bound, next);
      bias = this.bias ? fillUniform(new Float32Array(this.outFeatures), bound, next) : undefined;
    } else {
      ({ weight, bias } = this.checkParams(params));
    }
    if (this.backend === "wasm") {
      this.rt = b.runtime ?? getRuntime();
      this.blocks = new Blocks(this.rt, this, `a Linear(${this.inFeatures}, ${this.outFeatures})`);
      this.scratch = new Workspace(this.blocks, "the workspace");
      this.paramsPtr = this.blocks.alloc(n * 4, "the parameters");
      this.gradsPtr = this.blocks.alloc(n * 4, "the gradients");
      // the weights go through the gradient block (not yet in use) and are packed by the kernel the layers use
      this.rt.f32(this.gradsPtr, weight.length).set(weight);
      this.rt.kernels.packWeights(this.paramsPtr, this.gradsPtr, 1, this.outFeatures, this.inFeatures);
      const block = this.rt.f32(this.paramsPtr, n);
      block.fill(0, this.biasOffset);
      if (bias) block.set(bias, this.biasOffset);
      this.rt.f32(this.gradsPtr, n).fill(0);
    } else {
      this.rt = null;
      this.W = weight.slice();
      this.b = bias ? bias.slice() : null;
      this.dW = new Float32Array(this.W.length);
      this.db = this.b ? new Float32Array(this.b.length) : null;
    }
  }

  /** The constructor's weights, checked against the sizes, bias option and NaN policy. */
  private checkParams(params: unknown): { weight: Float32Array; bias?: Float32Array } {
    if (params === null || typeof params !== "object" || Array.isArray(params) || ArrayBuffer.isView(params)) {
      throw new RnnError("dtype", `Linear weights must be { weight, bias? }, got ${describeValue(params)}`);
    }
    const { weight, bias, ...rest } = params as { weight?: unknown; bias?: unknown };
    const other = Object.keys(rest)[0];
    if (other !== undefined) throw new RnnError("unexpected", `unexpected tensor '${other}' for a Linear: it has weight and bias`);
    const owner = `a Linear(${this.inFeatures}, ${this.outFeatures})`;
    const one = (name: string, v: unknown, shape: number[]) => checkWeight(name, v, shape, this.nanPolicy, owner);
    const w = one("weight", weight, [this.outFeatures, this.inFeatures]);
    if (!this.bias) {
      if (bias !== undefined) throw new RnnError("unexpected", "a bias tensor was given to a Linear with bias: false");
      return { weight: w };
    }
    return { weight: w, bias: one("bias", bias, [this.outFeatures]) };
  }

  /** Builds a Linear from PyTorch tensors `weight` [out, in] and optional `bias` [out] (after `prefix`). */
  static fromTorch(tensors: Record<string, Tensor>, options: { prefix?: string } & Omit<LinearOptions, "inFeatures" | "outFeatures" | "bias"> = {}): Linear {
    const { prefix, ...backend } = optionsObject("Linear.fromTorch options", options);
    if (prefix !== undefined && typeof prefix !== "string") throw new RnnError("unexpected", `prefix must be a string, got ${describeValue(prefix)}`);
    if (tensors === null || typeof tensors !== "object") throw new RnnError("missing", "Linear.fromTorch needs a record of tensors by state_dict name");
    const p = prefix ?? "";
    const nanPolicy = nanPolicyOption(backend.nanPolicy);
    const w = Object.hasOwn(tensors, p + "weight") ? tensors[p + "weight"] : undefined;
    if (!w) throw new RnnError("missing", `missing tensor '${p}weight' [outFeatures, inFeatures]`);
    checkTensor(`${p}weight`, w, [null, null], nanPolicy);
    const [out, inF] = w.shape;
    const b = Object.hasOwn(tensors, p + "bias") ? tensors[p + "bias"] : undefined;
    if (b) checkTensor(`${p}bias`, b, [out], nanPolicy);
    return new Linear({ ...backend, inFeatures: inF, outFeatures: out, bias: !!b }, { weight: w.data, bias: b?.data });
  }

  private get Np(): number {
    return roundUp4(this.outFeatures);
  }

  /** Weights packed (in, Np), then the bias padded to a multiple of 8. */
  private blockFloats(): number {
    return packedSize(this.inFeatures, this.Np) + roundUp8(this.Np);
  }

  private get biasOffset(): number {
    return packedSize(this.inFeatures, this.Np);
  }

  private live(): void {
    if (this.disposed) throw new RnnError("disposed", "this Linear was disposed; create a new one");
  }

  private workspace(floats: number, rows: number): number {
    return this.scratch!.get(floats, () => `the workspace for ${rows} rows`);
  }

  /** x [..., inFeatures] -> [..., outFeatures]. With `train`, keeps x for backward(). */
  forward(x: Tensor, options: { train?: boolean } = {}): Tensor {
    this.live();
    const t = checkTensorData("input", x, `[..., ${this.inFeatures}]`);
    if (t.shape.length < 1 || t.shape[t.shape.length - 1] !== this.inFeatures) {
      throw new RnnError("shape", `input has shape [${t.shape.join(", ")}], expected [..., ${this.inFeatures}]`);
    }
    checkTensor("input", t, t.shape, this.nanPolicy);
    const M = numel(t.shape) / this.inFeatures;
    const I = this.inFeatures, N = this.outFeatures, Np = this.Np;
    const shape = [...t.shape.slice(0, -1), N];
    this.saved = trainOption("Linear.forward", options) ? { x: new Float32Array(t.data), M, shape: [...t.shape] } : null;
    const y = new Float32Array(M * N);
    if (this.rt) {
      const base = this.workspace(M * (I + N), M);
      const xPtr = base, yPtr = base + M * I * 4;
      this.rt.f32(xPtr, M * I).set(t.data);
      this.rt.kernels.gemm(yPtr, N, xPtr, I, this.paramsPtr, I * 8, this.bias ? this.paramsPtr + this.biasOffset * 4 : 0, M, I, N, 0);
      y.set(this.rt.f32(yPtr, M * N));
    } else {
      gemm(y, N, t.data, I, this.W!, I, this.b, M, I, N, false);
    }
    return { shape, data: y };
  }

  /** Gradient of the last training forward: returns dL/dx and ADDS dL/dW, dL/db into grads(). */
  backward(dy: Tensor): Tensor {
    this.live();
    const s = this.saved;
    if (!s) throw new RnnError("state", "backward() needs a forward(x, { train: true }) first, and runs once per such forward");
    const g = checkTensor("output gradient", dy, [...s.shape.slice(0, -1), this.outFeatures], this.nanPolicy);
    this.saved = null;
    const { M, x } = s;
    const I = this.inFeatures, N = this.outFeatures, Np = this.Np;
    const dx = new Float32Array(M * I);
    if (this.rt) {
      const k = this.rt.kernels;
      const wt = packedSize(Np, I); // Wᵀ, packed (Np, I)
      const base = this.workspace(M * (2 * I + Np) + wt, M);
      const xPtr = base, dyPtr = base + M * I * 4, dxPtr = dyPtr + M * Np * 4, wtPtr = dxPtr + M * I * 4;
      this.rt.f32(xPtr, M * I).set(x);
      const d = this.rt.f32(dyPtr, M * Np);
      d.fill(0);
      for (let m = 0; m < M; m++) d.set(g.data.subarray(m * N, (m + 1) * N), m * Np);
      k.gemmBackwardWeight(this.gradsPtr, I * 8, xPtr, I, dyPtr, Np, M, I, Np);
      if (this.bias) k.biasBackward(this.gradsPtr + this.biasOffset * 4, dyPtr, Np, M, Np);
      k.packTransposed(wtPtr, this.paramsPtr, I * 8, I, Np);
      k.gemm(dxPtr, I, dyPtr, Np, wtPtr, Np * 8, 0, M, Np, I, 0);
      dx.set(this.rt.f32(dxPtr, M * I));
    } else {
      gemmBackwardWeight(this.dW!, I, x, I, g.data, N, M, I, N);
      if (this.db) biasBackward(this.db, g.data, N, M, N);
      gemmBackwardInput(dx, I, g.data, N, this.W!, I, M, I, N, false);
    }
    return { shape: [...s.shape], data: dx };
  }

  private unpackBlock(ptr: number): Record<string, Tensor> {
    const I = this.inFeatures, N = this.outFeatures, Np = this.Np;
    const block = this.rt!.f32(ptr, this.blockFloats());
    const out: Record<string, Tensor> = { weight: { shape: [N, I], data: unpack(block.subarray(0, this.biasOffset), 1, N, I) } };
    if (this.bias) out.bias = { shape: [N], data: block.slice(this.biasOffset, this.biasOffset + N) };
    return out;
  }

  /** { weight [out, in], bias [out] } as PyTorch names them (copies). */
  toTorch(): Record<string, Tensor> {
    this.live();
    if (this.rt) return this.unpackBlock(this.paramsPtr);
    const out: Record<string, Tensor> = { weight: { shape: [this.outFeatures, this.inFeatures], data: this.W!.slice() } };
    if (this.b) out.bias = { shape: [this.outFeatures], data: this.b.slice() };
    return out;
  }

  /** Accumulated gradients under the same names (copies). */
  grads(): Record<string, Tensor> {
    this.live();
    if (this.rt) return this.unpackBlock(this.gradsPtr);
    const out: Record<string, Tensor> = { weight: { shape: [this.outFeatures, this.inFeatures], data: this.dW!.slice() } };
    if (this.db) out.bias = { shape: [this.outFeatures], data: this.db.slice() };
    return out;
  }

  /** Sets the gradients to zero. */
  zeroGrad(): void {
    this.live();
    if (this.rt) this.rt.f32(this.gradsPtr, this.blockFloats()).fill(0);
    else {
      this.dW!.fill(0);
      this.db?.fill(0);
    }
  }

  /** Parameters and gradients as flat buffers, for optimizers and clipping. */
  parameterBuffers(): ParamBuffer[] {
    this.live();
    const alive = () => this.live();
    if (this.rt) return [wasmBuffer(this.rt, this.paramsPtr, this.gradsPtr, this.blockFloats(), alive)];
    const list = [arrayBuffer(this.W!, this.dW!, alive)];
    if (this.b) list.push(arrayBuffer(this.b, this.db!, alive));
    return list;
  }

  /** Frees the wasm memory. Safe to call twice; any later call throws `code 'disposed'`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.blocks?.freeAll();
    this.paramsPtr = this.gradsPtr = 0;
    this.saved = null;
  }

  /** `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
