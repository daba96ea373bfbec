// src/reference/quant-layer.ts: a whole quantized recurrent layer (stacked, bidirectional), inference only, in plain
// TypeScript: the mirror of src/quantized-engine.ts's wasm engine and the quantized layer's reference backend. As
// layer.ts's recurrentForward, with every matrix product quantized (product.ts): per layer and direction, the input
// projection xz = input W_ihᵀ + b_ih, where a deeper layer's W_ih is split into one block per direction of the layer
// below (src/quant-layout.ts quantModelLayout says why) and each block multiplies that direction's outputs, quantized
// on their own, the blocks' products added in f32 in order; then the cell's step function with quantized W_hh (and
// W_hr). Data is time-major: x (T,B,I), output (T,B,D*P), hN (L*D,B,P), cN (L*D,B,H).
import type { Spec } from "../architecture.js";
import { directions, gateCount, layerInputSize, outputSize } from "../architecture.js";
import { firstOutputSlot, firstSlot, interleaveOutputs, lastSlot, stateIndex } from "../sequence.js";
import { lstmForward, lstmGateWidth } from "./lstm.js";
import { gruForward, gruGateWidth } from "./gru.js";
import { rnnForward } from "./rnn.js";
import { product, type QuantMatrix } from "./product.js";
import type { SequenceResult } from "./layer.js";

/** Layer l, direction d's quantized weights: W_ih's column blocks, W_hh, W_hr (or null), float biases (or null). */
export interface QuantRun {
  wih: QuantMatrix[];
  whh: QuantMatrix;
  whr: QuantMatrix | null;
  bih: Float32Array | null;
  bhh: Float32Array | null;
}

export function quantizedForward(
  spec: Spec, runs: QuantRun[][], x: Float32Array, h0: Float32Array | null, c0: Float32Array | null,
  T: number, B: number, lengths: Int32Array | null,
): SequenceResult<Float32Array> {
  const D = directions(spec), H = spec.hiddenSize, P = outputSize(spec), G = gateCount(spec.kind);
  const L = spec.numLayers;
  const hN = new Float32Array(L * D * B * P);
  const cN = spec.kind === "lstm" ? new Float32Array(L * D * B * H) : null;
  let input = x;
  for (let l = 0; l < L; l++) {
    const output = new Float32Array(T * B * D * P);
    for (let d = 0; d < D; d++) {
      const s = stateIndex(l, d, D);
      const w = runs[l][d];
      // xz = input W_ihᵀ + b_ih, one product per column block of W_ih, added in order
      const xz = new Float32Array(T * B * G * H);
      const blockK = l === 0 ? layerInputSize(spec, 0) : P;
      const tmp = new Float32Array(T * B * G * H);
      w.wih.forEach((wih, e) => {
        product(e === 0 ? xz : tmp, G * H, input.subarray(e * blockK), l === 0 ? blockK : D * P, wih, blockK, e === 0 ? w.bih : null,
          T * B, blockK, G * H);
        if (e > 0) for (let i = 0; i < xz.length; i++) xz[i] = Math.fround(xz[i] + tmp[i]);
      });
      const reverse = d === 1;
      const hs = new Float32Array((T + 1) * B * P);
      if (h0) hs.set(h0.subarray(s * B * P, (s + 1) * B * P), firstSlot(d, T) * B * P);
      if (spec.kind === "lstm") {
        const cs = new Float32Array((T + 1) * B * H);
        if (c0) cs.set(c0.subarray(s * B * H, (s + 1) * B * H), firstSlot(d, T) * B * H);
        const gates = new Float32Array(T * B * lstmGateWidth(H, spec.projSize > 0));
        lstmForward(hs, cs, gates, xz, w.whh, w.bhh, w.whr, T, B, H, P, reverse, lengths);
        cN!.set(cs.subarray(lastSlot(d, T) * B * H, (lastSlot(d, T) + 1) * B * H), s * B * H);
      } else if (spec.kind === "gru") {
        gruForward(hs, new Float32Array(T * B * gruGateWidth(H)), xz, w.whh, w.bhh, T, B, H, spec.resetAfter, reverse, lengths);
      } else {
        rnnForward(hs, xz, w.whh, w.bhh, T, B, H, spec.nonlinearity === "relu", reverse, lengths);
      }
      hN.set(hs.subarray(lastSlot(d, T) * B * P, (lastSlot(d, T) + 1) * B * P), s * B * P);
      interleaveOutputs(output, hs.subarray(firstOutputSlot(d) * B * P), P, d, D, P, T, B, lengths);
    }
    input = output;
  }
  return { output: input, hN, cN };
}
