// src/reference-engine.ts: the Engine (src/engine.ts) of the reference backend: src/reference/layer.ts on PyTorch's
// own parameter layout, one Float32Array per tensor and one per gradient.
import type { Spec } from "./architecture.js";
import { noTape, type Engine, type EngineGradients, type EngineResult } from "./engine.js";
import { arrayBuffer, type ParamBuffer } from "./param-buffer.js";
import { recurrentBackward, recurrentForward, type Tape } from "./reference/layer.js";

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
