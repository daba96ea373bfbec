// src/engine.ts: what a layer needs from a backend: run the whole stack over a time-major sequence (keeping a
// tape when training), backpropagate through it, and hold parameters and their gradients. Two backends:
// WasmEngine (src/wasm-engine.ts, the kernels) and ReferenceEngine (below, the plain-TypeScript oracle, for
// runtimes without WebAssembly and for checking).
import type { Spec } from "./architecture.js";
import { RnnError } from "./errors.js";
import { recurrentBackward, recurrentForward, type Tape } from "./reference/layer.js";
import { arrayBuffer, type ParamBuffer } from "./train/params.js";

/** Time-major results: output (T,B,D*P), hN (L*D,B,P), cN (L*D,B,H) for an LSTM. */
export interface EngineResult {
  output: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
}

/** Time-major gradients: dx (T,B,I), dh0 (L*D,B,P), dc0 (L*D,B,H) for an LSTM. */
export interface EngineGradients {
  dx: Float32Array;
  dh0: Float32Array;
  dc0: Float32Array | null;
}

export interface Engine {
  /** x is (T,B,I) time-major; h0 (L*D,B,P) and c0 (L*D,B,H) or null for zeros. `train` keeps a tape for backward. */
  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null, train: boolean,
    lengths: Int32Array | null): EngineResult;
  /** Backpropagates the last training forward; null upstream gradients mean zero. Parameter gradients accumulate. */
  backward(dOutput: Float32Array | null, dhN: Float32Array | null, dcN: Float32Array | null): EngineGradients;
  /** Parameters in PyTorch's layout, by state_dict name (fresh copies). */
  toTorch(): Record<string, Float32Array>;
  /** Accumulated parameter gradients in PyTorch's layout (fresh copies; zeros before any backward). */
  grads(): Record<string, Float32Array>;
  zeroGrad(): void;
  /** The parameters and gradients as flat buffers for optimizers; `alive` throws once the owner is disposed. */
  parameterBuffers(alive: () => void): ParamBuffer[];
  dispose(): void;
}

export function noTape(): RnnError {
  return new RnnError("state", "backward() needs a forward(input, { train: true }) first, and runs once per such forward");
}

export class ReferenceEngine implements Engine {
  private readonly spec: Spec;
  private params: Record<string, Float32Array>;
  private gradients: Record<string, Float32Array>;
  private tape: Tape | null = null;

  constructor(spec: Spec, params: Record<string, Float32Array>) {
    this.spec = spec;
    this.params = copy(params);
    this.gradients = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length)]));
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null, train: boolean,
    lengths: Int32Array | null): EngineResult {
    const tape = train ? ({} as Tape) : undefined;
    const r = recurrentForward(this.spec, this.params, x, h0, c0, T, B, (n) => new Float32Array(n), tape, lengths);
    this.tape = tape ?? null;
    return r;
  }

  backward(dOutput: Float32Array | null, dhN: Float32Array | null, dcN: Float32Array | null): EngineGradients {
    if (!this.tape) throw noTape();
    const tape = this.tape;
    this.tape = null;
    return recurrentBackward(this.spec, this.params, tape, dOutput, dhN, dcN, this.gradients, (n) => new Float32Array(n));
  }

  toTorch(): Record<string, Float32Array> {
    return copy(this.params);
  }

  grads(): Record<string, Float32Array> {
    return copy(this.gradients);
  }

  zeroGrad(): void {
    for (const g of Object.values(this.gradients)) g.fill(0);
  }

  parameterBuffers(alive: () => void): ParamBuffer[] {
    return Object.keys(this.params).map((k) => arrayBuffer(this.params[k], this.gradients[k], alive));
  }

  dispose(): void {
    this.params = {};
    this.gradients = {};
    this.tape = null;
  }
}

function copy(r: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.slice()]));
}
