// src/engine.ts: what a layer needs from a backend: run the whole stack over a time-major sequence, and hold
// the parameters. Two backends: WasmEngine (src/wasm-engine.ts, the kernels) and ReferenceEngine (below, the
// plain-TypeScript oracle, for runtimes without WebAssembly and for checking).
import type { Spec } from "./spec.js";
import { recurrentForward } from "./reference/layer.js";

/** Time-major results: output (T,B,D*P), hN (L*D,B,P), cN (L*D,B,H) for an LSTM. */
export interface EngineResult {
  output: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
}

export interface Engine {
  /** x is (T,B,I) time-major; h0 (L*D,B,P) and c0 (L*D,B,H) or null for zeros. */
  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null): EngineResult;
  /** Parameters in PyTorch's layout, by state_dict name (fresh copies). */
  toTorch(): Record<string, Float32Array>;
  dispose(): void;
}

export class ReferenceEngine implements Engine {
  private readonly spec: Spec;
  private params: Record<string, Float32Array>;

  constructor(spec: Spec, params: Record<string, Float32Array>) {
    this.spec = spec;
    this.params = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.slice()]));
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null): EngineResult {
    return recurrentForward(this.spec, this.params, x, h0, c0, T, B, (n) => new Float32Array(n));
  }

  toTorch(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.params).map(([k, v]) => [k, v.slice()]));
  }

  dispose(): void {
    this.params = {};
  }
}
