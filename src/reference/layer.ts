// src/reference/layer.ts: a whole recurrent layer (stacked, bidirectional) in plain TypeScript, on PyTorch's own
// parameter layout, forward and backward. The oracle for the wasm engine and the fallback backend where wasm
// cannot run. Per layer and direction: xz = input W_ihᵀ + b_ih for all timesteps (one gemm), then the cell's
// sequence function, as src/wasm-engine.ts drives the kernels; the slot, state, padding and interleaving rules
// are src/sequence.ts's, shared with it. Data is time-major: x (T,B,I), output (T,B,D*P), hN (L*D,B,P),
// cN (L*D,B,H).
import type { Spec } from "../architecture.js";
import { directions, gateCount, layerInputSize, outputSize, paramSuffix } from "../architecture.js";
import { firstOutputSlot, firstReadSlot, firstSlot, interleaveOutputs, lastSlot, splitOutputGradient, stateIndex } from "../sequence.js";
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

/** One direction's states and gates: what its backward needs from its forward. */
export interface RunTape {
  hs: Vec; // (T+1,B,P)
  cs: Vec | null; // (T+1,B,H), LSTM
  gates: Vec | null; // (T,B,width), LSTM and GRU
}

/** What backward needs from forward: each layer's input and each direction's states and gates. */
export interface Tape {
  T: number;
  B: number;
  lengths: Int32Array | null;
  inputs: Vec[];                               // per layer, (T,B,I_l)
  runs: RunTape[][];                           // per layer, per direction
}

/** The sizes of a call: directions, hidden and output sizes, gates, T, B, lengths, and the array maker. */
interface Call<V extends Vec> {
  spec: Spec;
  D: number;
  H: number;
  P: number;
  G: number;
  T: number;
  B: number;
  lengths: Int32Array | null;
  make: (n: number) => V;
}

function callOf<V extends Vec>(spec: Spec, T: number, B: number, lengths: Int32Array | null, make: (n: number) => V): Call<V> {
  return { spec, D: directions(spec), H: spec.hiddenSize, P: outputSize(spec), G: gateCount(spec.kind), T, B, lengths, make };
}

/** Layer l, direction d's parameters by role (null when the model has none). */
function weightsOf(params: Record<string, Vec>, spec: Spec, l: number, d: number): (role: string) => Vec | null {
  return (role) => params[role + paramSuffix(spec, l, d)] ?? null;
}

/** Block s of B rows of n values in a state array (L*D, B, n). */
function stateRows(states: Vec, s: number, B: number, n: number): Vec {
  return states.subarray(s * B * n, (s + 1) * B * n);
}

/** xz = input · W_ihᵀ + b_ih for all T*B rows: (T,B,G*H). */
function projectInput<V extends Vec>(c: Call<V>, input: Vec, I: number, w: (role: string) => Vec | null): V {
  const xz = c.make(c.T * c.B * c.G * c.H);
  gemm(xz, c.G * c.H, input, I, w("weight_ih")!, I, w("bias_ih"), c.T * c.B, I, c.G * c.H, false);
  return xz;
}

export function recurrentForward<V extends Vec>(
  spec: Spec, params: Record<string, Vec>,
  x: Vec, h0: Vec | null, c0: Vec | null,
  T: number, B: number, make: (n: number) => V, tape?: Tape,
  lengths: Int32Array | null = null,
): SequenceResult<V> {
  const c = callOf(spec, T, B, lengths, make);
  const { D, H, P } = c;
  const L = spec.numLayers;
  const hN = make(L * D * B * P);
  const cN = spec.kind === "lstm" ? make(L * D * B * H) : null;
  if (tape) Object.assign(tape, { T, B, lengths, inputs: [], runs: [] });
  let input: Vec = x;
  for (let l = 0; l < L; l++) {
    const output = make(T * B * D * P);
    tape?.inputs.push(input);
    tape?.runs.push([]);
    for (let d = 0; d < D; d++) {
      const s = stateIndex(l, d, D);
      const xz = projectInput(c, input, layerInputSize(spec, l), weightsOf(params, spec, l, d));
      const run = forwardDirection(c, xz, weightsOf(params, spec, l, d), d, h0 && stateRows(h0, s, B, P), c0 && stateRows(c0, s, B, H));
      tape?.runs[l].push(run);
      hN.set(stateRows(run.hs, lastSlot(d, T), B, P), s * B * P);
      if (cN) cN.set(stateRows(run.cs!, lastSlot(d, T), B, H), s * B * H);
      interleaveOutputs(output, run.hs.subarray(firstOutputSlot(d) * B * P), P, d, D, P, T, B, lengths);
    }
    input = output;
  }
  return { output: input as V, hN, cN };
}

