// src/engine.ts: what a recurrent layer or cell needs from a backend: run the whole stack over a time-major
// sequence (keeping a tape when training), backpropagate through it, and hold parameters and their gradients.
// Two implementations, picked once when the layer is made (src/backend.ts): WasmEngine (src/wasm-engine.ts, the
// kernels) and ReferenceEngine (src/reference-engine.ts, the plain-TypeScript oracle, for runtimes without
// WebAssembly and for checking).
import { RnnError } from "./errors.js";
import type { ParamBuffer } from "./param-buffer.js";

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

/**
 * Arrays a forward writes its results into instead of fresh ones (forward's `out` option): hN, cN as EngineResult's,
 * output (T,B,D*P), or (B,T,D*P) when `batchFirst`. Every element is written (padding steps get 0).
 */
export interface EngineOut extends EngineResult {
  batchFirst: boolean;
}

export interface Engine {
  /**
   * x is (T,B,I) time-major; h0 (L*D,B,P) and c0 (L*D,B,H) or null for zeros. `train` keeps a tape for backward.
   * With `into`, an engine may write its results there and return `into` itself; one that returns anything else
   * (the reference) leaves the copy to the caller.
   */
  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null, train: boolean,
    lengths: Int32Array | null, into?: EngineOut): EngineResult;
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
