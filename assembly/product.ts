// assembly/product.ts: the recurrent product of the step kernels (lstm.ts, gru.ts, rnn.ts), generic over the form
// of the weights, so the gate maths of each cell is written once and compiled three times:
//   F = f32  float32 weights packed in panels (gemm.ts):    out = a · W + bias
//   F = i16  the Q16 form (quant.ts, "int8" or "int12"):    aq, sa = quantizeQ16(a);  out = gemmQ16(aq, W) + bias
//   F = i8   the Q8 form (quant.ts, int8 x 7 bits):         aq, sa = quantizeQ8(a);   out = gemmQ8(aq, W) + bias
// The form is a type parameter, resolved when the compiler instantiates a kernel body: the float32 body holds no
// trace of the quantized forms (scripts/compare-wasm-functions.mjs shows the float32 exports compile as before).
// A quantized matrix is three pointers (src/quant-layout.ts quantMatrixLayout): its packed weights w, its row scales
// sw and, for Q8, its corrections corr; a float32 one is w alone. The quantized activations go to aq (M rows of the
// form's stride, quantRowStride) and sa (M) f32, the caller's workspace. Every activation row is quantized once per
// call of quantizeRows: a product that reuses rows (GRU's n block after its r, z blocks) skips it.
import { gemm } from "./gemm";
import { gemmQ16, gemmQ8, quantizeQ16, quantizeQ8 } from "./quant";

/** Row stride of quantized activations with K inputs, in the form's elements (src/quant-layout.ts quantRowStride). */
// @ts-ignore: decorator
@inline export function quantRowStride<F>(K: i32): i32 {
  return sizeof<F>() == 2 ? (K + 7) & ~7 : (K + 15) & ~15;
}

/** The panel stride (elements) of a packed matrix of K inputs (gemm.ts; quant-layout.ts quantPanelStride). */
// @ts-ignore: decorator
@inline export function panelStrideOf<F>(K: i32): i32 {
  if (sizeof<F>() == 4) return K * 8;
  if (sizeof<F>() == 2) return ((K + 1) & ~1) * 8;
  return ((K + 3) & ~3) * 8;
}

/** Bytes from a packed matrix of K inputs to its rows n0.. (n0 a multiple of 8: whole panels). */
// @ts-ignore: decorator
@inline export function rowsOffset<F>(n0: i32, K: i32): usize {
  return <usize>(n0 >> 3) * <usize>panelStrideOf<F>(K) * sizeof<F>();
}

/** Quantizes M rows of K activations (row stride lda) into aq, sa for the products that follow; nothing for f32. */
// @ts-ignore: decorator
@inline export function quantizeRows<F>(
  aq: usize, sa: usize,                 // out (M, quantRowStride) the form's lanes, (M) f32
  a: usize, lda: i32,                   // in  (M, K) f32, row stride lda
  M: i32, K: i32, qmax: i32,
): void {
  if (sizeof<F>() == 2) quantizeQ16(aq, quantRowStride<F>(K), sa, a, lda, M, K, qmax);
  else if (sizeof<F>() == 1) quantizeQ8(aq, quantRowStride<F>(K), sa, a, lda, M, K);
}

/**
 * out (M, N) = a · W + bias: the float32 gemm from a, or the quantized product from aq, sa (quantizeRows of the same
 * a, already done). w, wps, sw, corr: the matrix in its form (sw and corr unused for f32, corr unused for Q16).
 */
// @ts-ignore: decorator
@inline export function product<F>(
  out: usize, ldo: i32,                 // out (M, N) f32, row stride ldo
  a: usize, lda: i32,                   // in  (M, K) f32 (f32 form)
  aq: usize, sa: usize,                 // in  (M, quantRowStride) quantized a, (M) f32 (quantized forms)
  w: usize, wps: i32,                   // in  the packed matrix, its panel stride panelStrideOf<F>(K)
  sw: usize, corr: usize,               // in  its row scales, its Q8 corrections
  bias: usize,                          // in  (roundUp4(N)) f32, or 0
  M: i32, K: i32, N: i32,
): void {
  if (sizeof<F>() == 4) gemm(out, ldo, a, lda, w, wps, bias, M, K, N, 0);
  else if (sizeof<F>() == 2) gemmQ16(out, ldo, aq, quantRowStride<F>(K), sa, w, wps, sw, bias, M, K, N, 0);
  else gemmQ8(out, ldo, aq, quantRowStride<F>(K), sa, w, wps, sw, corr, bias, M, K, N, 0);
}
