// src/serving/batch.ts: several single-sequence requests <-> one batched forward.
// Sizes as PyTorch names them: I inputSize, H hiddenSize, P projSize or H, L numLayers, D 2 when bidirectional,
// LD = D*L, B requests, T the longest request's steps, T_b request b's steps.
//   stack:  input_b [T_b, I]    -> x [T, B, I] (time-major; rows past T_b are zeros) and lengths[b] = T_b
//           h0_b [LD, P] / none -> h0 [LD, B, P] (zeros for a request without one); c0 likewise [LD, B, H]
//   split:  output [T, B, D*P]  -> output_b [T_b, D*P]      (the layer leaves steps past T_b at zero: dropped)
//           hN [LD, B, P]       -> hN_b [LD, P]; cN [LD, B, H] -> cN_b [LD, H]
// Every split-out array has its own ArrayBuffer, so one result can be transferred to another thread without
// detaching the others. The stacked arrays are made by zeros(), so a batch too big for one array is RnnError 'memory'.
import { zeros } from "../tensor.js";

/** What stacking needs of one request. */
export interface Stackable {
  input: Float32Array;
  steps: number;
  h0?: Float32Array;
  c0?: Float32Array;
}

/** requests' inputs as one time-major [T, B, I] array, with each request's length. */
export function stackInputs(requests: readonly Stackable[], T: number, I: number): { x: Float32Array; lengths: Int32Array } {
  const B = requests.length;
  const x = zeros(T * B * I, `a batch of ${B} sequences of up to ${T} steps`);
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const { input, steps } = requests[b];
    lengths[b] = steps;
    for (let t = 0; t < steps; t++) x.set(input.subarray(t * I, (t + 1) * I), (t * B + b) * I); // x[t, b, :] = input_b[t, :]
  }
  return { x, lengths };
}

/** One state per request, [LD, N] each (absent: zeros), as [LD, B, N]; null when no request has one. */
export function stackStates(states: readonly (Float32Array | undefined)[], LD: number, N: number): Float32Array | null {
  if (states.every((s) => s === undefined)) return null;
  const B = states.length;
  const out = zeros(LD * B * N, `the initial states of a batch of ${B} sequences`);
  for (let b = 0; b < B; b++) {
    const s = states[b];
    if (!s) continue;
    for (let l = 0; l < LD; l++) out.set(s.subarray(l * N, (l + 1) * N), (l * B + b) * N); // out[l, b, :] = s[l, :]
  }
  return out;
}

/** Request b's first `steps` rows of a time-major [T, B, F] array, as [steps, F] in `out` or a buffer of its own. */
export function splitSteps(y: Float32Array, b: number, steps: number, B: number, F: number, out: Float32Array = new Float32Array(steps * F)): Float32Array {
  for (let t = 0; t < steps; t++) out.set(y.subarray((t * B + b) * F, (t * B + b + 1) * F), t * F);
  return out;
}

/** Request b's state from [LD, B, N], as [LD, N] in a buffer of its own. */
export function splitState(s: Float32Array, b: number, LD: number, B: number, N: number): Float32Array {
  const out = new Float32Array(LD * N);
  for (let l = 0; l < LD; l++) out.set(s.subarray((l * B + b) * N, (l * B + b + 1) * N), l * N);
  return out;
}

/** Every request's rows one after another, [sum T_b, F] (the head's input: no padded rows to compute). */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
