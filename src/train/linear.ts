// src/train/linear.ts: y = x Wᵀ + b over the last axis, as torch.nn.Linear, with backward: the API (options, shapes,
// checks, the saved input); the maths is its engine's (train/linear-engine.ts: WasmLinear or ReferenceLinear,
// chosen once in the constructor, src/backend.ts).
import { backendRuntime, chooseBackend } from "../backend.js";
import { RnnError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { bytesOf, linearLayout } from "../layout.js";
import { fillUniform, mulberry32 } from "../random.js";
import { checkTensor, checkTensorData, numel, type NanPolicy, type Tensor } from "../tensor.js";
import { checkBlockSize } from "../runtime.js";
import { trainOption, describeValue, flag, knownKeys, nanPolicyOption, optionsObject } from "../options.js";
import { BACKEND_KEYS, checkBackendOptions } from "../recurrent-base.js";
import { checkWeight, type WeightValue } from "../weights.js";
import { ReferenceLinear, WasmLinear, type LinearEngine, type LinearWeights } from "./linear-engine.js";
import type { ParamBuffer, Trainable } from "./params.js";

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
  private readonly engine: LinearEngine;
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
    const I = this.inFeatures, N = this.outFeatures;
    checkBlockSize(bytesOf(linearLayout(I, N).totalFloats), `the parameters of a Linear(${I}, ${N})`, "use a smaller model");
    let w: LinearWeights;
    if (params === undefined) {
      const next = mulberry32(b.seed ?? Math.floor(Math.random() * 2 ** 32));
      const bound = 1 / Math.sqrt(I);
      const weight = fillUniform(new Float32Array(N * I), bound, next);
      w = this.bias ? { weight, bias: fillUniform(new Float32Array(N), bound, next) } : { weight };
    } else {
      w = this.checkParams(params);
    }
    this.engine = chooseBackend<LinearEngine>(backendRuntime(b.backend, b.runtime), {
      wasm: (rt) => new WasmLinear(rt, I, N, w, `a Linear(${I}, ${N})`),
      reference: () => new ReferenceLinear(I, N, w),
    });
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

  private live(): void {
    if (this.disposed) throw new RnnError("disposed", "this Linear was disposed; create a new one");
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
    const shape = [...t.shape.slice(0, -1), this.outFeatures];
    this.saved = trainOption("Linear.forward", options) ? { x: new Float32Array(t.data), M, shape: [...t.shape] } : null;
    return { shape, data: this.engine.forward(t.data, M) };
  }

  /** Gradient of the last training forward: returns dL/dx and ADDS dL/dW, dL/db into grads(). */
  backward(dy: Tensor): Tensor {
    this.live();
    const s = this.saved;
    if (!s) throw new RnnError("state", "backward() needs a forward(x, { train: true }) first, and runs once per such forward");
    const g = checkTensor("output gradient", dy, [...s.shape.slice(0, -1), this.outFeatures], this.nanPolicy);
    this.saved = null;
    return { shape: [...s.shape], data: this.engine.backward(s.x, g.data, s.M) };
  }

  /** The weights (or gradients) as tensors under PyTorch's names. */
  private tensors(w: LinearWeights): Record<string, Tensor> {
    const out: Record<string, Tensor> = { weight: { shape: [this.outFeatures, this.inFeatures], data: w.weight } };
    if (w.bias) out.bias = { shape: [this.outFeatures], data: w.bias };
    return out;
  }

  /** { weight [out, in], bias [out] } as PyTorch names them (copies). */
  toTorch(): Record<string, Tensor> {
    this.live();
    return this.tensors(this.engine.toTorch());
  }

  /** Accumulated gradients under the same names (copies). */
  grads(): Record<string, Tensor> {
    this.live();
    return this.tensors(this.engine.grads());
  }

  /** Sets the gradients to zero. */
  zeroGrad(): void {
    this.live();
    this.engine.zeroGrad();
  }

  /** Parameters and gradients as flat buffers, for optimizers and clipping. */
  parameterBuffers(): ParamBuffer[] {
    this.live();
    return this.engine.parameterBuffers(() => this.live());
  }

  /** Frees the wasm memory. Safe to call twice; any later call throws `code 'disposed'`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.dispose();
    this.saved = null;
  }

  /** `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
