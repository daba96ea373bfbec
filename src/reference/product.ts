// src/reference/product.ts: the mirror of assembly/product.ts: the recurrent product of the step functions (lstm.ts,
// gru.ts, rnn.ts), with float32 weights (gemm.ts) or quantized ones (quant.ts), so each cell's gate maths is written
// once. Weights are in PyTorch's own layout, (N, K) with row stride ldw; a quantized matrix holds its quantized values
// in that layout with one scale per row. The activations are quantized at each product (the kernels quantize a row
// block once for the products that share it: the same values, since quantizing is a function of the row).
import { gemm } from "./gemm.js";
import type { Vec } from "./math.js";
import { gemmQ16, gemmQ8, quantizeQ16, quantizeQ8 } from "./quant.js";

/** A matrix quantized per row (quant.ts quantizeRows): `Q16` int16 values with `qmax` levels, or `Q8` int8 values. */
export interface QuantMatrix {
  form: "q16" | "q8";
  /** (N, K) quantized values, PyTorch's layout. */
  q: Int16Array | Int8Array;
  /** (N) f32 row scales. */
  scale: Float32Array;
  /** The activations' levels for Q16 (127 int8, 2047 int12); Q8's are 63 always. */
  qmax: number;
}

/** A step function's weights: float (PyTorch's layout) or quantized. */
export type Weights = Vec | QuantMatrix;

function isQuant(w: Weights): w is QuantMatrix {
  return (w as QuantMatrix).form !== undefined;
}

/** Rows n0.. of a matrix with row stride ldw (GRU's n block). */
export function rowsOf(w: Weights, n0: number, ldw: number): Weights {
  if (!isQuant(w)) return w.subarray(n0 * ldw);
  return { ...w, q: w.q.subarray(n0 * ldw), scale: w.scale.subarray(n0) };
}

/** out (M, N) = a · Wᵀ + bias, a (M, K) with row stride lda, w (N, K) with row stride ldw: gemm or the quantized product. */
export function product(
  out: Vec, ldo: number, a: Vec, lda: number, w: Weights, ldw: number, bias: Vec | null,
  M: number, K: number, N: number,
): void {
  if (!isQuant(w)) {
    gemm(out, ldo, a, lda, w, ldw, bias, M, K, N, false);
    return;
  }
  const sa = new Float32Array(M);
  if (w.form === "q16") {
    const aq = new Int16Array(M * K);
    quantizeQ16(aq, K, sa, a, lda, M, K, w.qmax);
    gemmQ16(out, ldo, aq, K, sa, w.q as Int16Array, ldw, w.scale, bias, M, K, N, false);
  } else {
    const aq = new Uint8Array(M * K);
    quantizeQ8(aq, K, sa, a, lda, M, K);
    gemmQ8(out, ldo, aq, K, sa, w.q as Int8Array, ldw, w.scale, bias, M, K, N, false);
  }
}