/** One direction's recurrence over all T steps from its input projection xz and initial states (null: zeros). */
function forwardDirection<V extends Vec>(c: Call<V>, xz: Vec, w: (role: string) => Vec | null, d: number,
  h0: Vec | null, c0: Vec | null): RunTape {
  const { spec, T, B, H, P, make, lengths } = c;
  const reverse = d === 1;
  const hs = make((T + 1) * B * P);
  if (h0) hs.set(h0, firstSlot(d, T) * B * P);
  if (spec.kind === "lstm") {
    const cs = make((T + 1) * B * H);
    if (c0) cs.set(c0, firstSlot(d, T) * B * H);
    const gates = make(T * B * lstmGateWidth(H, spec.projSize > 0));
    lstmForward(hs, cs, gates, xz, w("weight_hh")!, w("bias_hh"), w("weight_hr"), T, B, H, P, reverse, lengths);
    return { hs, cs, gates };
  }
  if (spec.kind === "gru") {
    const gates = make(T * B * gruGateWidth(H));
    gruForward(hs, gates, xz, w("weight_hh")!, w("bias_hh"), T, B, H, spec.resetAfter, reverse, lengths);
    return { hs, cs: null, gates };
  }
  rnnForward(hs, xz, w("weight_hh")!, w("bias_hh"), T, B, H, spec.nonlinearity === "relu", reverse, lengths);
  return { hs, cs: null, gates: null };
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
  const c = callOf(spec, T, B, tape.lengths, make);
  const { D, H, P } = c;
  const L = spec.numLayers;
  const dh0 = make(L * D * B * P);
  const dc0 = spec.kind === "lstm" ? make(L * D * B * H) : null;
  let dOut: Vec = dOutput ?? make(T * B * D * P);
  for (let l = L - 1; l >= 0; l--) {
    const I = layerInputSize(spec, l);
    const dIn = make(T * B * I);
    for (let d = 0; d < D; d++) {
      const s = stateIndex(l, d, D);
      const dhs = make(T * B * P);
      splitOutputGradient(dhs, P, dOut, d, D, P, T, B, tape.lengths);
      const dh = make(B * P);
      if (dhN) dh.set(stateRows(dhN, s, B, P));
      const dc = spec.kind === "lstm" ? make(B * H) : null;
      if (dc && dcN) dc.set(stateRows(dcN, s, B, H));
      const run = tape.runs[l][d];
      const dz = backwardDirection(c, run, dhs, dh, dc, weightsOf(params, spec, l, d), weightsOf(grads, spec, l, d), d);
      if (dc) dc0!.set(dc, s * B * H);
      dh0.set(dh, s * B * P);
      weightGradients(c, run, dz, tape.inputs[l], I, weightsOf(grads, spec, l, d), d);
      gemmBackwardInput(dIn, I, dz.dxz, c.G * H, weightsOf(params, spec, l, d)("weight_ih")!, I, T * B, I, c.G * H, true);
    }
    dOut = dIn;
  }
  return { dx: dOut as V, dh0, dc0 };
}

/**
 * One direction's backpropagation through time: dhs (T,B,P) in, the gradient from above; out, the total. dh, dc
 * in, the final state's gradient; out, the initial state's. Returns d of the input side's pre-activations (dxz)
 * and of the recurrent side's (dzh: the GRU's own, dxz for the others). Adds dW_hr for an LSTM with a projection.
 */
function backwardDirection<V extends Vec>(c: Call<V>, run: RunTape, dhs: Vec, dh: Vec, dc: Vec | null,
  w: (role: string) => Vec | null, g: (role: string) => Vec | null, d: number): { dxz: Vec; dzh: Vec } {
  const { spec, T, B, H, P, G, make, lengths } = c;
  const { hs, cs, gates } = run;
  const reverse = d === 1;
  const dxz = make(T * B * G * H);
  if (spec.kind === "lstm") {
    const Wr = w("weight_hr");
    lstmBackward(dxz, dhs, dh, dc!, make(B * H), cs!, gates!, w("weight_hh")!, Wr, T, B, H, P, reverse, lengths);
    if (Wr) gemmBackwardWeight(g("weight_hr")!, H, gates!.subarray(4 * H), lstmGateWidth(H, true), dhs, P, T * B, H, P);
    return { dxz, dzh: dxz };
  }
  if (spec.kind === "gru") {
    const dzh = make(T * B * 3 * H);
    gruBackward(dxz, dzh, dhs, dh, make(B * H), hs, gates!, w("weight_hh")!, T, B, H, spec.resetAfter, reverse, lengths);
    return { dxz, dzh };
  }
  rnnBackward(dxz, dhs, dh, hs, w("weight_hh")!, T, B, H, spec.nonlinearity === "relu", reverse, lengths);
  return { dxz, dzh: dxz };
}

/** The weight and bias gradients of one direction over all timesteps at once, ADDED into `g`'s tensors. */
function weightGradients<V extends Vec>(c: Call<V>, run: RunTape, dz: { dxz: Vec; dzh: Vec }, input: Vec,
  I: number, g: (role: string) => Vec | null, d: number): void {
  const { spec, T, B, H, P, G } = c;
  const { dxz, dzh } = dz;
  const hsPrev = run.hs.subarray(firstReadSlot(d) * B * P); // h_{t-1} for step t, as T*B rows
  const dWh = g("weight_hh")!;
  if (spec.kind === "gru" && !spec.resetAfter) {
    gemmBackwardWeight(dWh, P, hsPrev, P, dzh, G * H, T * B, P, 2 * H);
    gemmBackwardWeight(dWh.subarray(2 * H * P), P, run.gates!.subarray(4 * H), gruGateWidth(H), dzh.subarray(2 * H), G * H, T * B, H, H);
  } else {
    gemmBackwardWeight(dWh, P, hsPrev, P, dzh, G * H, T * B, P, G * H);
  }
  gemmBackwardWeight(g("weight_ih")!, I, input, I, dxz, G * H, T * B, I, G * H);
  if (spec.bias) {
    biasBackward(g("bias_ih")!, dxz, G * H, T * B, G * H);
    biasBackward(g("bias_hh")!, dzh, G * H, T * B, G * H);
  }
}
