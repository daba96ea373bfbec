// src/recurrent-base.ts: what layers and cells share: a spec, an engine holding the parameters (WasmEngine or
// ReferenceEngine, chosen once in the constructor: src/backend.ts), and a lifetime. dispose() frees the wasm memory,
// is safe to call twice, and makes later use throw.
import { RnnError } from "./errors.js";
import type { Engine } from "./engine.js";
import { ReferenceEngine } from "./reference-engine.js";
import { WasmEngine } from "./wasm-engine.js";
import { backendRuntime, chooseBackend } from "./backend.js";
import { checkBlockSize, Runtime } from "./runtime.js";
import { fillUniform, mulberry32 } from "./random.js";
import { bytesOf, paramBlockFloats } from "./layout.js";
import { describeValue, nanPolicyOption, oneOf, seedOption } from "./options.js";
import { initBound, paramList, type Spec } from "./architecture.js";
import { numel, type NanPolicy, type Tensor } from "./tensor.js";
import { checkedByFromTorch, checkWeights, describeSpec, modelName, type WeightValue } from "./weights.js";
import type { ParamBuffer, Trainable } from "./param-buffer.js";

/** Options about where and how a layer or cell runs (not its architecture). */
export interface BackendOptions {
  /** 'wasm' (default) runs the kernels; 'reference' runs the plain-TypeScript implementation. */
  backend?: "wasm" | "reference";
  /** The wasm runtime to use; default: the one `init()` loaded. */
  runtime?: Runtime;
  /** Seed for the random initial weights (uniform in ±1/sqrt(hiddenSize), as PyTorch). Default: random. */
  seed?: number;
  /** NaN/Infinity in weights, inputs and states: 'error' (default) throws naming the tensor, 'propagate' computes on. */
  nanPolicy?: NanPolicy;
}

/** The keys of BackendOptions, for refusing unknown options. */
export const BACKEND_KEYS = ["backend", "runtime", "seed", "nanPolicy"] as const;

/** The backend options, checked: every value one the library knows, the runtime a real one. */
export function checkBackendOptions(o: BackendOptions): Required<Pick<BackendOptions, "backend" | "nanPolicy">> & BackendOptions {
  const backend = oneOf("backend", o.backend, ["wasm", "reference"] as const, "wasm");
  if (o.runtime !== undefined && !(o.runtime instanceof Runtime)) {
    throw new RnnError("unexpected", `runtime must be a Runtime from init() or createRuntime(), got ${describeValue(o.runtime)}`);
  }
  return { backend, runtime: o.runtime, seed: seedOption(o.seed), nanPolicy: nanPolicyOption(o.nanPolicy) };
}

/**
 * Refuses a model whose parameters one wasm block cannot hold, from its sizes alone (before any weight is drawn or
 * copied): the same bound for both backends, so a model built on one runs on the other.
 */
export function checkModelSize(spec: Spec): void {
  checkBlockSize(bytesOf(paramBlockFloats(spec)), `the parameters of ${modelName(spec)} with ${describeSpec(spec)}`, "use a smaller model");
}

export function randomParams(spec: Spec, seed: number | undefined): Record<string, Float32Array> {
  const next = mulberry32(seed ?? Math.floor(Math.random() * 2 ** 32));
  const bound = initBound(spec);
  const out: Record<string, Float32Array> = {};
  for (const p of paramList(spec)) out[p.name] = fillUniform(new Float32Array(numel(p.shape)), bound, next);
  return out;
}

export abstract class RecurrentBase implements Trainable {
  /** The architecture, with every default filled in. */
  readonly spec: Spec;
  /** 'wasm' or 'reference'. */
  readonly backend: "wasm" | "reference";
  protected readonly nanPolicy: NanPolicy;
  private engine: Engine | null;

  protected constructor(spec: Spec, options: BackendOptions, params?: Record<string, WeightValue>) {
    const o = checkBackendOptions(options);
    this.spec = spec;
    this.backend = o.backend;
    this.nanPolicy = o.nanPolicy;
    checkModelSize(spec);
    const runtime = backendRuntime(o.backend, o.runtime);
    const checkedUnder = params && checkedByFromTorch.get(params);
    if (params) checkedByFromTorch.delete(params);
    const weights = params === undefined ? randomParams(spec, o.seed)
      : checkedUnder === o.nanPolicy ? params as Record<string, Float32Array> : checkWeights(spec, params, o.nanPolicy);
    this.engine = chooseBackend<Engine>(runtime, {
      wasm: (rt) => new WasmEngine(rt, spec, weights, modelName(spec)),
      reference: () => new ReferenceEngine(spec, weights),
    });
  }

  protected live(): Engine {
    if (!this.engine) throw new RnnError("disposed", `this ${this.spec.kind.toUpperCase()}${this.spec.cell ? "Cell" : ""} was disposed; create a new one`);
    return this.engine;
  }

  /** The parameters under PyTorch's state_dict names and shapes (copies). */
  toTorch(): Record<string, Tensor> {
    const flat = this.live().toTorch();
    const out: Record<string, Tensor> = {};
    for (const p of paramList(this.spec)) out[p.name] = { shape: [...p.shape], data: flat[p.name] };
    return out;
  }

  /** Accumulated parameter gradients under PyTorch's names and shapes (copies; zeros before any backward). */
  grads(): Record<string, Tensor> {
    const flat = this.live().grads();
    const out: Record<string, Tensor> = {};
    for (const p of paramList(this.spec)) out[p.name] = { shape: [...p.shape], data: flat[p.name] };
    return out;
  }

  /** Parameters and gradients as flat buffers, for optimizers and clipping. */
  parameterBuffers(): ParamBuffer[] {
    return this.live().parameterBuffers(() => void this.live());
  }

  /** Sets every parameter gradient to zero. */
  zeroGrad(): void {
    this.live().zeroGrad();
  }

  /** Frees the wasm memory. Safe to call twice; any later call on this object throws. */
  dispose(): void {
    if (!this.engine) return;
    this.engine.dispose();
    this.engine = null;
  }

  /** `dispose()`, for `using layer = new LSTM(...)`, which frees the layer when its block ends. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
