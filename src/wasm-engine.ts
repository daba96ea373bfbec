// src/wasm-engine.ts: runs a recurrent stack on the wasm kernels. Owns two blocks of wasm memory: the packed
// parameters (layout.ts) and a workspace that grows only when a call needs more than it has. Per layer and
// direction: one gemm for the input projection of all timesteps, then one kernel call for the whole sequence.
// Layer k > 0 reads layer k-1's hidden states in place (each direction's block is a (T,B,Pp) matrix), so
// nothing is copied between layers.
import type { Engine, EngineResult } from "./engine.js";
import type { Runtime } from "./runtime.js";
import type { Spec } from "./spec.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "./spec.js";
import { pack, paramLayout, roundUp4, unpack, workspaceLayout, type ParamLayout } from "./layout.js";

export class WasmEngine implements Engine {
  private readonly rt: Runtime;
  private readonly spec: Spec;
  private readonly layout: ParamLayout;
  private paramsPtr: number;
  private workPtr = 0;
  private workFloats = 0;

  constructor(rt: Runtime, spec: Spec, params: Record<string, Float32Array>) {
    this.rt = rt;
    this.spec = spec;
    this.layout = paramLayout(spec);
    this.paramsPtr = rt.alloc(this.layout.totalFloats * 4);
    const block = rt.f32(this.paramsPtr, this.layout.totalFloats);
    for (const p of this.layout.params) {
      pack(block.subarray(p.offset, p.offset + p.size), params[p.name], p.G, p.R, p.C);
    }
  }

  toTorch(): Record<string, Float32Array> {
    const block = this.rt.f32(this.paramsPtr, this.layout.totalFloats);
    const out: Record<string, Float32Array> = {};
    for (const p of this.layout.params) out[p.name] = unpack(block.subarray(p.offset, p.offset + p.size), p.G, p.R, p.C);
    return out;
  }

  /** Byte address of parameter `role` of layer l, direction d, or 0 when the model has none. */
  private param(role: string, l: number, d: number): number {
    const p = this.layout.byName.get(role + paramSuffix(this.spec, l, d));
    return p ? this.paramsPtr + p.offset * 4 : 0;
  }

  private workspace(floats: number): number {
    if (floats > this.workFloats) {
      if (this.workPtr) this.rt.free(this.workPtr);
      this.workPtr = 0;
      this.workPtr = this.rt.alloc(floats * 4);
      this.workFloats = floats;
    }
    return this.workPtr;
  }

  forward(x: Float32Array, T: number, B: number, h0: Float32Array | null, c0: Float32Array | null): EngineResult {
    const { rt, spec } = this;
    const k = rt.kernels;
    const D = directions(spec);
    const L = spec.numLayers;
    const H = spec.hiddenSize, Hp = roundUp4(H);
    const P = outputSize(spec), Pp = roundUp4(P);
    const GHp = gateCount(spec.kind) * Hp;
    const I = layerInputSize(spec, 0);
    const ws = workspaceLayout(spec, T, B);
    const base = this.workspace(ws.totalFloats);
    const at = (floatOffset: number) => base + floatOffset * 4;
    const parities = ws.hs.length;
    const hN = new Float32Array(L * D * B * P);
    const cN = spec.kind === "lstm" ? new Float32Array(L * D * B * H) : null;

    rt.f32(at(ws.x), T * B * I).set(x);
    for (let l = 0; l < L; l++) {
      const hsOf = ws.hs[l % parities];
      for (let d = 0; d < D; d++) {
        // xz = input · W_ihᵀ + b_ih for all T*B rows
        const wih = this.param("weight_ih", l, d), bih = this.param("bias_ih", l, d);
        if (l === 0) {
          k.gemm(at(ws.xz), GHp, at(ws.x), I, wih, GHp, bih, T * B, I, GHp, 0);
        } else {
          const prev = ws.hs[(l - 1) % parities];
          for (let e = 0; e < D; e++) {
            const outputs = at(prev[e]) + (e === 1 ? 0 : B * Pp * 4); // slots 1..T forward, 0..T-1 reverse
            k.gemm(at(ws.xz), GHp, outputs, Pp, wih + e * P * GHp * 4, GHp, e === 0 ? bih : 0, T * B, P, GHp, e);
          }
        }
        const first = d === 1 ? T : 0, last = d === 1 ? 0 : T;
        const state = (l * D + d) * B;
        const hs = at(hsOf[d]);
        writeRows(rt.f32(hs + first * B * Pp * 4, B * Pp), h0, state * P, B, P, Pp);
        const whh = this.param("weight_hh", l, d), bhh = this.param("bias_hh", l, d);
        if (spec.kind === "lstm") {
          writeRows(rt.f32(at(ws.cs) + first * B * Hp * 4, B * Hp), c0, state * H, B, H, Hp);
          k.lstmForward(hs, at(ws.cs), at(ws.gates), at(ws.xz), whh, bhh, this.param("weight_hr", l, d), T, B, H, P, d, 0);
          readRows(cN!, state * H, rt.f32(at(ws.cs) + last * B * Hp * 4, B * Hp), B, H, Hp);
        } else if (spec.kind === "gru") {
          k.gruForward(hs, at(ws.gates), at(ws.xz), whh, bhh, T, B, H, spec.resetAfter ? 1 : 0, d, 0);
        } else {
          k.rnnForward(hs, at(ws.xz), whh, bhh, T, B, H, spec.nonlinearity === "relu" ? 1 : 0, d);
        }
        readRows(hN, state * P, rt.f32(hs + last * B * Pp * 4, B * Pp), B, P, Pp);
      }
    }
    // the last layer's outputs, interleaved by direction: (T,B,D*P)
    const output = new Float32Array(T * B * D * P);
    const hsLast = ws.hs[(L - 1) % parities];
    for (let d = 0; d < D; d++) {
      const from = d === 1 ? 0 : 1;
      const hs = rt.f32(at(hsLast[d]) + from * B * Pp * 4, T * B * Pp);
      for (let r = 0; r < T * B; r++) output.set(hs.subarray(r * Pp, r * Pp + P), (r * D + d) * P);
    }
    return { output, hN, cN };
  }

  dispose(): void {
    if (this.workPtr) this.rt.free(this.workPtr);
    if (this.paramsPtr) this.rt.free(this.paramsPtr);
    this.workPtr = this.paramsPtr = 0;
    this.workFloats = 0;
  }
}

/** Copies B rows of n values from src (at offset) into dst rows of stride np, zeroing the padding; zeros if src is null. */
function writeRows(dst: Float32Array, src: Float32Array | null, offset: number, B: number, n: number, np: number): void {
  dst.fill(0);
  if (!src) return;
  for (let b = 0; b < B; b++) dst.set(src.subarray(offset + b * n, offset + (b + 1) * n), b * np);
}

/** Copies B rows of n values from src rows of stride np into dst at offset. */
function readRows(dst: Float32Array, offset: number, src: Float32Array, B: number, n: number, np: number): void {
  for (let b = 0; b < B; b++) dst.set(src.subarray(b * np, b * np + n), offset + b * n);
}
