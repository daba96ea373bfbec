// src/reference/layer.ts: a whole recurrent layer (stacked, bidirectional) in plain TypeScript, on PyTorch's own
// parameter layout. The oracle for the wasm engine and the fallback backend where wasm cannot run.
// Per layer and direction: xz = input W_ihᵀ + b_ih for all timesteps (one gemm), then the cell's sequence
// function, exactly as src/wasm-engine.ts drives the kernels. Data is time-major: x (T,B,I), output (T,B,D*P),
// hN (L*D,B,P), cN (L*D,B,H); the state of layer l, direction d sits at index l*D + d (PyTorch's order).
import type { Spec } from "../spec.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "../spec.js";
import { gemm, type Vec } from "./math.js";
import { lstmForward, lstmGateWidth } from "./lstm.js";
import { gruForward, gruGateWidth } from "./gru.js";
import { rnnForward } from "./rnn.js";

export interface SequenceResult<V extends Vec> {
  output: V;
  hN: V;
  cN: V | null;
}

export function recurrentForward<V extends Vec>(
  spec: Spec, params: Record<string, Vec>,
  x: Vec, h0: Vec | null, c0: Vec | null,
  T: number, B: number, make: (n: number) => V,
): SequenceResult<V> {
  const D = directions(spec);
  const H = spec.hiddenSize;
  const P = outputSize(spec);
  const G = gateCount(spec.kind);
  const L = spec.numLayers;
  const hN = make(L * D * B * P);
  const cN = spec.kind === "lstm" ? make(L * D * B * H) : null;
  let input: Vec = x;
  for (let l = 0; l < L; l++) {
    const I = layerInputSize(spec, l);
    const output = make(T * B * D * P);
    for (let d = 0; d < D; d++) {
      const p = (role: string) => params[role + paramSuffix(spec, l, d)] ?? null;
      const xz = make(T * B * G * H);
      gemm(xz, G * H, input, I, p("weight_ih")!, I, p("bias_ih"), T * B, I, G * H, false);
      const first = d === 1 ? T : 0;   // the slot that holds the initial state
      const last = d === 1 ? 0 : T;    // the slot that holds the final state
      const hs = make((T + 1) * B * P);
      const state = (l * D + d) * B;
      if (h0) hs.set(h0.subarray(state * P, (state + B) * P), first * B * P);
      const reverse = d === 1;
      if (spec.kind === "lstm") {
        const cs = make((T + 1) * B * H);
        if (c0) cs.set(c0.subarray(state * H, (state + B) * H), first * B * H);
        const gates = make(T * B * lstmGateWidth(H, spec.projSize > 0));
        lstmForward(hs, cs, gates, xz, p("weight_hh")!, p("bias_hh"), p("weight_hr"), T, B, H, P, reverse);
        cN!.set(cs.subarray(last * B * H, (last + 1) * B * H), state * H);
      } else if (spec.kind === "gru") {
        const gates = make(T * B * gruGateWidth(H));
        gruForward(hs, gates, xz, p("weight_hh")!, p("bias_hh"), T, B, H, spec.resetAfter, reverse);
      } else {
        rnnForward(hs, xz, p("weight_hh")!, p("bias_hh"), T, B, H, spec.nonlinearity === "relu", reverse);
      }
      hN.set(hs.subarray(last * B * P, (last + 1) * B * P), state * P);
      // outputs: slots 1..T forward, 0..T-1 reverse, into columns d*P.. of (T,B,D*P)
      const from = d === 1 ? 0 : 1;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const src = ((t + from) * B + b) * P;
          output.set(hs.subarray(src, src + P), ((t * B + b) * D + d) * P);
        }
      }
    }
    input = output;
  }
  return { output: input as V, hN, cN };
}
