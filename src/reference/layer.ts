// src/reference/layer.ts: a whole recurrent layer (stacked, bidirectional) in plain TypeScript, on PyTorch's own
// parameter layout, forward and backward. The oracle for the wasm engine and the fallback backend where wasm
// cannot run. Per layer and direction: xz = input W_ihᵀ + b_ih for all timesteps (one gemm), then the cell's
// sequence function, exactly as src/wasm-engine.ts drives the kernels. Data is time-major: x (T,B,I),
// output (T,B,D*P), hN (L*D,B,P), cN (L*D,B,H); the state of layer l, direction d is at index l*D + d.
import type { Spec } from "../architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "../architecture.js";
import { gemm, gemmBackwardInput, gemmBackwardWeight } from "./gemm.js";
import { biasBackward, type Vec } from "./math.js";
import { lstmBackward, lstmForward, lstmGateWidth } from "./lstm.js";
import { gruBackward, gruForward, gruGateWidth } from "./gru.js";
import { rnnBackward, rnnForward } from "./rnn.js";

export interface SequenceResult<V extends Vec> {
  output: V;
  hN: V;
  cN: V | null;
}

/** What backward needs from forward: each layer's input and each direction's states and gates. */
export interface Tape {
  T: number;
  B: number;
  lengths: Int32Array | null;
  inputs: Vec[];                               // per layer, (T,B,I_l)
  runs: { hs: Vec; cs: Vec | null; gates: Vec | null }[][]; // per layer, per direction
}

/** Slot of the state before the first step / after the last step of direction d (see assembly/lstm.ts). */
const firstSlot = (d: number, T: number) => (d === 1 ? T : 0);
const lastSlot = (d: number, T: number) => (d === 1 ? 0 : T);

export function recurrentForward<V extends Vec>(
  spec: Spec, params: Record<string, Vec>,
  x: Vec, h0: Vec | null, c0: Vec | null,
  T: number, B: number, make: (n: number) => V, tape?: Tape,
  lengths: Int32Array | null = null,
): SequenceResult<V> {
  const D = directions(spec);
  const H = spec.hiddenSize;
  const P = outputSize(spec);
  const G = gateCount(spec.kind);
  const L = spec.numLayers;
  const hN = make(L * D * B * P);
  const cN = spec.kind === "lstm" ? make(L * D * B * H) : null;
  if (tape) Object.assign(tape, { T, B, lengths, inputs: [], runs: [] });
  let input: Vec = x;
  for (let l = 0; l < L; l++) {
    const I = layerInputSize(spec, l);
    const output = make(T * B * D * P);
    tape?.inputs.push(input);
    tape?.runs.push([]);
    for (let d = 0; d < D; d++) {
      const p = (role: string) => params[role + paramSuffix(spec, l, d)] ?? null;
      const xz = make(T * B * G * H);
      gemm(xz, G * H, input, I, p("weight_ih")!, I, p("bias_ih"), T * B, I, G * H, false);
      const first = firstSlot(d, T), last = lastSlot(d, T);
      const hs = make((T + 1) * B * P);
      const state = (l * D + d) * B;
      if (h0) hs.set(h0.subarray(state * P, (state + B) * P), first * B * P);
      const reverse = d === 1;
      let cs: V | null = null, gates: V | null = null;
      if (spec.kind === "lstm") {
        cs = make((T + 1) * B * H);
        if (c0) cs.set(c0.subarray(state * H, (state + B) * H), first * B * H);
        gates = make(T * B * lstmGateWidth(H, spec.projSize > 0));
        lstmForward(hs, cs, gates, xz, p("weight_hh")!, p("bias_hh"), p("weight_hr"), T, B, H, P, reverse, lengths);
        cN!.set(cs.subarray(last * B * H, (last + 1) * B * H), state * H);
      } else if (spec.kind === "gru") {
        gates = make(T * B * gruGateWidth(H));
        gruForward(hs, gates, xz, p("weight_hh")!, p("bias_hh"), T, B, H, spec.resetAfter, reverse, lengths);
      } else {
        rnnForward(hs, xz, p("weight_hh")!, p("bias_hh"), T, B, H, spec.nonlinearity === "relu", reverse, lengths);
      }
      tape?.runs[l].push({ hs, cs, gates });
      hN.set(hs.subarray(last * B * P, (last + 1) * B * P), state * P);
      // outputs: slots 1..T forward, 0..T-1 reverse, into columns d*P.. of (T,B,D*P); zero past a row's end
      const from = d === 1 ? 0 : 1;
      for (let r = 0; r < T * B; r++) {
        if (lengths && Math.floor(r / B) >= lengths[r % B]) continue;
        output.set(hs.subarray((from * B + r) * P, (from * B + r + 1) * P), (r * D + d) * P);
      }
    }
    input = output;
  }
  return { output: input as V, hN, cN };
}

export interface SequenceGradients<V extends Vec> {
  dx: V;
  dh0: V;
  dc0: V | null;
}

/**
 * Backpropagation through time over a tape from recurrentForward. Upstream gradients may be null (zero).
 * Parameter gradients are ADDED into `grads` (PyTorch names, PyTorch layout), so they accumulate until zeroed.
 */
export function recurrentBackward<V extends Vec>(
  spec: Spec, params: Record<string, Vec>, tape: Tape,
  dOutput: Vec | null, dhN: Vec | null, dcN: Vec | null,
  grads: Record<string, Vec>, make: (n: number) => V,
): SequenceGradients<V> {
  const { T, B } = tape;
  const D = directions(spec);
  const H = spec.hiddenSize;
  const P = outputSize(spec);
  const G = gateCount(spec.kind);
  const L = spec.numLayers;
  const dh0 = make(L * D * B * P);
  const dc0 = spec.kind === "lstm" ? make(L * D * B * H) : null;
  let dOut: Vec = dOutput ?? make(T * B * D * P);
  for (let l = L - 1; l >= 0; l--) {
    const I = layerInputSize(spec, l);
    const input = tape.inputs[l];
    const dIn = make(T * B * I);
    for (let d = 0; d < D; d++) {
      const s = paramSuffix(spec, l, d);
      const { hs, cs, gates } = tape.runs[l][d];
      const state = (l * D + d) * B;
      const dhs = make(T * B * P);
      for (let r = 0; r < T * B; r++) {
        if (tape.lengths && Math.floor(r / B) >= tape.lengths[r % B]) continue; // padding outputs have no gradient
        dhs.set(dOut.subarray((r * D + d) * P, (r * D + d + 1) * P), r * P);
      }
      const dh = make(B * P);
      if (dhN) dh.set(dhN.subarray(state * P, (state + B) * P));
      const dxz = make(T * B * G * H);
      let dzh: Vec = dxz;
      const reverse = d === 1;
      const hsPrev = hs.subarray((reverse ? 1 : 0) * B * P); // h_{t-1} for step t, as T*B rows
      if (spec.kind === "lstm") {
        const dc = make(B * H);
        if (dcN) dc.set(dcN.subarray(state * H, (state + B) * H));
        const Wr = params["weight_hr" + s] ?? null;
        lstmBackward(dxz, dhs, dh, dc, make(B * H), cs!, gates!, params["weight_hh" + s], Wr, T, B, H, P, reverse, tape.lengths);
        dc0!.set(dc, state * H);
        if (Wr) gemmBackwardWeight(grads["weight_hr" + s], H, gates!.subarray(4 * H), lstmGateWidth(H, true), dhs, P, T * B, H, P);
      } else if (spec.kind === "gru") {
        dzh = make(T * B * 3 * H);
        gruBackward(dxz, dzh, dhs, dh, make(B * H), hs, gates!, params["weight_hh" + s], T, B, H, spec.resetAfter, reverse, tape.lengths);
      } else {
        rnnBackward(dxz, dhs, dh, hs, params["weight_hh" + s], T, B, H, spec.nonlinearity === "relu", reverse, tape.lengths);
      }
      dh0.set(dh, state * P);
      // weight and bias gradients over all timesteps at once
      const dWh = grads["weight_hh" + s];
      if (spec.kind === "gru" && !spec.resetAfter) {
        gemmBackwardWeight(dWh, P, hsPrev, P, dzh, G * H, T * B, P, 2 * H);
        gemmBackwardWeight(dWh.subarray(2 * H * P), P, gates!.subarray(4 * H), gruGateWidth(H), dzh.subarray(2 * H), G * H, T * B, H, H);
      } else {
        gemmBackwardWeight(dWh, P, hsPrev, P, dzh, G * H, T * B, P, G * H);
      }
      gemmBackwardWeight(grads["weight_ih" + s], I, input, I, dxz, G * H, T * B, I, G * H);
      if (spec.bias) {
        biasBackward(grads["bias_ih" + s], dxz, G * H, T * B, G * H);
        biasBackward(grads["bias_hh" + s], dzh, G * H, T * B, G * H);
      }
      gemmBackwardInput(dIn, I, dxz, G * H, params["weight_ih" + s], I, T * B, I, G * H, true);
    }
    dOut = dIn;
  }
  return { dx: dOut as V, dh0, dc0 };
}
